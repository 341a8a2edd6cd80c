//! The public handle: `Scheduler`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::{broadcast, oneshot, watch};

use crate::actor::messages::*;
use crate::actor::SchedulerActor;
use crate::error::{Error, ErrorKind};
use crate::event::{Event, EventMask, EventStream};
use crate::handle::builder::SchedulerBuilder;
use crate::job::context::JobContext;
use crate::job::target::Target;
use crate::job::{Job, JobChanges, JobPage, JobQuery, JobSpec};
use crate::trigger::Trigger;

/// The handle to a running scheduler: `Clone + Send + Sync`, async methods for
/// use inside actix / tokio, and [`Scheduler::blocking`] for plain threads.
///
/// ```
/// use std::time::Duration;
/// use scheduler::{Scheduler, Target, Trigger};
///
/// actix_rt::System::new().block_on(async {
///     let sched = Scheduler::builder().start()?;
///     let id = sched
///         .add_job(Target::from_async(|_ctx| async { println!("tick") }))
///         .id("tick")
///         .trigger(Trigger::interval(Duration::from_secs(5))?)
///         .await?;
///     assert_eq!(sched.get_job(&id).await?.map(|j| j.id().to_owned()), Some("tick".to_owned()));
///     sched.shutdown(true).await
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Scheduler {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) addr: Addr<SchedulerActor>,
    pub(crate) events: broadcast::Sender<Event>,
    /// How many `EventStream`s are alive (shared with the actor).
    pub(crate) subscribers: Arc<std::sync::atomic::AtomicUsize>,
    pub(crate) stopped: watch::Receiver<bool>,
    pub(crate) arbiter: actix_rt::ArbiterHandle,
    pub(crate) admission: Arc<crate::actor::admission::Admission>,
    /// Set if the actor is gone without shutting down.
    pub(crate) lifecycle: Arc<crate::actor::lifecycle::Lifecycle>,
    /// The System of a background scheduler, stopped at shutdown.
    pub(crate) system: Mutex<Option<System>>,
    /// A durable store, if the scheduler has one (the job API goes there).
    pub(crate) durable: Option<Arc<crate::store::link::StoreLink>>,
    /// What the web view and the metrics show (feature `web`).
    #[cfg(feature = "web")]
    pub(crate) monitor: Arc<crate::monitor::Monitor>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("shut_down", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A builder.
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder::default()
    }

    pub(crate) fn set_system(&self, system: System) {
        if let Ok(mut s) = self.inner.system.lock() {
            *s = Some(system);
        }
    }

    async fn ask<M>(&self, msg: M) -> Result<M::Result, Error>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        SchedulerActor: Handler<M>,
    {
        self.inner.addr.send(msg).await.map_err(|_| self.gone())
    }

    /// The error for an actor that can no longer be reached: shut down, or
    /// stopped abnormally.
    fn gone(&self) -> Error {
        if self.inner.lifecycle.is_aborted() {
            Error::aborted()
        } else {
            Error::not_running()
        }
    }

    /// Adds a job running `target`; set its id, trigger and options on the
    /// returned builder, then `.await` it for the job's id.
    pub fn add_job(&self, target: impl Into<Target>) -> AddJob<'_> {
        AddJob {
            sched: self,
            spec: JobSpec::new(target),
        }
    }

    /// Adds many jobs in one message, all or nothing; returns their ids.
    ///
    /// Jobs are checked on the caller's thread (trigger, executor, registered
    /// function, data, options, duplicate id) and then handed to the scheduler,
    /// which keeps the order of everything sent to it: a later call on any
    /// handle sees them. Once this returns `Ok`, the jobs are the
    /// scheduler's: a `remove_all_jobs`, `remove_job` or `shutdown` racing
    /// with it either comes first (and the add fails with a typed error) or
    /// finds the jobs. Only a scheduler that dies abnormally
    /// ([`ErrorKind::Aborted`]) loses them.
    pub async fn add_jobs(&self, specs: Vec<JobSpec>) -> Result<Vec<Arc<str>>, Error> {
        if let Some(link) = self.link() {
            return self.durable_add(link, specs).await;
        }
        if self.inner.lifecycle.is_aborted() {
            return Err(Error::aborted());
        }
        let admission = &self.inner.admission;
        // Backpressure: at most MAX_IN_FLIGHT admitted jobs wait for the scheduler.
        let permits = admission
            .reserve(specs.len())
            .await
            .map_err(|_| self.gone())?;
        let addr = &self.inner.addr;
        let sent = admission.admit_then(specs, |admitted| {
            if !addr.connected() {
                return Err(self.gone());
            }
            addr.do_send(CommitJobs(admitted, permits));
            Ok(())
        });
        if sent.is_err() {
            admission.give_back(permits);
        }
        // Admission stopped because the actor died abnormally: say so.
        sent.map_err(|e| if e.is_not_running() { self.gone() } else { e })
    }

    /// Changes options, name, target or next run time of a job.
    pub async fn modify_job(&self, id: &str, changes: JobChanges) -> Result<Job, Error> {
        if let Some(link) = self.link() {
            return self.durable_modify(link, id, changes).await;
        }
        self.ask(ModifyJob(id.to_owned(), changes)).await?
    }

    /// Gives a job a new trigger; its next run is the trigger's first fire time from now.
    pub async fn reschedule_job(&self, id: &str, trigger: Trigger) -> Result<Job, Error> {
        if let Some(link) = self.link() {
            return self.durable_reschedule(link, id, trigger).await;
        }
        self.ask(RescheduleJob(id.to_owned(), trigger)).await?
    }

    /// Pauses a job (no next run time) until resumed.
    pub async fn pause_job(&self, id: &str) -> Result<Job, Error> {
        if let Some(link) = self.link() {
            return self.durable_pause(link, id).await;
        }
        self.ask(PauseJob(id.to_owned())).await?
    }

    /// Resumes a paused job from now; `None` if its trigger has finished (the job is removed).
    pub async fn resume_job(&self, id: &str) -> Result<Option<Job>, Error> {
        if let Some(link) = self.link() {
            return self.durable_resume(link, id).await;
        }
        self.ask(ResumeJob(id.to_owned())).await?
    }

    /// Removes a job. Runs in progress finish.
    pub async fn remove_job(&self, id: &str) -> Result<(), Error> {
        if let Some(link) = self.link() {
            return self.durable_remove(link, id).await;
        }
        self.ask(RemoveJob(id.to_owned())).await?
    }

    /// Removes every job.
    pub async fn remove_all_jobs(&self) -> Result<(), Error> {
        if let Some(link) = self.link() {
            return self.durable_remove_all(link).await;
        }
        self.ask(RemoveAllJobs).await
    }

    /// A job by id.
    pub async fn get_job(&self, id: &str) -> Result<Option<Job>, Error> {
        if let Some(link) = self.link() {
            return self.durable_get(link, id).await;
        }
        self.ask(GetJob(id.to_owned())).await
    }

    /// Every job, soonest first, paused ones last.
    pub async fn jobs(&self) -> Result<Vec<Job>, Error> {
        if let Some(link) = self.link() {
            return self.durable_jobs(link).await;
        }
        self.ask(ListJobs).await
    }

    /// One page of the jobs matching `query`, in the order of
    /// [`Scheduler::jobs`], and how many match in all. Only the page's jobs
    /// are copied out of the scheduler, so a list of 100 000 jobs stays fast.
    pub async fn jobs_page(&self, query: JobQuery) -> Result<JobPage, Error> {
        if let Some(link) = self.link() {
            return self.durable_jobs_page(link, query).await;
        }
        self.ask(ListJobsPage(query)).await?
    }

    /// How many jobs there are.
    pub async fn job_count(&self) -> Result<usize, Error> {
        if let Some(link) = self.link() {
            return self.durable_count(link).await;
        }
        self.ask(CountJobs).await
    }

    /// A table of the jobs: id, name, trigger, next run.
    pub async fn jobs_table(&self) -> Result<String, Error> {
        Ok(crate::job::table::table(&self.jobs().await?))
    }

    /// Prints [`Scheduler::jobs_table`] to stdout.
    pub async fn print_jobs(&self) -> Result<(), Error> {
        print!("{}", self.jobs_table().await?);
        Ok(())
    }

    /// Runs a job now, outside its schedule (respecting `max_instances`); returns the run id.
    pub async fn run_job_now(&self, id: &str) -> Result<u64, Error> {
        if let Some(link) = self.link() {
            return self.durable_run_now(link, id).await;
        }
        self.ask(RunNow(id.to_owned())).await?
    }

    /// The run history of a durable store, newest first: of job `job_id`,
    /// or of every job (`None`), at most `limit` runs. The memory store keeps
    /// no history ([`ErrorKind::Unsupported`]); events carry the same facts.
    pub async fn runs(
        &self,
        job_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<crate::store::RunRecord>, Error> {
        match self.link() {
            Some(link) => self.durable_runs(link, job_id, limit).await,
            None => Err(Error::new(
                ErrorKind::Unsupported,
                "the memory store keeps no run history; use a durable store (SqliteStore), \
                 or listen to the run events",
            )),
        }
    }

    /// Stops dispatching until [`Scheduler::resume`].
    pub async fn pause(&self) -> Result<(), Error> {
        self.ask(SetPaused(true)).await
    }

    /// Resumes dispatching; runs missed meanwhile follow the misfire rules.
    pub async fn resume(&self) -> Result<(), Error> {
        self.ask(SetPaused(false)).await
    }

    /// Makes the scheduler look at its queue now (after changing the clock, say).
    pub async fn wakeup(&self) -> Result<(), Error> {
        self.ask(Wakeup).await
    }

    /// Stops the executor `name` so that its supervisor restarts it: for an
    /// executor that is stuck. Its runs in flight are resolved as failed
    /// ([`crate::FailureKind::ExecutorRestarted`], retried if their job has
    /// retries left): async runs (also those waiting for a free place) are
    /// dropped, process runs' children killed (process runs still waiting
    /// for a worker stay queued). Blocking runs cannot be stopped, on a
    /// thread pool or on tokio's blocking threads: they go on and report
    /// when their threads return. Error: no executor has this name.
    ///
    /// ```
    /// # use scheduler::Scheduler;
    /// let sched = Scheduler::builder().start_background()?;
    /// sched.blocking().restart_executor("default")?;
    /// assert!(sched.blocking().restart_executor("nope").is_err());
    /// # sched.blocking().shutdown(true)?;
    /// # Ok::<(), scheduler::Error>(())
    /// ```
    pub async fn restart_executor(&self, name: &str) -> Result<(), Error> {
        self.ask(RestartExecutorNamed(name.to_owned())).await?
    }

    /// Shuts down: no new runs; with `wait`, waits for running jobs. Emits
    /// `SchedulerShutdown`. A background scheduler's thread ends too.
    /// Without `wait`, async runs are cancelled and process-pool children
    /// killed at once.
    pub async fn shutdown(&self, wait: bool) -> Result<(), Error> {
        self.shutdown_inner(wait, None).await
    }

    /// Shuts down, waiting for running jobs at most `deadline`; then their
    /// `JobContext` is cancelled and async jobs are dropped after a short
    /// grace. Blocking threads cannot be killed: they are left to finish.
    pub async fn shutdown_with_deadline(&self, deadline: Duration) -> Result<(), Error> {
        self.shutdown_inner(true, Some(deadline)).await
    }

    async fn shutdown_inner(&self, wait: bool, deadline: Option<Duration>) -> Result<(), Error> {
        self.inner.admission.stop_accepting();
        self.inner.admission.close();
        let (done, rx) = oneshot::channel();
        let sent = self
            .inner
            .addr
            .send(Shutdown {
                wait,
                deadline,
                done,
            })
            .await;
        // Drained only if the actor said so; an actor that is gone (its
        // System stopped, say) drained nothing, unless it had shut down before.
        let drained = match sent {
            Ok(()) => rx.await.is_ok(),
            Err(_) => false,
        };
        // A durable store's connections are closed on its own thread first.
        if let Some(link) = self.link() {
            link.close().await;
        }
        self.inner.arbiter.stop();
        let system = self.inner.system.lock().ok().and_then(|mut s| s.take());
        if let Some(system) = system {
            system.stop();
        }
        if drained || *self.inner.stopped.borrow() {
            Ok(())
        } else {
            Err(self.gone())
        }
    }

    /// Resolves once the scheduler has shut down.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.inner.stopped.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// Whether the scheduler has shut down, or stopped abnormally.
    pub fn is_shutdown(&self) -> bool {
        *self.inner.stopped.borrow() || self.inner.lifecycle.is_aborted()
    }

    /// A stream of every event from now on. To see what happens at start,
    /// subscribe on the builder instead ([`SchedulerBuilder::subscribe`]).
    /// A stream that falls more than the event capacity behind yields
    /// [`Event::Lagged`] with the number of events it missed.
    pub fn subscribe(&self) -> EventStream {
        EventStream::new(
            self.inner.events.subscribe(),
            self.inner.subscribers.clone(),
        )
    }

    /// Calls `listener` for each event in `mask` from now on (to see what
    /// happens at start, use [`SchedulerBuilder::listener`]).
    ///
    /// The contract: listeners run on the scheduler's own thread, in the
    /// middle of dispatching, so every microsecond a listener takes delays
    /// every job due at that moment. Keep it to a counter, a channel send or
    /// a log line; for slow work (a database, the network) take a
    /// [`Scheduler::subscribe`] stream, which a slow consumer cannot stall.
    /// A listener that panics is removed (the panic is logged once under
    /// the `scheduler::events` target) and the scheduler goes on.
    pub async fn add_listener(
        &self,
        mask: EventMask,
        listener: impl Fn(&Event) + Send + 'static,
    ) -> Result<(), Error> {
        self.ask(AddListener(mask, Box::new(listener))).await
    }

    /// The blocking variants of these methods, for plain threads.
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking { sched: self }
    }
}

