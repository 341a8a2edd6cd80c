//! What stores and the web will keep or show serialises with serde and
//! round-trips: the job snapshot, options, retries, events, outcomes.

use std::time::Duration;

use scheduler::prelude::*;
use scheduler::{Event, FailureKind, Job, JobOptions};
use tests::harness::{start, t0};

#[job]
async fn cancel_order(order_id: u64) {
    let _ = order_id;
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> (String, T) {
    let json = serde_json::to_string(value).expect("serialises");
    let back = serde_json::from_str(&json).expect("reads back");
    (json, back)
}

#[tokio::test]
async fn a_job_snapshot_round_trips() {
    let h = start(Scheduler::builder());
    let id = h
        .sched
        .add_job(cancel_order::with(42))
        .id("cancel-42")
        .trigger(Trigger::cron_in("30 9 * * mon-fri", "Europe/Berlin").expect("valid"))
        .max_instances(3)
        .timeout(Duration::from_secs(90))
        .retry(Retry::new(2).initial(Duration::from_millis(1500)))
        .await
        .expect("added");
    let job = h.sched.get_job(&id).await.expect("running").expect("there");
    let (json, back): (String, Job) = round_trip(&job);
    assert_eq!(serde_json::to_string(&back).expect("serialises"), json);
    assert_eq!(back.id(), "cancel-42");
    assert_eq!(back.name(), "cancel_order");
    assert_eq!(back.trigger(), job.trigger());
    assert_eq!(back.options(), job.options());
    assert_eq!(back.next_run_time(), job.next_run_time());
    assert_eq!(
        back.target().function_name(),
        Some("model_serde::cancel_order")
    );
    assert_eq!(back.target().args(), Some(&serde_json::json!([42])));
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["target"]["kind"], "registered");
    assert_eq!(value["options"]["max_instances"], 3);
    h.shutdown().await;
}

#[tokio::test]
async fn a_closure_job_serialises_but_is_not_read_back() {
    let h = start(Scheduler::builder());
    let id = h
        .sched
        .add_job(Target::from_async(|_ctx| async {}))
        .next_run_time(None)
        .await
        .expect("added");
    let job = h.sched.get_job(&id).await.expect("running").expect("there");
    let json = serde_json::to_string(&job).expect("serialises");
    assert!(json.contains(r#""kind":"async_closure""#), "{json}");
    let err = serde_json::from_str::<Job>(&json).expect_err("a closure cannot come back");
    assert!(
        err.to_string()
            .contains("closure target cannot be read back"),
        "{err}"
    );
    h.shutdown().await;
}

#[test]
fn options_and_retries_round_trip_and_default_missing_fields() {
    let retry = Retry::new(4).factor(3.0).max_delay(Duration::from_secs(60));
    assert_eq!(round_trip(&retry).1, retry);
    let options: JobOptions = serde_json::from_str(r#"{"max_instances": 5}"#).expect("reads");
    assert_eq!(options.max_instances(), 5);
    assert_eq!(options.misfire_grace_time(), Some(Duration::from_secs(1)));
    assert_eq!(round_trip(&options).1, options);
}

#[test]
fn events_round_trip_tagged_by_type() {
    let events = [
        Event::SchedulerStarted,
        Event::JobExecuted {
            job_id: "report".into(),
            run_id: 7,
            scheduled_at: t0(),
            attempt: 2,
            duration: Duration::from_millis(1250),
        },
        Event::JobError {
            job_id: "report".into(),
            run_id: 8,
            scheduled_at: t0(),
            attempt: 1,
            kind: FailureKind::Timeout,
            error: "timed out after 30s".into(),
            retry_at: Some(t0()),
        },
        Event::JobMissed {
            job_id: "report".into(),
            scheduled_at: t0(),
            count: 500,
        },
        Event::Lagged { missed: 12 },
    ];
    for e in &events {
        let (json, back) = round_trip(e);
        assert_eq!(&back, e, "{json}");
    }
    let json = serde_json::to_value(&events[2]).expect("json");
    assert_eq!(json["type"], "job_error");
    assert_eq!(json["kind"], "timeout");
}
