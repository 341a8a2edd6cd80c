//! Errors keep their structure: causes through `source()`, a trigger error's
//! kind, field and position, a job's cause chain, and what `MissingData` saw.

use std::sync::Arc;

use anyhow::Context as _;
use scheduler::prelude::*;
use scheduler::{ErrorKind, Event};
use tests::harness::{failed, start};

struct Pool;

#[job]
async fn needs_pool(_pool: Data<Pool>) {}

#[job]
async fn writes_report() -> anyhow::Result<()> {
    std::fs::read("/nonexistent/scheduler-test/report.csv")
        .context("reading the report template")?;
    Ok(())
}

#[test]
fn a_trigger_error_is_reachable_from_the_runtime_error() {
    let e: scheduler::Error = Trigger::cron("0 25 * * *").expect_err("bad hour").into();
    assert_eq!(e.kind(), ErrorKind::Trigger);
    let cause = e.trigger_error().expect("kept");
    assert_eq!(cause.field(), Some("hour"));
    assert!(cause.position().is_some(), "{cause:?}");
    let source = std::error::Error::source(&e).expect("a source");
    assert_eq!(source.to_string(), cause.to_string());
}

fn nothing(_ctx: JobContext, _args: &serde_json::Value) -> scheduler::JobResult {
    Ok(())
}

// A static job whose schedule is only checked at start (the attribute
// would have refused it at compile time).
scheduler::__private::inventory::submit! {
    scheduler::JobDescriptor::new("bad_schedule", scheduler::JobFn::Blocking(nothing))
        .schedule(scheduler::StaticSchedule::cron("*/0 * * * *"))
}

#[test]
fn a_bad_static_schedule_names_the_job_and_keeps_the_trigger_error() {
    let err = Scheduler::builder()
        .start_background()
        .expect_err("refused at start");
    assert_eq!(err.kind(), ErrorKind::Trigger);
    assert!(
        err.to_string().starts_with("scheduled job `bad_schedule`"),
        "{err}"
    );
    let cause = err.trigger_error().expect("kept through the context");
    assert_eq!(cause.field(), Some("minute"), "{cause:?}");
}

#[tokio::test]
async fn a_jobs_failure_keeps_its_cause_chain() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(writes_report::with())
        .id("report")
        .await
        .expect("added");
    let e = h.expect("the failure", failed("report")).await;
    let Event::JobError { error, .. } = e else {
        unreachable!()
    };
    // anyhow's alternate form: the context, then the cause.
    assert!(
        error.starts_with("reading the report template: ") && error.contains("No such file"),
        "{error}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn missing_data_lists_what_was_registered_and_hints_at_a_wrapped_arc() {
    let h = start(Scheduler::builder().data(Arc::new(Pool)).data(42u32));
    let err = h
        .sched
        .add_job(needs_pool::with())
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::MissingData);
    let text = err.to_string();
    assert!(text.contains("no `Data<Pool>` was registered"), "{text}");
    assert!(
        text.contains("registered: alloc::sync::Arc<scheduler_errors::Pool>, u32"),
        "{text}"
    );
    assert!(
        text.contains(
            "`alloc::sync::Arc<scheduler_errors::Pool>` was registered, which is another type"
        ),
        "{text}"
    );
    h.shutdown().await;
    // A `Data<Pool>` registered as a value is a `Data<Data<Pool>>` to jobs.
    let h = start(Scheduler::builder().data(Data::new(Pool)));
    let text = h
        .sched
        .add_job(needs_pool::with())
        .await
        .expect_err("refused")
        .to_string();
    assert!(
        text.contains(&format!(
            "`{}` was registered, which is another type",
            std::any::type_name::<Data<Pool>>()
        )),
        "{text}"
    );
    h.shutdown().await;
    // The fix the hint gives: the same Arc, as Data.
    let pool = Arc::new(Pool);
    let h = start(Scheduler::builder().app_data(Data::from(pool.clone())));
    h.sched.add_job(needs_pool::with()).await.expect("added");
    h.shutdown().await;
}