/// A job being added: set options, then `.await` (or `.send_blocking()`).
#[must_use = "a job is added when the builder is awaited"]
pub struct AddJob<'a> {
    sched: &'a Scheduler,
    spec: JobSpec,
}

crate::job::spec::job_spec_setters!(AddJob<'_>, spec);

impl AddJob<'_> {
    /// Adds the job from a plain thread; returns its id.
    pub fn send_blocking(self) -> Result<String, Error> {
        let fut = self.into_future();
        crate::executor::block_on::block_on(fut)?
    }
}

impl<'a> IntoFuture for AddJob<'a> {
    type Output = Result<String, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let ids = self.sched.add_jobs(vec![self.spec]).await?;
            ids.into_iter()
                .next()
                .map(|id| id.to_string())
                .ok_or_else(|| Error::new(ErrorKind::NotRunning, "the scheduler added no job"))
        })
    }
}

/// Blocking variants of [`Scheduler`]'s methods. Each fails with
/// [`ErrorKind::BlockingInAsync`] when called from inside an async runtime.
pub struct Blocking<'a> {
    sched: &'a Scheduler,
}

macro_rules! blocking_methods {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl Blocking<'_> {
            $(
                $(#[$doc])*
                pub fn $name(&self, $($arg: $ty),*) -> Result<$ret, Error> {
                    crate::executor::block_on::block_on(self.sched.$name($($arg),*))?
                }
            )*
        }
    };
}

