//! Makes the scheduler's jobs what the config says: new jobs are added,
//! changed ones updated (a job whose trigger is unchanged keeps its next run
//! time, so a fire time missed while the daemon was down is still due),
//! removed ones removed. Running commands are never interrupted.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use scheduler::trigger::Trigger;
use scheduler::{CommandSpec, Error, Job, JobChanges, JobSpec, Retry, Scheduler, Target};

use crate::config::{CatchUp, Config, JobConfig, Overlap};

/// What a sync changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub(crate) added: Vec<String>,
    pub(crate) updated: Vec<String>,
    pub(crate) removed: Vec<String>,
    /// Not scheduled: their trigger has no fire time left, and ran already
    /// (a `date` in the past) or cannot run any more (an `end` passed).
    pub(crate) finished: Vec<String>,
    pub(crate) unchanged: usize,
}

/// The scheduler's view of a configured job.
struct Desired {
    trigger: Trigger,
    /// The config gives no `start`: an interval keeps the one it was
    /// first scheduled with.
    free_start: bool,
    target: Target,
    misfire_grace_time: Option<Duration>,
    coalesce: bool,
    max_instances: u32,
    jitter: Option<Duration>,
    timeout: Option<Duration>,
    retry: Option<Retry>,
    run_on_start: bool,
}

/// The command with the job's overlap policy (the process pool applies it).
fn command_of(job: &JobConfig) -> CommandSpec {
    job.command.clone().on_overlap(match job.overlap {
        Overlap::Queue => scheduler::Overlap::Queue,
        Overlap::Replace => scheduler::Overlap::Replace,
        Overlap::Skip | Overlap::Allow => scheduler::Overlap::Parallel,
    })
}

/// `max_instances` for "allow": as many as the pool can run.
fn parallel(max_parallel: usize) -> u32 {
    u32::try_from(max_parallel).unwrap_or(u32::MAX).max(1)
}

fn desired(job: &JobConfig, max_parallel: usize, now: DateTime<Utc>) -> Desired {
    let (trigger, free_start) = match &job.trigger {
        // Built when the config was read; alike triggers share one.
        Some(t) => (t.built.clone(), t.spec.start.is_none()),
        None => (Trigger::at(now), true),
    };
    let (coalesce, misfire_grace_time) = match job.catch_up {
        CatchUp::None => (true, Some(job.misfire_grace)),
        CatchUp::Once => (true, None),
        CatchUp::All => (false, None),
    };
    Desired {
        trigger,
        free_start,
        target: Target::command(command_of(job)),
        misfire_grace_time,
        coalesce,
        max_instances: match job.overlap {
            Overlap::Skip => 1,
            Overlap::Queue | Overlap::Replace => 2,
            Overlap::Allow => parallel(max_parallel),
        },
        jitter: job.jitter,
        timeout: job.timeout,
        retry: (job.retries > 0).then(|| {
            // Without a maximum, the delay doubles up to 5 minutes, or the
            // first delay when that is longer.
            let max = job
                .retry_max_delay
                .unwrap_or_else(|| job.retry_delay.max(Duration::from_secs(300)));
            Retry::new(job.retries)
                .initial(job.retry_delay)
                .max_delay(max)
        }),
        run_on_start: job.run_on_start,
    }
}

impl Desired {
    fn spec(self, id: &str) -> JobSpec {
        let mut spec = JobSpec::new(self.target)
            .id(id)
            .trigger(self.trigger)
            .misfire_grace_time(self.misfire_grace_time)
            .coalesce(self.coalesce)
            .max_instances(self.max_instances)
            .run_on_start(self.run_on_start)
            .replace_existing(true);
        if let Some(j) = self.jitter {
            spec = spec.jitter(j);
        }
        if let Some(t) = self.timeout {
            spec = spec.timeout(t);
        }
        if let Some(r) = self.retry {
            spec = spec.retry(r);
        }
        spec
    }

    fn same_options(&self, job: &Job) -> bool {
        let o = job.options();
        o.misfire_grace_time() == self.misfire_grace_time
            && o.coalesce() == self.coalesce
            && o.max_instances() == self.max_instances
            && o.jitter() == self.jitter
            && o.timeout() == self.timeout
            && o.retry() == self.retry
            && o.run_on_start() == self.run_on_start
    }

    fn same_trigger(&self, job: &Job) -> bool {
        let stored = job.trigger();
        if !self.free_start {
            return *stored == self.trigger;
        }
        match (stored, &self.trigger) {
            (Trigger::Interval(_), Trigger::Interval(_)) => {
                without_start(stored) == without_start(&self.trigger)
            }
            _ => *stored == self.trigger,
        }
    }
}

