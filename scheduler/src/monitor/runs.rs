//! The runs in flight, the most recent finished runs, and each job's last outcome.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::event::{Event, FailureKind};
use crate::store::{RunRecord, RunStatus};

/// One run as the web view shows it: when it was due, when it started and
/// ended, how late and how long, and how it ended.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RunView {
    /// The run id.
    pub run_id: u64,
    /// The job id.
    pub job_id: String,
    /// The fire time.
    pub scheduled_at: DateTime<Utc>,
    /// When it was handed to its executor (none for a missed or skipped run).
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (none while it runs).
    pub finished_at: Option<DateTime<Utc>>,
    /// How late it started, in milliseconds.
    pub lateness_ms: Option<f64>,
    /// How long it ran, in milliseconds.
    pub duration_ms: Option<f64>,
    /// How it ended, or that it runs.
    pub outcome: Outcome,
    /// The attempt (1, or more for retries).
    pub attempt: u32,
    /// The error text of a failed run.
    pub error: Option<String>,
}

/// How a run ended (or stands).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Handed to its executor, not finished.
    Running,
    /// Waiting in a durable store (a retry, a recovered run, run now).
    Queued,
    /// Finished with `Ok`.
    Success,
    /// Returned an error.
    Error,
    /// Panicked.
    Panic,
    /// Passed its timeout.
    Timeout,
    /// Cancelled at shutdown.
    Cancelled,
    /// Its process died.
    Crash,
    /// Its executor was restarted.
    ExecutorRestarted,
    /// Later than its misfire grace time; not run.
    Missed,
    /// Skipped: `max_instances` runs were running.
    MaxInstances,
    /// Its node stopped renewing the lease; not run again.
    Abandoned,
}

impl Outcome {
    /// Its name, as in JSON and the metrics' `outcome` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Queued => "queued",
            Outcome::Success => "success",
            Outcome::Error => "error",
            Outcome::Panic => "panic",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
            Outcome::Crash => "crash",
            Outcome::ExecutorRestarted => "executor_restarted",
            Outcome::Missed => "missed",
            Outcome::MaxInstances => "max_instances",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// The outcome of a failure.
impl From<FailureKind> for Outcome {
    fn from(kind: FailureKind) -> Outcome {
        match kind {
            FailureKind::Error => Outcome::Error,
            FailureKind::Panic => Outcome::Panic,
            FailureKind::Timeout => Outcome::Timeout,
            FailureKind::Cancelled => Outcome::Cancelled,
            FailureKind::Crash => Outcome::Crash,
            FailureKind::ExecutorRestarted => Outcome::ExecutorRestarted,
        }
    }
}

impl From<&RunRecord> for RunView {
    fn from(r: &RunRecord) -> RunView {
        let outcome = match r.status {
            RunStatus::Queued => Outcome::Queued,
            RunStatus::Running => Outcome::Running,
            RunStatus::Succeeded => Outcome::Success,
            RunStatus::Failed => Outcome::Error,
            RunStatus::Abandoned => Outcome::Abandoned,
        };
        let ms = |d: chrono::TimeDelta| d.num_microseconds().map(|us| us as f64 / 1000.0);
        RunView {
            run_id: r.run_id,
            job_id: r.job_id.clone(),
            scheduled_at: r.scheduled_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            lateness_ms: r.started_at.and_then(|s| ms(s - r.scheduled_at)),
            duration_ms: r.started_at.zip(r.finished_at).and_then(|(s, f)| ms(f - s)),
            outcome,
            attempt: r.attempt,
            error: r.error.clone(),
        }
    }
}

/// A run submitted or finished, handed to the metrics.
pub(crate) struct Finished {
    pub(crate) job_id: Arc<str>,
    /// `None`: just handed to its executor.
    pub(crate) outcome: Option<Outcome>,
    pub(crate) lateness_s: Option<f64>,
    pub(crate) duration_s: Option<f64>,
}

/// The monitor's run state.
pub(crate) struct Runs {
    in_flight: HashMap<u64, RunView>,
    recent: VecDeque<RunView>,
    recent_cap: usize,
    last: HashMap<Arc<str>, (Outcome, DateTime<Utc>)>,
    last_cap: usize,
}

impl Runs {
    pub(crate) fn new(recent_cap: usize, last_cap: usize) -> Runs {
        Runs {
            in_flight: HashMap::new(),
            recent: VecDeque::with_capacity(recent_cap),
            recent_cap,
            last: HashMap::new(),
            last_cap,
        }
    }

