//! Admitting jobs: everything that can be checked without the actor's state
//! is checked on the caller's thread, then the job is committed by the actor.
//!
//! `add_job` therefore costs the caller one validation and one message, not a
//! round trip to the scheduler's thread: the shared id set makes the
//! duplicate-id check synchronous, and the mailbox keeps the order, so a later
//! `get_job` from anyone sees the job.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::actor::fxhash::FxHashMap;
use crate::clock::SharedClock;
use crate::error::{Error, ErrorKind};
use crate::job::command::COMMAND_FUNCTION;
use crate::job::data::DataMap;
use crate::job::options::JobOptions;
use crate::job::registry::Registry;
use crate::job::target::{Inner as TargetInner, Target};
use crate::job::JobSpec;
use crate::trigger::Trigger;

/// How many admitted jobs may wait for the actor at once: a caller adding
/// faster than the scheduler inserts waits, instead of piling jobs up in memory.
const MAX_IN_FLIGHT: usize = 65_536;

/// The slot of an id that is reserved but not yet inserted by the actor.
pub(crate) const RESERVED: u32 = u32::MAX;

/// A checked job, ready for the actor to insert: plain data, from which
/// the actor builds its own entry.
pub(crate) struct Admitted {
    pub(crate) id: Arc<str>,
    pub(crate) trigger: Trigger,
    /// Resolved (a registered function found in the registry).
    pub(crate) target: Target,
    pub(crate) opts: Arc<JobOptions>,
    /// The first fire time; `None` = added paused.
    pub(crate) next_run: Option<DateTime<Utc>>,
    /// The executor's index in the scheduler's list.
    pub(crate) executor: u16,
    pub(crate) run_on_start: bool,
    pub(crate) replace: bool,
}

/// What the handle and the actor share to admit jobs.
pub(crate) struct Admission {
    pub(crate) clock: SharedClock,
    pub(crate) registry: Arc<Registry>,
    pub(crate) data: Arc<DataMap>,
    /// Executor names, and whether each is a process pool.
    pub(crate) executors: Vec<(Arc<str>, bool)>,
    /// Every job id: its slot in the actor, or [`RESERVED`] while on its way there.
    ids: Mutex<FxHashMap<Arc<str>, u32>>,
    /// False once shutdown began.
    accepting: AtomicBool,
    /// Admitted jobs on their way to the actor, at most [`MAX_IN_FLIGHT`].
    in_flight: tokio::sync::Semaphore,
    rng: AtomicU64,
    /// The options of the last job added with options of its own: jobs added
    /// alike share one allocation.
    last_options: Mutex<Arc<JobOptions>>,
    /// The trigger of the last job added: an equal one shares its compiled
    /// definition, so the actor can compute a fire time once for many jobs.
    last_trigger: Mutex<Option<Trigger>>,
}

