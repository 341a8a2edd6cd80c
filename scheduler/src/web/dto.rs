//! What the REST API reads and writes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::job::Job;
use crate::monitor::{Outcome, RunView};
use crate::trigger::TriggerSpec;

/// A job as the API lists it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    /// The id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The trigger in readable form: `cron[*/5 * * * *] Europe/Berlin`,
    /// `interval[1h30m]`, `date[2026-12-24T18:00:00Z]`.
    pub trigger: String,
    /// The trigger's time zone.
    pub zone: String,
    /// The next fire time; none when paused.
    pub next_run_time: Option<DateTime<Utc>>,
    /// Whether it is paused.
    pub paused: bool,
    /// Runs running now.
    pub running: u32,
    /// Its executor.
    pub executor: String,
    /// The registered function it runs (none for a closure).
    pub function: Option<String>,
    /// Its arguments, as JSON (none for a closure).
    pub args: Option<serde_json::Value>,
    /// How its last run ended (as this process saw it), if it ran.
    pub last_outcome: Option<Outcome>,
    /// When its last run ended.
    pub last_outcome_at: Option<DateTime<Utc>>,
}

impl JobView {
    pub(crate) fn new(job: &Job, last: Option<(Outcome, DateTime<Utc>)>) -> JobView {
        let (last_outcome, last_outcome_at) = match last {
            Some((o, at)) => (Some(o), Some(at)),
            None => (None, None),
        };
        JobView {
            id: job.id().to_owned(),
            name: job.name().to_owned(),
            trigger: crate::job::table::describe(job.trigger()),
            zone: job.trigger().zone().to_string(),
            next_run_time: job.next_run_time(),
            paused: job.is_paused(),
            running: job.running(),
            executor: job.options().executor().to_owned(),
            function: job.target().function_name().map(str::to_owned),
            args: job.target().args().cloned(),
            last_outcome,
            last_outcome_at,
        }
    }
}

/// One page of jobs.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct JobPageView {
    /// How many jobs match, over all pages.
    pub total: usize,
    /// The offset of this page.
    pub offset: usize,
    /// The page size asked for.
    pub limit: usize,
    /// The jobs, soonest next run first, paused last.
    pub jobs: Vec<JobView>,
}

/// A job and its recent runs.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct JobDetail {
    /// The job.
    pub job: JobView,
    /// Its most recent runs, newest first.
    pub runs: Vec<RunView>,
}

/// The answer to "run now".
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RunStarted {
    /// The id of the run started.
    pub run_id: u64,
}

/// Jobs in a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Jobs with a next run time.
    Scheduled,
    /// Paused jobs.
    Paused,
}

/// The filters and page of `GET api/jobs`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsParams {
    /// Skip this many jobs (default 0).
    #[param(minimum = 0)]
    pub offset: Option<usize>,
    /// At most this many jobs (1 to 1000, default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Only jobs whose id or name contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only scheduled or only paused jobs.
    pub state: Option<JobState>,
}

/// The filters of `GET api/runs`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunsParams {
    /// Only runs of this job.
    pub job: Option<String>,
    /// Only runs with this outcome.
    pub outcome: Option<Outcome>,
    /// At most this many runs (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// A schedule to preview.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The trigger, in text form.
    pub trigger: TriggerSpec,
    /// How many fire times (1 to 100, default 10).
    #[schema(minimum = 1, maximum = 100)]
    pub count: Option<usize>,
    /// Fire times strictly after this RFC 3339 instant (default: now).
    pub after: Option<String>,
}

/// The next fire times of a trigger.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Preview {
    /// The trigger in readable form.
    pub trigger: String,
    /// The fire times, RFC 3339 with the zone's offset at each.
    pub times: Vec<String>,
}