    fn push(&mut self, run: RunView) {
        if self.recent.len() == self.recent_cap {
            self.recent.pop_front();
        }
        self.recent.push_back(run);
    }

    fn set_last(&mut self, job: &Arc<str>, outcome: Outcome, at: DateTime<Utc>) {
        if self.last.len() >= self.last_cap && !self.last.contains_key(job) {
            // Bounded: forget an arbitrary job's outcome rather than grow.
            if let Some(k) = self.last.keys().next().cloned() {
                self.last.remove(&k);
            }
        }
        self.last.insert(job.clone(), (outcome, at));
    }

    /// Applies an event; returns the run it finished, if any.
    pub(crate) fn record(&mut self, event: &Event, now: DateTime<Utc>) -> Option<Finished> {
        let secs = |d: chrono::TimeDelta| d.num_microseconds().map(|us| us as f64 / 1e6);
        match event {
            Event::JobSubmitted {
                job_id,
                run_id,
                scheduled_at,
                attempt,
            } => {
                let lateness = secs(now - *scheduled_at).map(|s| s.max(0.0));
                self.in_flight.insert(
                    *run_id,
                    RunView {
                        run_id: *run_id,
                        job_id: job_id.to_string(),
                        scheduled_at: *scheduled_at,
                        started_at: Some(now),
                        finished_at: None,
                        lateness_ms: lateness.map(|s| s * 1000.0),
                        duration_ms: None,
                        outcome: Outcome::Running,
                        attempt: *attempt,
                        error: None,
                    },
                );
                Some(Finished {
                    job_id: job_id.clone(),
                    outcome: None,
                    lateness_s: lateness,
                    duration_s: None,
                })
            }
            Event::JobExecuted {
                job_id,
                run_id,
                scheduled_at,
                attempt,
                duration,
            } => Some(self.finish(
                job_id,
                *run_id,
                *scheduled_at,
                *attempt,
                Outcome::Success,
                None,
                Some(duration.as_secs_f64()),
                now,
            )),
            Event::JobError {
                job_id,
                run_id,
                scheduled_at,
                attempt,
                kind,
                error,
                ..
            } => Some(self.finish(
                job_id,
                *run_id,
                *scheduled_at,
                *attempt,
                Outcome::from(*kind),
                Some(error.clone()),
                None,
                now,
            )),
            Event::JobMissed {
                job_id,
                scheduled_at,
                count,
            } => {
                self.skipped(
                    job_id,
                    *scheduled_at,
                    Outcome::Missed,
                    Some(format!("{count} fire time(s) missed")),
                    now,
                );
                None
            }
            Event::JobMaxInstances {
                job_id,
                scheduled_at,
            } => {
                self.skipped(job_id, *scheduled_at, Outcome::MaxInstances, None, now);
                None
            }
            Event::RunAbandoned {
                job_id,
                run_id,
                scheduled_at,
                node,
            } => Some(self.finish(
                job_id,
                *run_id,
                *scheduled_at,
                1,
                Outcome::Abandoned,
                Some(format!("node `{node}` stopped renewing its lease")),
                None,
                now,
            )),
            Event::JobRemoved { job_id } => {
                self.last.remove(job_id);
                None
            }
            Event::AllJobsRemoved => {
                self.last.clear();
                None
            }
            _ => None,
        }
    }