blocking_methods! {
    /// See [`Scheduler::add_jobs`].
    fn add_jobs(specs: Vec<JobSpec>) -> Vec<Arc<str>>;
    /// See [`Scheduler::modify_job`].
    fn modify_job(id: &str, changes: JobChanges) -> Job;
    /// See [`Scheduler::reschedule_job`].
    fn reschedule_job(id: &str, trigger: Trigger) -> Job;
    /// See [`Scheduler::pause_job`].
    fn pause_job(id: &str) -> Job;
    /// See [`Scheduler::resume_job`].
    fn resume_job(id: &str) -> Option<Job>;
    /// See [`Scheduler::remove_job`].
    fn remove_job(id: &str) -> ();
    /// See [`Scheduler::remove_all_jobs`].
    fn remove_all_jobs() -> ();
    /// See [`Scheduler::get_job`].
    fn get_job(id: &str) -> Option<Job>;
    /// See [`Scheduler::jobs`].
    fn jobs() -> Vec<Job>;
    /// See [`Scheduler::jobs_page`].
    fn jobs_page(query: JobQuery) -> JobPage;
    /// See [`Scheduler::job_count`].
    fn job_count() -> usize;
    /// See [`Scheduler::jobs_table`].
    fn jobs_table() -> String;
    /// See [`Scheduler::print_jobs`].
    fn print_jobs() -> ();
    /// See [`Scheduler::run_job_now`].
    fn run_job_now(id: &str) -> u64;
    /// See [`Scheduler::runs`].
    fn runs(job_id: Option<&str>, limit: usize) -> Vec<crate::store::RunRecord>;
    /// See [`Scheduler::pause`].
    fn pause() -> ();
    /// See [`Scheduler::resume`].
    fn resume() -> ();
    /// See [`Scheduler::wakeup`].
    fn wakeup() -> ();
    /// See [`Scheduler::restart_executor`].
    fn restart_executor(name: &str) -> ();
    /// See [`Scheduler::shutdown`].
    fn shutdown(wait: bool) -> ();
    /// See [`Scheduler::shutdown_with_deadline`].
    fn shutdown_with_deadline(deadline: Duration) -> ();
}