impl Admission {
    pub(crate) fn new(
        clock: SharedClock,
        registry: Arc<Registry>,
        data: Arc<DataMap>,
        executors: Vec<(Arc<str>, bool)>,
    ) -> Admission {
        Admission {
            clock,
            registry,
            data,
            executors,
            ids: Mutex::new(FxHashMap::default()),
            accepting: AtomicBool::new(true),
            in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            rng: AtomicU64::new(0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id())),
            last_options: Mutex::new(JobOptions::shared_default()),
            last_trigger: Mutex::new(None),
        }
    }

    /// The id map, shared by handles (reservations) and the actor (slots).
    pub(crate) fn ids(&self) -> MutexGuard<'_, FxHashMap<Arc<str>, u32>> {
        match self.ids.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// `options` behind an `Arc`, shared with the job added before if equal.
    fn share(&self, options: JobOptions) -> Arc<JobOptions> {
        let mut last = match self.last_options.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if **last != options {
            *last = Arc::new(options);
        }
        last.clone()
    }

    /// `trigger`, or the last job's equal one (a clone sharing its
    /// definition). Only cron and interval triggers: they are what many jobs
    /// have alike, and what [`Trigger::is_same`] recognises.
    fn share_trigger(&self, trigger: Trigger) -> Trigger {
        if !matches!(trigger, Trigger::Cron(_) | Trigger::Interval(_)) {
            return trigger;
        }
        let mut last = match self.last_trigger.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match &*last {
            Some(t) if *t == trigger => t.clone(),
            _ => {
                *last = Some(trigger.clone());
                trigger
            }
        }
    }

    pub(crate) fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::Acquire)
    }

    /// No more jobs: under the id map's lock, so that every job admitted
    /// before is already in the actor's mailbox (see [`Admission::admit_then`]).
    pub(crate) fn stop_accepting(&self) {
        let _ids = self.ids();
        self.accepting.store(false, Ordering::Release);
    }

    /// Waits for room for `n` jobs on their way to the actor (a batch larger
    /// than the limit takes all of it); returns the permits taken.
    pub(crate) async fn reserve(&self, n: usize) -> Result<u32, Error> {
        let n = u32::try_from(n.clamp(1, MAX_IN_FLIGHT)).unwrap_or(1);
        let permit = self
            .in_flight
            .acquire_many(n)
            .await
            .map_err(|_| Error::not_running())?;
        permit.forget();
        Ok(n)
    }

    /// Returns permits (the actor committed, or the jobs were refused).
    pub(crate) fn give_back(&self, permits: u32) {
        self.in_flight.add_permits(permits as usize);
    }

    /// No more room: waiting callers get `NotRunning`.
    pub(crate) fn close(&self) {
        self.in_flight.close();
    }

    pub(crate) fn executor_index(&self, name: &str) -> Result<u16, Error> {
        self.executors
            .iter()
            .position(|(e, _)| &**e == name)
            .and_then(|i| u16::try_from(i).ok())
            .ok_or_else(|| {
                let known: Vec<&str> = self.executors.iter().map(|(e, _)| &**e).collect();
                Error::new(
                    ErrorKind::UnknownExecutor,
                    format!(
                        "no executor named `{name}`; this scheduler has {}",
                        known.join(", ")
                    ),
                )
            })
    }

    /// A process pool runs only registered functions, by name, without data.
    pub(crate) fn check_executor_fits(
        &self,
        executor: u16,
        target: &Target,
        job_id: &str,
    ) -> Result<(), Error> {
        let Some((name, process)) = self.executors.get(usize::from(executor)) else {
            return Ok(());
        };
        if target.is_command() {
            if *process {
                return Ok(());
            }
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "job `{job_id}`: a command runs in a process group of its own on a \
                     process-pool executor, and executor `{name}` is not one; add one with \
                     `Executor::process_pool` and name it in the job's `executor` option"
                ),
            ));
        }
        if !process {
            return Ok(());
        }
        let TargetInner::Registered(r) = &target.inner else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "job `{job_id}`: executor `{name}` is a process pool, which runs registered job \
                     functions (`#[job]`, `#[scheduled]`) by name in a worker process; a closure \
                     cannot cross into another process"
                ),
            ));
        };
        if let Some(req) = self.registry.get(&r.name).and_then(|d| d.data.first()) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "job `{job_id}` (`{}`) needs `Data<{}>`, which a process-pool worker \
                     (executor `{name}`) does not have; open the resource inside the job, or run \
                     it on another executor",
                    r.name, req.type_name
                ),
            ));
        }
        Ok(())
    }

    /// Resolves a registered target and checks the data it needs.
    pub(crate) fn resolve_target(&self, target: &mut Target, job_id: &str) -> Result<(), Error> {
        if let TargetInner::Registered(r) = &mut target.inner {
            if let Some(why) = &r.invalid {
                return Err(Error::new(
                    ErrorKind::Args,
                    format!("job `{job_id}`: {why}"),
                ));
            }
            if r.name == COMMAND_FUNCTION {
                return Ok(()); // run by the process pool itself, not looked up
            }
            let r = Arc::make_mut(r);
            let (name, func) = (&r.name, &mut r.func);
            let d = self.registry.get(name).ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownJob,
                    format!("job `{job_id}`: no job function is registered as `{name}`"),
                )
            })?;
            for req in d.data {
                if !self.data.contains((req.type_id)()) {
                    return Err(Error::new(
                        ErrorKind::MissingData,
                        format!(
                            "job `{job_id}` (`{}`): {}",
                            d.path,
                            self.data.missing(req.type_name)
                        ),
                    ));
                }
            }
            *func = Some(d.func);
        }
        Ok(())
    }

    fn new_id(&self) -> Arc<str> {
        // splitmix64 over a shared counter: unique per call, unpredictable enough for ids.
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Arc::from(format!("{:016x}", z ^ (z >> 31)))
    }

    /// Checks a spec and builds its entry; nothing changes.
    fn check(&self, spec: JobSpec, now: DateTime<Utc>) -> Result<Admitted, Error> {
        let id = match spec.id {
            Some(id) => id,
            None => self.new_id(),
        };
        // A job of a registered function is named after it unless named.
        let name = spec.name.or_else(|| match &spec.target.inner {
            TargetInner::Registered(r) => self.registry.display_name(&r.name),
            _ => None,
        });
        let options = match (spec.options, name) {
            (o, None) => o,
            (o, Some(name)) => Some(JobOptions {
                name: Some(name),
                ..o.unwrap_or_default()
            }),
        };
        let opts = match options {
            Some(o) => {
                o.check()
                    .map_err(|e| e.context(format_args!("job `{id}`")))?;
                self.share(o)
            }
            None => JobOptions::shared_default(),
        };
        let executor = self
            .executor_index(&opts.executor)
            .map_err(|e| e.context(format_args!("job `{id}`")))?;
        let mut target = spec.target;
        self.check_executor_fits(executor, &target, &id)?;
        self.resolve_target(&mut target, &id)?;
        let mut trigger = spec.trigger.unwrap_or_else(|| Trigger::at(now));
        trigger.resolve(now);
        let trigger = self.share_trigger(trigger);
        let next_run = match spec.next_run_time {
            Some(at) => at,
            None => Some(trigger.next_fire_time(None, now).ok_or_else(|| {
                Error::new(
                    ErrorKind::Trigger,
                    format!("job `{id}`: its trigger has no fire time left"),
                )
            })?),
        };
        Ok(Admitted {
            id,
            trigger,
            target,
            run_on_start: opts.run_on_start,
            opts,
            next_run,
            executor,
            replace: spec.replace_existing,
        })
    }

    /// Checks every spec, all or nothing, without reserving ids (a durable
    /// store keeps the ids: its unique key finds duplicates).
    pub(crate) fn check_all(&self, specs: Vec<JobSpec>) -> Result<Vec<Admitted>, Error> {
        if !self.is_accepting() {
            return Err(Error::not_running());
        }
        let now = self.clock.now();
        specs.into_iter().map(|s| self.check(s, now)).collect()
    }

    /// Checks every spec and reserves their ids, all or nothing.
    pub(crate) fn admit(&self, specs: Vec<JobSpec>) -> Result<Vec<Admitted>, Error> {
        let mut out = Vec::new();
        self.admit_then(specs, |a| {
            out = a;
            Ok(())
        })?;
        Ok(out)
    }

    /// Checks every spec, then, under the id map's lock, reserves their ids
    /// and calls `hand_over` with the jobs; returns their ids. Holding the
    /// lock makes admission and hand-over one step for
    /// [`Admission::stop_accepting`]: a job admitted before shutdown began is
    /// in the actor's mailbox ahead of the shutdown, so the actor never has
    /// to refuse an acknowledged job. If `hand_over` fails, the ids are
    /// given back.
    pub(crate) fn admit_then(
        &self,
        specs: Vec<JobSpec>,
        hand_over: impl FnOnce(Vec<Admitted>) -> Result<(), Error>,
    ) -> Result<Vec<Arc<str>>, Error> {
        if !self.is_accepting() {
            return Err(Error::not_running());
        }
        let now = self.clock.now();
        let admitted = specs
            .into_iter()
            .map(|s| self.check(s, now))
            .collect::<Result<Vec<_>, _>>()?;
        let out: Vec<Arc<str>> = admitted.iter().map(|a| a.id.clone()).collect();
        let mut ids = self.ids();
        if !self.is_accepting() {
            return Err(Error::not_running());
        }
        let mut fresh: Vec<usize> = Vec::with_capacity(admitted.len());
        for (i, a) in admitted.iter().enumerate() {
            let taken = ids.contains_key(&a.id);
            if (taken && !a.replace) || (!taken && ids.insert(a.id.clone(), RESERVED).is_some()) {
                for &f in &fresh {
                    ids.remove(&out[f]);
                }
                return Err(Error::new(
                    ErrorKind::DuplicateId,
                    format!("a job with id `{}` already exists", a.id),
                ));
            }
            if !taken {
                fresh.push(i);
            }
        }
        if let Err(e) = hand_over(admitted) {
            for &f in &fresh {
                ids.remove(&out[f]);
            }
            return Err(e);
        }
        drop(ids);
        Ok(out)
    }

    /// Gives ids back (the actor could not take the jobs).
    pub(crate) fn release(&self, admitted: &[Admitted]) {
        let mut ids = self.ids();
        for a in admitted {
            if ids.get(&a.id) == Some(&RESERVED) {
                ids.remove(&a.id);
            }
        }
    }
}
