//! `#[job]`: named jobs scheduled at run time through a typed constructor,
//! with arguments that round-trip through serde.

use std::sync::Mutex;

use scheduler::prelude::*;
use scheduler::{ErrorKind, Event};
use serde::{Deserialize, Serialize};
use tests::harness::{executed, failed, start};

struct Cancelled(Mutex<Vec<(u64, String)>>);

#[derive(Serialize, Deserialize)]
struct Reason {
    text: String,
}

#[job]
async fn cancel_order(order_id: u64, reason: Reason, log: Data<Cancelled>) -> Result<(), String> {
    log.0
        .lock()
        .map_err(|e| e.to_string())?
        .push((order_id, reason.text));
    Ok(())
}

#[job(key = "sum", name = "Adder")]
fn add(a: i64, b: i64, ctx: JobContext) -> Result<(), String> {
    if a + b < 0 {
        return Err(format!("negative sum in {}", ctx.job_id()));
    }
    Ok(())
}

#[job]
async fn no_args() {}

/// A type whose serialisation fails.
struct Unserialisable;

impl Serialize for Unserialisable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("cannot be stored"))
    }
}

impl<'de> Deserialize<'de> for Unserialisable {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Ok(Unserialisable)
    }
}

#[job]
async fn takes_unserialisable(_x: Unserialisable) {}

fn builder() -> scheduler::SchedulerBuilder {
    Scheduler::builder().data(Cancelled(Mutex::new(Vec::new())))
}

#[tokio::test]
async fn typed_constructors_schedule_named_jobs() {
    let log = Data::new(Cancelled(Mutex::new(Vec::new())));
    let mut h = start(Scheduler::builder().app_data(log.clone()));
    let target = cancel_order::with(
        42,
        Reason {
            text: "unpaid".into(),
        },
    );
    // The stored form: the registry name and the arguments as JSON.
    assert_eq!(target.function_name(), Some("macros_job::cancel_order"));
    assert_eq!(
        target.args(),
        Some(&serde_json::json!([42, {"text": "unpaid"}]))
    );
    h.sched
        .add_job(target.clone())
        .id("cancel-42")
        .await
        .expect("added");
    h.expect("run", executed("cancel-42")).await;
    assert_eq!(*log.0.lock().expect("lock"), [(42, "unpaid".to_owned())]);

    // The same job rebuilt from its stored form runs the same way.
    let stored = serde_json::to_string(target.args().expect("args")).expect("json");
    let restored = Target::registered(
        "macros_job::cancel_order",
        serde_json::from_str::<serde_json::Value>(&stored).expect("json"),
    )
    .expect("serialisable");
    h.sched
        .add_job(restored)
        .id("cancel-42-again")
        .await
        .expect("added");
    h.expect("run", executed("cancel-42-again")).await;
    assert_eq!(log.0.lock().expect("lock").len(), 2);

    // A job of a registered function is named after the function.
    let paused = h
        .sched
        .add_job(target.clone())
        .next_run_time(None)
        .await
        .expect("added");
    let job = h
        .sched
        .get_job(&paused)
        .await
        .expect("running")
        .expect("there");
    assert_eq!(job.name(), "cancel_order");
    h.sched.remove_job(&paused).await.expect("removed");

    // Sync jobs, renamed jobs, extractors next to arguments.
    h.sched
        .add_job(add::with(-5, 2))
        .id("s")
        .await
        .expect("added");
    let job = h.sched.get_job("s").await.expect("running");
    assert!(job.is_none_or(|j| j.name() == "Adder"));
    let e = h.expect("failure", failed("s")).await;
    assert!(
        matches!(&e, Event::JobError { error, .. } if error == "negative sum in s"),
        "{e:?}"
    );
    h.sched
        .add_job(no_args::with())
        .id("n")
        .await
        .expect("added");
    h.expect("run", executed("n")).await;
    h.shutdown().await;
}

#[tokio::test]
async fn bad_arguments_are_errors_not_panics() {
    let mut h = start(builder());
    // Serialisation fails: refused at add_job, typed.
    let err = h
        .sched
        .add_job(takes_unserialisable::with(Unserialisable))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Args, "{err}");
    assert!(err.to_string().contains("cannot be stored"), "{err}");
    // Stored arguments of the wrong shape: a failed run naming the function.
    h.sched
        .add_job(Target::registered("sum", ["x"]).expect("serialisable"))
        .id("bad")
        .await
        .expect("added");
    let e = h.expect("failure", failed("bad")).await;
    assert!(
        matches!(&e, Event::JobError { error, .. } if error.contains("arguments of job function `sum`")),
        "{e:?}"
    );
    h.shutdown().await;
}
