//! Every run is a `tracing` span with the job's id and name, the run id, the
//! scheduled time and the lateness; a process-pool job's output is logged in it.

mod process_jobs;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use scheduler::{Executor, Scheduler, Target, Trigger};
use tests::harness::{executed, failed, start, stopped_under_a_running_job};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const WORKER: &str = env!("CARGO_BIN_EXE_process_worker");

/// Spans as "name fields", and events as "fields in <span>".
#[derive(Default)]
struct Captured {
    spans: Vec<String>,
    events: Vec<String>,
    by_id: HashMap<u64, String>,
}

struct Capture {
    seen: Arc<Mutex<Captured>>,
    next: AtomicU64,
}

thread_local! {
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

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
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let text = format!("{} {}", attrs.metadata().name(), f.0);
        if let Ok(mut seen) = self.seen.lock() {
            seen.spans.push(text.clone());
            seen.by_id.insert(id, text);
        }
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut f = Fields(String::new());
        event.record(&mut f);
        let current = ENTERED.with(|e| e.borrow().last().copied());
        if let Ok(mut seen) = self.seen.lock() {
            let span = current
                .and_then(|id| seen.by_id.get(&id).cloned())
                .unwrap_or_default();
            let line = format!(
                "{} {}in <{span}> [{}]",
                event.metadata().target(),
                f.0,
                event.metadata().level()
            );
            seen.events.push(line);
        }
    }
    fn enter(&self, id: &Id) {
        ENTERED.with(|e| e.borrow_mut().push(id.into_u64()));
    }
    fn exit(&self, _: &Id) {
        ENTERED.with(|e| {
            e.borrow_mut().pop();
        });
    }
}

fn capture() -> Arc<Mutex<Captured>> {
    static SEEN: OnceLock<Arc<Mutex<Captured>>> = OnceLock::new();
    SEEN.get_or_init(|| {
        let seen = Arc::new(Mutex::new(Captured::default()));
        let subscriber = Capture {
            seen: seen.clone(),
            next: AtomicU64::new(0),
        };
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        seen
    })
    .clone()
}

#[tokio::test]
async fn each_run_has_a_span_with_its_fields() {
    let seen = capture();
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("report")
        .name("Nightly report")
        .await
        .expect("added");
    h.expect("run", executed("report")).await;
    let spans = seen.lock().expect("lock").spans.clone();
    let run = spans
        .iter()
        .find(|s| s.starts_with("job_run") && s.contains("job.id=report"))
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

#[tokio::test]
async fn a_process_jobs_stdout_and_stderr_are_logged_in_its_run_span() {
    let seen = capture();
    let mut h = start(
        Scheduler::builder().executor("default", Executor::process_pool_with_program(1, WORKER)),
    );
    h.sched
        .add_job(process_jobs::proc_say::with("hello".into()))
        .id("talker")
        .await
        .expect("added");
    h.expect("run", executed("talker")).await;
    let events = seen.lock().expect("lock").events.clone();
    for (stream, text) in [
        ("stdout", "stdout says hello"),
        ("stderr", "stderr says hello"),
    ] {
        let line = events
            .iter()
            .find(|e| e.contains(text))
            .unwrap_or_else(|| panic!("no `{text}` in {events:#?}"));
        assert!(line.starts_with("scheduler::process"), "{line}");
        assert!(line.contains(&format!("stream=\"{stream}\"")), "{line}");
        assert!(
            line.contains("job_run") && line.contains("job.id=talker"),
            "{line}"
        );
    }
    h.shutdown().await;
}

/// The lines captured so far that contain every one of `parts`.
fn lines_with(seen: &Arc<Mutex<Captured>>, parts: &[&str]) -> Vec<String> {
    let events = seen.lock().expect("lock").events.clone();
    events
        .into_iter()
        .filter(|e| parts.iter().all(|p| e.contains(p)))
        .collect()
}

#[tokio::test]
async fn start_jobs_missed_runs_and_shutdown_are_logged_under_the_schedulers_targets() {
    let seen = capture();
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("logged")
        .trigger(Trigger::interval(std::time::Duration::from_secs(10)).expect("valid"))
        .await
        .expect("added");
    h.sched.pause().await.expect("running");
    h.advance(12.0); // the fire at 10 s is missed
    h.sched.resume().await.expect("running");
    h.expect("the miss", |e| {
        matches!(e, scheduler::Event::JobMissed { .. })
    })
    .await;
    h.sched.remove_job("logged").await.expect("removed");
    h.shutdown().await;
    for parts in [
        &["scheduler::lifecycle", "scheduler started", "[INFO]"][..],
        &["scheduler::jobs", "job added", "job_id=logged", "[DEBUG]"],
        &["scheduler::runs", "run missed", "job_id=logged", "[WARN]"],
        &["scheduler::jobs", "job removed", "job_id=logged", "[DEBUG]"],
        &["scheduler::lifecycle", "scheduler shut down", "[INFO]"],
    ] {
        assert!(
            !lines_with(&seen, parts).is_empty(),
            "no line with {parts:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_runs_log_line_keeps_the_cause_chain() {
    let seen = capture();
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {
            let cause = anyhow::anyhow!("disk full");
            Err::<(), _>(cause.context("writing the nightly report"))
        }))
        .id("chain")
        .await
        .expect("added");
    h.expect("the failure", failed("chain")).await;
    h.shutdown().await;
    let lines = lines_with(&seen, &["job run failed", "job.id=chain", "[ERROR]"]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("writing the nightly report: disk full")),
        "{lines:#?}"
    );
}

#[test]
fn an_abnormal_stop_is_logged_at_error_level_with_what_was_running() {
    let seen = capture();
    let _handle = stopped_under_a_running_job("still-running");
    let lines = lines_with(
        &seen,
        &[
            "scheduler::lifecycle",
            "stopped abnormally",
            "still-running",
            "[ERROR]",
        ],
    );
    assert_eq!(lines.len(), 1, "{lines:#?}");
}
