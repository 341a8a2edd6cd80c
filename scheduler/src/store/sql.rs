//! What the SQL stores share: how values are written to columns, and the
//! run payload.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};
use crate::job::options::JobOptions;
use crate::store::plan::{plan, Plan};
use crate::store::record::{Acquired, JobRecord, Missed};
use crate::trigger::Trigger;

/// An instant as microseconds since the Unix epoch: exact to the
/// microsecond, and year 9999 fits in an `i64` with room to spare.
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| {
        Error::new(
            ErrorKind::Store,
            format!("an instant in the store is out of range: {us} µs since the epoch"),
        )
    })
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T, what: &str) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| {
        Error::with_source(
            ErrorKind::Store,
            format!("cannot write {what} to the store"),
            e,
        )
    })
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, Error> {
    serde_json::from_str(s).map_err(|e| {
        Error::with_source(
            ErrorKind::Store,
            format!("cannot read {what} back from the store"),
            e,
        )
    })
}

/// The columns of a job row, written.
pub(crate) struct JobColumns {
    pub(crate) args: String,
    pub(crate) trigger: String,
    pub(crate) options: String,
    pub(crate) next_run_time: Option<i64>,
}

impl JobColumns {
    pub(crate) fn of(job: &JobRecord) -> Result<JobColumns, Error> {
        let what = |w: &str| format!("the {w} of job `{}`", job.id);
        let mut options = job.options.clone();
        // The name has a column of its own.
        options.name = None;
        Ok(JobColumns {
            args: to_json(&job.args, &what("arguments"))?,
            trigger: to_json(&job.trigger, &what("trigger"))?,
            options: to_json(&options, &what("options"))?,
            next_run_time: job.next_run_time.map(micros),
        })
    }
}

/// A job row, read.
pub(crate) struct JobRow {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) function: String,
    pub(crate) args: String,
    pub(crate) trigger: String,
    pub(crate) options: String,
    pub(crate) next_run_time: Option<i64>,
    pub(crate) static_job: bool,
    pub(crate) running: i64,
}

impl JobRow {
    pub(crate) fn record(self) -> Result<JobRecord, Error> {
        let what = |w: &str| format!("the {w} of job `{}`", self.id);
        let trigger = trigger_of(&self.trigger, || what("trigger"))?;
        let mut options: JobOptions = from_json(&self.options, &what("options"))?;
        options.name = self.name.as_deref().map(Arc::from);
        Ok(JobRecord {
            args: from_json(&self.args, &what("arguments"))?,
            trigger,
            options,
            next_run_time: self.next_run_time.map(from_micros).transpose()?,
            static_job: self.static_job,
            running: u32::try_from(self.running).unwrap_or(u32::MAX),
            id: self.id,
            name: self.name,
            function: self.function,
        })
    }
}

/// How many stored triggers [`trigger_of`] remembers per thread.
const TRIGGERS_REMEMBERED: usize = 1024;

/// A stored trigger read back, remembered by its text: every claim reads
/// the trigger of each due job, and compiling a crontab string costs more
/// than the rest of the claim (40 % of the store's thread with a thousand
/// jobs on `* * * * * *`), while jobs share few distinct triggers. Equal
/// texts are equal triggers; a compiled crontab is shared, not copied.
fn trigger_of(text: &str, what: impl FnOnce() -> String) -> Result<Trigger, Error> {
    thread_local! {
        static TRIGGERS: RefCell<HashMap<String, Trigger>> = RefCell::new(HashMap::new());
    }
    if let Some(t) = TRIGGERS.with(|m| m.borrow().get(text).cloned()) {
        return Ok(t);
    }
    let trigger: Trigger = from_json(text, &what())?;
    TRIGGERS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= TRIGGERS_REMEMBERED {
            m.clear();
        }
        m.insert(text.to_owned(), trigger.clone());
    });
    Ok(trigger)
}

/// What a run row carries so that any node can run it again (a retry, a
/// recovered run) after the job itself is gone or changed.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Payload {
    pub(crate) function: String,
    pub(crate) args: serde_json::Value,
    pub(crate) options: JobOptions,
}

/// The message of a failed store call, naming the store and what it did.
pub(crate) fn store_error(
    store: &str,
    doing: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::with_source(ErrorKind::Store, format!("{store} store: {doing}: {e}"), e)
}

impl Payload {
    /// The payload of a run of `job`, as the column holds it.
    pub(crate) fn of(job: &JobRecord) -> Result<String, Error> {
        to_json(
            &Payload {
                function: job.function.clone(),
                args: job.args.clone(),
                options: job.options.clone(),
            },
            "a run",
        )
    }
}

/// Plans a due job (see [`plan`]) and books its missed and skipped fire
/// times in `out`; `None` for a paused job.
pub(crate) fn decide(job: &JobRecord, now: DateTime<Utc>, out: &mut Acquired) -> Option<Plan> {
    let first = job.next_run_time?;
    let p = plan(&job.trigger, &job.options, first, now, job.running);
    for (t, count) in &p.missed {
        out.missed.push(Missed {
            job_id: job.id.clone(),
            scheduled_at: *t,
            count: *count,
        });
    }
    for t in &p.skipped {
        out.max_instances.push((job.id.clone(), *t));
    }
    out.waiting |= p.waiting;
    Some(p)
}

/// A static job as stored, against the one the code declares.
pub(crate) struct StoredStatic {
    pub(crate) name: Option<String>,
    pub(crate) function: String,
    pub(crate) args: String,
    pub(crate) trigger: String,
    pub(crate) options: String,
    pub(crate) next_run_time: Option<i64>,
}

impl StoredStatic {
    /// `None`: as declared, left alone (its next run time too). `Some(next)`:
    /// changed in the code, to be written with next run time `next` (a new
    /// trigger starts from now; a paused job stays paused).
    pub(crate) fn update(&self, job: &JobRecord, declared: &JobColumns) -> Option<Option<i64>> {
        let trigger_changed = self.trigger != declared.trigger;
        let same = !trigger_changed
            && self.name == job.name
            && self.function == job.function
            && self.args == declared.args
            && self.options == declared.options;
        if same {
            return None;
        }
        Some(match (trigger_changed, self.next_run_time) {
            (true, Some(_)) => declared.next_run_time,
            (_, n) => n,
        })
    }
}

/// A failure inside a transaction: the database's (maybe retried) or ours.
pub(crate) enum Failure {
    Db(sqlx::Error),
    Our(Error),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure::Db(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Our(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_trigger_read_twice_is_the_same_trigger_and_a_bad_one_an_error() {
        let cron = Trigger::cron("*/5 * * * * *").expect("valid");
        let text = to_json(&cron, "a trigger").expect("written");
        let first = trigger_of(&text, || "the trigger of job `a`".into()).expect("read");
        let again = trigger_of(&text, || "the trigger of job `b`".into()).expect("read");
        assert_eq!(first, cron);
        assert_eq!(again, cron);
        let other =
            to_json(&Trigger::cron("0 * * * * *").expect("valid"), "a trigger").expect("written");
        assert_ne!(trigger_of(&other, String::new).expect("read"), cron);
        let e = trigger_of("{\"cron\": 5}", || "the trigger of job `c`".into())
            .expect_err("not a trigger");
        assert_eq!(e.kind(), ErrorKind::Store);
        assert!(e.to_string().contains("the trigger of job `c`"), "{e}");
    }
}
