//! Every run is a `tracing` span with the job's id and name, the run id, the
//! scheduled time and the lateness.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use scheduler::{Scheduler, Target};
use tests::harness::{executed, start};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut f = Fields(String::new());
        attrs.record(&mut f);
        if let Ok(mut spans) = self.0.lock() {
            spans.push(format!("{} {}", attrs.metadata().name(), f.0));
        }
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn each_run_has_a_span_with_its_fields() {
    let spans = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture(spans.clone())).expect("first subscriber");
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("report")
        .name("Nightly report")
        .await
        .expect("added");
    h.expect("run", executed("report")).await;
    let spans = spans.lock().expect("lock").clone();
    let run = spans
        .iter()
        .find(|s| s.starts_with("job_run"))
        .unwrap_or_else(|| panic!("no run span in {spans:#?}"));
    for field in [
        "job.id=report",
        "job.name=Nightly report",
        "run.id=",
        "scheduled_at=2026-01-01 00:00:00 UTC",
        "lateness_ms=0",
    ] {
        assert!(run.contains(field), "`{run}` lacks `{field}`");
    }
    h.shutdown().await;
}
