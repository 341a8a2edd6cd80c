//! Job functions registered through `inventory` (by hand here; the macros
//! generate the same descriptors): static jobs at start, named jobs by name
//! with serialised arguments, and the data they need.

use std::any::TypeId;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use scheduler::__private::{inventory, BoxFuture};
use scheduler::{
    DataRequirement, ErrorKind, JobContext, JobDescriptor, JobError, JobFn, JobResult, Scheduler,
    StaticSchedule, Target,
};
use tests::harness::{executed, start, start_with};

struct Counter(AtomicU32);
struct Sums(Mutex<Vec<i64>>);

fn count_ticks(ctx: JobContext, _args: Arc<serde_json::Value>) -> BoxFuture<'static, JobResult> {
    Box::pin(async move {
        let counter = ctx
            .data::<Counter>()
            .ok_or_else(|| JobError::new("no Counter"))?;
        counter.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

fn add_numbers(ctx: JobContext, args: &serde_json::Value) -> JobResult {
    let (a, b): (i64, i64) =
        serde_json::from_value(args.clone()).map_err(|e| JobError::new(e.to_string()))?;
    let sums = ctx.data::<Sums>().ok_or_else(|| JobError::new("no Sums"))?;
    sums.0
        .lock()
        .map_err(|e| JobError::new(e.to_string()))?
        .push(a + b);
    Ok(())
}

inventory::submit! {
    JobDescriptor::new("count_ticks", JobFn::Async(count_ticks))
        .path("scheduler_registry::count_ticks")
        .schedule(StaticSchedule::interval("10s").max_instances(2))
        .requires(&[DataRequirement { type_id: TypeId::of::<Counter>, type_name: "Counter" }])
}

inventory::submit! {
    JobDescriptor::new("add_numbers", JobFn::Blocking(add_numbers))
        .path("scheduler_registry::add_numbers")
        .requires(&[DataRequirement { type_id: TypeId::of::<Sums>, type_name: "Sums" }])
}

fn with_data() -> scheduler::SchedulerBuilder {
    Scheduler::builder()
        .data(Counter(AtomicU32::new(0)))
        .data(Sums(Mutex::new(Vec::new())))
}

#[tokio::test]
async fn static_jobs_are_added_at_start_and_fire() {
    let mut h = start_with(with_data());
    let job = h
        .sched
        .get_job("count_ticks")
        .await
        .expect("running")
        .expect("static job added");
    assert_eq!(job.options().max_instances(), 2);
    assert_eq!(job.target().function_name(), Some("count_ticks"));
    h.advance(10.0);
    h.expect("static run", executed("count_ticks")).await;
    h.shutdown().await;
}

#[tokio::test]
async fn without_registered_jobs_there_are_none() {
    let h = start(with_data());
    assert!(h.sched.jobs().await.expect("running").is_empty());
    h.shutdown().await;
}

#[tokio::test]
async fn a_missing_data_is_an_error_at_start_naming_job_and_type() {
    let err = Scheduler::builder()
        .data(Sums(Mutex::new(Vec::new())))
        .start_background()
        .expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::MissingData);
    let text = err.to_string();
    assert!(
        text.contains("count_ticks") && text.contains("Data<Counter>"),
        "{text}"
    );
}

#[tokio::test]
async fn named_jobs_run_by_name_with_serialised_arguments() {
    let sums = scheduler::Data::new(Sums(Mutex::new(Vec::new())));
    let mut h = start(Scheduler::builder().app_data(sums.clone()));
    let target = Target::registered("add_numbers", (100, 23)).expect("serialisable");
    assert_eq!(target.to_string(), "add_numbers([100,23])");
    h.sched.add_job(target).id("sum").await.expect("added");
    h.expect("run", executed("sum")).await;
    assert_eq!(*sums.0.lock().expect("lock"), [123]);
    // Bad arguments are a failed run with serde's message.
    h.sched
        .add_job(Target::registered("add_numbers", "oops").expect("serialisable"))
        .id("bad")
        .await
        .expect("added");
    let e = h.expect("failure", tests::harness::failed("bad")).await;
    assert!(
        matches!(&e, scheduler::Event::JobError { error, .. } if error.contains("invalid type")),
        "{e:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_named_job_lacking_data_is_refused_at_add_job() {
    let h = start(Scheduler::builder());
    let err = h
        .sched
        .add_job(Target::registered("add_numbers", (1, 2)).expect("serialisable"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingData, "{err}");
    assert!(err.to_string().contains("Data<Sums>"), "{err}");
    h.shutdown().await;
}