/// A job that is not in the store and has no fire time after `now`: done
/// if it ran already (a past `date` run once, then removed by the engine) or
/// if only an `end` stops it. A past `date` that never ran is still due
/// (`catch_up` decides).
async fn finished(
    sched: &Scheduler,
    job: &JobConfig,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    if trigger.next_after(now).is_some() {
        return Ok(false);
    }
    if !matches!(trigger, Trigger::Date(_)) {
        return Ok(true);
    }
    Ok(!sched.runs(Some(&job.id), 1).await?.is_empty())
}

/// Whether `job` ran since the machine booted (`btime` in /proc/stat).
async fn ran_since_boot(sched: &Scheduler, job: &str) -> Result<bool, Error> {
    let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|stat| {
        let secs = stat.lines().find_map(|l| l.strip_prefix("btime "))?;
        DateTime::from_timestamp(secs.trim().parse().ok()?, 0)
    });
    let Some(boot) = boot else {
        return Ok(false); // unknown: run, as at a boot
    };
    let last = sched.runs(Some(job), 1).await?;
    Ok(last
        .first()
        .is_some_and(|r| r.started_at.unwrap_or(r.scheduled_at) >= boot))
}

/// A trigger as JSON, its `start` left out.
fn without_start(t: &Trigger) -> Option<serde_json::Value> {
    let mut v = serde_json::to_value(t).ok()?;
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("start");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    Some(v)
}

/// Applies `config`. `at_start`: jobs without a trigger run now (they run
/// once at every start, like cron's `@reboot`); on a reload they are left alone.
pub(crate) async fn apply(
    sched: &Scheduler,
    config: &Config,
    at_start: bool,
) -> Result<Changes, Error> {
    let now = Utc::now();
    let mut existing: HashMap<String, Job> = sched
        .jobs()
        .await?
        .into_iter()
        .map(|j| (j.id().to_owned(), j))
        .collect();
    let mut changes = Changes::default();
    let mut new = Vec::new();
    let mut run_now = Vec::new();
    for job in &config.jobs {
        let old = existing.remove(&job.id);
        if job.trigger.is_none() && !at_start {
            // Runs at the next start; a reload never runs it, and what was
            // scheduled under its id before is dropped.
            if old.is_some() {
                sched.remove_job(&job.id).await?;
                changes.updated.push(job.id.clone());
            } else {
                changes.unchanged += 1;
            }
            continue;
        }
        if job.once_per_boot && ran_since_boot(sched, &job.id).await? {
            changes.finished.push(job.id.clone());
            if old.is_some() {
                sched.remove_job(&job.id).await?;
            }
            continue;
        }
        let want = desired(job, config.daemon.max_parallel, now);
        let Some(old) = old else {
            if job.trigger.is_some() && finished(sched, job, &want.trigger, now).await? {
                changes.finished.push(job.id.clone());
                continue;
            }
            changes.added.push(job.id.clone());
            new.push(want.spec(&job.id));
            continue;
        };
        if job.trigger.is_none() || want.run_on_start != old.options().run_on_start() {
            // Runs now again (at start), or a change only a new job carries.
            changes.updated.push(job.id.clone());
            new.push(want.spec(&job.id));
            continue;
        }
        if at_start && job.run_on_start {
            // Added jobs run at once by themselves; kept ones are asked to.
            run_now.push(job.id.clone());
        }
        let same_target = old.target().command_spec() == Some(command_of(job));
        let same_trigger = want.same_trigger(&old);
        let same_options = want.same_options(&old);
        if same_target && same_trigger && same_options {
            changes.unchanged += 1;
            continue;
        }
        if !same_trigger {
            sched.reschedule_job(&job.id, want.trigger.clone()).await?;
        }
        if !same_target || !same_options {
            let mut c = JobChanges::new()
                .misfire_grace_time(want.misfire_grace_time)
                .coalesce(want.coalesce)
                .max_instances(want.max_instances)
                .jitter(want.jitter)
                .timeout(want.timeout)
                .retry(want.retry);
            if !same_target {
                c = c.target(want.target);
            }
            sched.modify_job(&job.id, c).await?;
        }
        changes.updated.push(job.id.clone());
    }
    if !new.is_empty() {
        sched.add_jobs(new).await?;
    }
    for id in run_now {
        if let Err(e) = sched.run_job_now(&id).await {
            tracing::warn!(target: "scheduler::daemon", job_id = %id, "run_on_start: {e}");
        }
    }
    let mut gone: Vec<String> = existing.into_keys().collect();
    gone.sort();
    for id in gone {
        sched.remove_job(&id).await?;
        changes.removed.push(id);
    }
    Ok(changes)
}
