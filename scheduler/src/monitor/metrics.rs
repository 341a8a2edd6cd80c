//! Prometheus metrics, with the maintained `prometheus-client` crate.
//!
//! - `scheduler_runs_total{job, outcome}`: finished runs and skipped fire
//!   times (`success`, `error`, `panic`, `timeout`, `cancelled`, `crash`,
//!   `executor_restarted`, `abandoned`, `missed`, `max_instances`);
//! - `scheduler_run_lateness_seconds`, `scheduler_run_duration_seconds`:
//!   histograms;
//! - `scheduler_jobs{state}`, `scheduler_runs_running`: gauges, read at scrape;
//! - `scheduler_missed_runs_total`, `scheduler_max_instances_total`,
//!   `scheduler_store_errors_total`: counters.
//!
//! The `job` label is the job id for the first 1 000 jobs seen, then
//! `_other`: a per-request job id (`cancel-42`) must not grow the series
//! without bound.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::event::Event;
use crate::monitor::runs::{Finished, Outcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    job: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The metrics of one scheduler and the registry that encodes them.
pub(crate) struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    lateness: Histogram,
    duration: Histogram,
    jobs: Family<StateLabels, Gauge>,
    running: Gauge,
    missed: Counter,
    max_instances: Counter,
    store_errors: Counter,
    labelled: Mutex<HashSet<Arc<str>>>,
    max_labelled: usize,
}

impl Metrics {
    pub(crate) fn new(max_labelled: usize) -> Metrics {
        let mut registry = Registry::default();
        let runs = Family::<RunLabels, Counter>::default();
        // 0.5 ms .. ~16 s
        let lateness = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let duration = Histogram::new(exponential_buckets(0.001, 2.0, 18));
        let jobs = Family::<StateLabels, Gauge>::default();
        let running = Gauge::default();
        let missed = Counter::default();
        let max_instances = Counter::default();
        let store_errors = Counter::default();
        registry.register(
            "scheduler_runs",
            "Runs by job and outcome (skipped fire times included)",
            runs.clone(),
        );
        registry.register(
            "scheduler_run_lateness_seconds",
            "How late runs started after their fire time",
            lateness.clone(),
        );
        registry.register(
            "scheduler_run_duration_seconds",
            "How long runs ran",
            duration.clone(),
        );
        registry.register(
            "scheduler_jobs",
            "Jobs by state (scheduled, paused)",
            jobs.clone(),
        );
        registry.register("scheduler_runs_running", "Runs in flight", running.clone());
        registry.register(
            "scheduler_missed_runs",
            "Fire times missed (later than their misfire grace time)",
            missed.clone(),
        );
        registry.register(
            "scheduler_max_instances",
            "Fire times skipped because max_instances runs were running",
            max_instances.clone(),
        );
        registry.register(
            "scheduler_store_errors",
            "Times the job store could not be reached or a statement failed",
            store_errors.clone(),
        );
        Metrics {
            registry,
            runs,
            lateness,
            duration,
            jobs,
            running,
            missed,
            max_instances,
            store_errors,
            labelled: Mutex::default(),
            max_labelled,
        }
    }

    fn job_label(&self, job: &Arc<str>) -> String {
        let mut seen = self.labelled.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(job) {
            return job.to_string();
        }
        if seen.len() < self.max_labelled {
            seen.insert(job.clone());
            return job.to_string();
        }
        "_other".to_owned()
    }

    fn count(&self, job: &Arc<str>, outcome: Outcome, n: u64) {
        let labels = RunLabels {
            job: self.job_label(job),
            outcome: outcome.as_str().to_owned(),
        };
        self.runs.get_or_create(&labels).inc_by(n);
    }

    pub(crate) fn record(&self, event: &Event, finished: Option<&Finished>) {
        match (event, finished) {
            (_, Some(f)) => match f.outcome {
                None => {
                    if let Some(l) = f.lateness_s {
                        self.lateness.observe(l);
                    }
                }
                Some(outcome) => {
                    self.count(&f.job_id, outcome, 1);
                    if let Some(d) = f.duration_s {
                        self.duration.observe(d);
                    }
                }
            },
            (Event::JobMissed { job_id, count, .. }, None) => {
                self.missed.inc_by(*count);
                self.count(job_id, Outcome::Missed, *count);
            }
            (Event::JobMaxInstances { job_id, .. }, None) => {
                self.max_instances.inc();
                self.count(job_id, Outcome::MaxInstances, 1);
            }
            (Event::StoreUnavailable { .. }, None) => {
                self.store_errors.inc();
            }
            _ => {}
        }
    }

    /// The text exposition format, with the gauges read now.
    pub(crate) fn encode(
        &self,
        scheduled: usize,
        paused: usize,
        running: usize,
    ) -> Result<String, std::fmt::Error> {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.jobs
            .get_or_create(&StateLabels {
                state: "scheduled".to_owned(),
            })
            .set(gauge(scheduled));
        self.jobs
            .get_or_create(&StateLabels {
                state: "paused".to_owned(),
            })
            .set(gauge(paused));
        self.running.set(gauge(running));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