impl Blocking<'_> {
    /// See [`Scheduler::add_listener`].
    pub fn add_listener(
        &self,
        mask: EventMask,
        listener: impl Fn(&Event) + Send + 'static,
    ) -> Result<(), Error> {
        crate::executor::block_on::block_on(self.sched.add_listener(mask, listener))?
    }

    /// See [`Scheduler::add_job`]; finish with `.send_blocking()`.
    pub fn add_job(&self, target: impl Into<Target>) -> AddJob<'_> {
        self.sched.add_job(target)
    }
}

impl JobContext {
    /// The handle of the scheduler running this job, to add, change or
    /// remove jobs from inside a job (the seed's "start a timed task when a
    /// task is executed"). Works from async jobs (`.await` its methods) and
    /// blocking jobs (its [`Scheduler::blocking`] methods) on every
    /// in-process executor.
    ///
    /// Errors: [`ErrorKind::Unsupported`] in a process-pool worker, which
    /// runs in another process than its scheduler; [`ErrorKind::NotRunning`]
    /// once the scheduler is gone.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scheduler::{JobContext, Target, Trigger};
    ///
    /// async fn place_order(ctx: JobContext) -> Result<(), scheduler::Error> {
    ///     let sched = ctx.scheduler()?;
    ///     sched
    ///         .add_job(Target::from_async(|_ctx| async { println!("reminder") }))
    ///         .trigger(Trigger::after(Duration::from_secs(60)))
    ///         .await?;
    ///     Ok(())
    /// }
    /// # let _ = place_order;
    /// ```
    pub fn scheduler(&self) -> Result<Scheduler, Error> {
        let any = self.handle_slot()?;
        let inner = any.downcast::<Inner>().map_err(|_| {
            Error::new(
                ErrorKind::NotRunning,
                "the scheduler handle has another type",
            )
        })?;
        Ok(Scheduler { inner })
    }
}
