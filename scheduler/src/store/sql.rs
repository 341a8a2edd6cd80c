//! What the SQL stores share: how values are written to columns, and the
//! run payload.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};
use crate::job::options::JobOptions;
use crate::store::record::JobRecord;
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
        let trigger: Trigger = from_json(&self.trigger, &what("trigger"))?;
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