    fn skipped(
        &mut self,
        job_id: &Arc<str>,
        scheduled_at: DateTime<Utc>,
        outcome: Outcome,
        error: Option<String>,
        now: DateTime<Utc>,
    ) {
        self.set_last(job_id, outcome, now);
        self.push(RunView {
            run_id: 0,
            job_id: job_id.to_string(),
            scheduled_at,
            started_at: None,
            finished_at: Some(now),
            lateness_ms: None,
            duration_ms: None,
            outcome,
            attempt: 1,
            error,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        job_id: &Arc<str>,
        run_id: u64,
        scheduled_at: DateTime<Utc>,
        attempt: u32,
        outcome: Outcome,
        error: Option<String>,
        duration_s: Option<f64>,
        now: DateTime<Utc>,
    ) -> Finished {
        let mut run = self.in_flight.remove(&run_id).unwrap_or_else(|| RunView {
            run_id,
            job_id: job_id.to_string(),
            scheduled_at,
            started_at: None,
            finished_at: None,
            lateness_ms: None,
            duration_ms: None,
            outcome: Outcome::Running,
            attempt,
            error: None,
        });
        let duration_s = duration_s.or_else(|| {
            run.started_at
                .and_then(|s| (now - s).num_microseconds())
                .map(|us| us.max(0) as f64 / 1e6)
        });
        run.finished_at = Some(now);
        run.duration_ms = duration_s.map(|s| s * 1000.0);
        run.outcome = outcome;
        run.error = error;
        run.attempt = attempt;
        self.set_last(job_id, outcome, now);
        self.push(run);
        Finished {
            job_id: job_id.clone(),
            outcome: Some(outcome),
            lateness_s: None,
            duration_s,
        }
    }

    /// How many runs are in flight.
    pub(crate) fn running(&self) -> usize {
        self.in_flight.len()
    }

    /// A job's last outcome and when it happened.
    pub(crate) fn last(&self, job_id: &str) -> Option<(Outcome, DateTime<Utc>)> {
        self.last.get(job_id).cloned()
    }

    /// The newest runs first (in flight, then finished), of `job` if given,
    /// with `outcome` if given; at most `limit`.
    pub(crate) fn recent(
        &self,
        job: Option<&str>,
        outcome: Option<Outcome>,
        limit: usize,
    ) -> Vec<RunView> {
        let keep = |r: &&RunView| {
            job.is_none_or(|j| r.job_id == j) && outcome.is_none_or(|o| r.outcome == o)
        };
        let mut flying: Vec<&RunView> = self.in_flight.values().filter(keep).collect();
        flying.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then(b.run_id.cmp(&a.run_id))
        });
        flying
            .into_iter()
            .chain(self.recent.iter().rev().filter(keep))
            .take(limit)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_run_goes_from_running_to_its_outcome_and_the_ring_is_bounded() {
        let mut runs = Runs::new(2, 10);
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let job: Arc<str> = Arc::from("a");
        let submitted = Event::JobSubmitted {
            job_id: job.clone(),
            run_id: 7,
            scheduled_at: t0,
            attempt: 1,
        };
        let f = runs.record(&submitted, t0 + chrono::TimeDelta::milliseconds(3));
        assert_eq!(f.and_then(|f| f.lateness_s), Some(0.003));
        assert_eq!(runs.running(), 1);
        assert_eq!(runs.recent(Some("a"), Some(Outcome::Running), 10).len(), 1);
        let done = Event::JobExecuted {
            job_id: job.clone(),
            run_id: 7,
            scheduled_at: t0,
            attempt: 1,
            duration: Duration::from_millis(5),
        };
        runs.record(&done, t0 + chrono::TimeDelta::milliseconds(8));
        assert_eq!(runs.running(), 0);
        let r = runs.recent(None, None, 10);
        assert_eq!(r[0].outcome, Outcome::Success);
        assert_eq!(r[0].duration_ms, Some(5.0));
        assert_eq!(r[0].lateness_ms, Some(3.0));
        assert_eq!(runs.last("a").map(|l| l.0), Some(Outcome::Success));
        for _ in 0..3 {
            runs.record(
                &Event::JobMaxInstances {
                    job_id: job.clone(),
                    scheduled_at: t0,
                },
                t0,
            );
        }
        assert_eq!(
            runs.recent(None, None, 10).len(),
            2,
            "the ring keeps its capacity"
        );
        runs.record(&Event::JobRemoved { job_id: job }, t0);
        assert_eq!(runs.last("a"), None);
    }
}
