//! The job API: add, get, list, print, modify, reschedule, pause, resume,
//! remove, run now; and its typed errors.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use scheduler::{ErrorKind, Event, Executor, JobChanges, Scheduler, Target, Trigger};
use tests::at;
use tests::harness::{executed, start, t0};

fn counting(counter: &Arc<AtomicU32>) -> Target {
    let c = counter.clone();
    Target::from_async(move |_ctx| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
        }
    })
}

#[tokio::test]
async fn interval_job_fires_on_each_tick() {
    let mut h = start(Scheduler::builder());
    let n = Arc::new(AtomicU32::new(0));
    let id = h
        .sched
        .add_job(counting(&n))
        .id("tick")
        .trigger(Trigger::interval(Duration::from_secs(10)).expect("valid"))
        .await
        .expect("added");
    assert_eq!(id, "tick");
    let job = h
        .sched
        .get_job("tick")
        .await
        .expect("running")
        .expect("exists");
    assert_eq!(
        job.next_run_time(),
        Some(t0() + chrono::TimeDelta::seconds(10))
    );
    for i in 1..=3 {
        h.advance(10.0);
        let e = h.expect("run", executed("tick")).await;
        let Event::JobExecuted { scheduled_at, .. } = e else {
            unreachable!()
        };
        assert_eq!(scheduled_at, t0() + chrono::TimeDelta::seconds(10 * i));
    }
    assert_eq!(n.load(Ordering::SeqCst), 3);
    h.shutdown().await;
}

#[tokio::test]
async fn a_job_without_trigger_runs_now_once_and_is_removed() {
    let mut h = start(Scheduler::builder());
    let n = Arc::new(AtomicU32::new(0));
    h.sched
        .add_job(counting(&n))
        .id("now")
        .await
        .expect("added");
    h.expect("run", executed("now")).await;
    // The trigger finished when the run was submitted, so the job was removed then.
    assert!(
        h.seen
            .iter()
            .any(|e| matches!(e, Event::JobRemoved { job_id } if &**job_id == "now")),
        "{:#?}",
        h.seen
    );
    assert!(h.sched.get_job("now").await.expect("running").is_none());
    assert_eq!(n.load(Ordering::SeqCst), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn errors_are_typed_and_change_nothing() {
    let h = start(Scheduler::builder());
    let noop = || Target::from_async(|_ctx| async {});
    let hourly = || Trigger::cron("0 * * * *").expect("valid");
    h.sched
        .add_job(noop())
        .id("a")
        .trigger(hourly())
        .await
        .expect("added");

    let dup = h
        .sched
        .add_job(noop())
        .id("a")
        .trigger(hourly())
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::DuplicateId, "{dup}");
    assert!(dup.to_string().contains("`a`"));

    let exec = h
        .sched
        .add_job(noop())
        .id("b")
        .executor("gpu")
        .await
        .unwrap_err();
    assert_eq!(exec.kind(), ErrorKind::UnknownExecutor, "{exec}");
    assert!(
        exec.to_string().contains("gpu") && exec.to_string().contains("default"),
        "{exec}"
    );

    let zero = h
        .sched
        .add_job(noop())
        .id("c")
        .max_instances(0)
        .await
        .unwrap_err();
    assert_eq!(zero.kind(), ErrorKind::InvalidOption, "{zero}");

    let unknown = h
        .sched
        .add_job(Target::registered("no_such_fn", ()).expect("args"))
        .id("d")
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::UnknownJob, "{unknown}");

    let ended = scheduler::trigger::CronTrigger::builder("* * * * *")
        .start(at("2020-01-01T00:00:00Z"))
        .end(at("2020-01-02T00:00:00Z"))
        .build()
        .expect("valid");
    let finished = h
        .sched
        .add_job(noop())
        .id("e")
        .trigger(ended)
        .await
        .unwrap_err();
    assert_eq!(finished.kind(), ErrorKind::Trigger, "{finished}");

    for id in ["x", "missing"] {
        assert_eq!(
            h.sched.remove_job(id).await.unwrap_err().kind(),
            ErrorKind::JobNotFound
        );
        assert_eq!(
            h.sched.pause_job(id).await.unwrap_err().kind(),
            ErrorKind::JobNotFound
        );
        assert_eq!(
            h.sched.resume_job(id).await.unwrap_err().kind(),
            ErrorKind::JobNotFound
        );
        assert_eq!(
            h.sched.run_job_now(id).await.unwrap_err().kind(),
            ErrorKind::JobNotFound
        );
        assert_eq!(
            h.sched
                .reschedule_job(id, hourly())
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::JobNotFound
        );
        assert_eq!(
            h.sched
                .modify_job(id, JobChanges::new())
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::JobNotFound
        );
    }
    let bad_modify = h
        .sched
        .modify_job("a", JobChanges::new().executor("nope"))
        .await
        .unwrap_err();
    assert_eq!(bad_modify.kind(), ErrorKind::UnknownExecutor);

    // A batch with one bad job adds none of them.
    let batch = vec![
        scheduler::JobSpec::new(noop()).id("ok1").trigger(hourly()),
        scheduler::JobSpec::new(noop()).id("a").trigger(hourly()),
    ];
    assert_eq!(
        h.sched.add_jobs(batch).await.unwrap_err().kind(),
        ErrorKind::DuplicateId
    );
    let ids: Vec<String> = h
        .sched
        .jobs()
        .await
        .expect("running")
        .iter()
        .map(|j| j.id().to_owned())
        .collect();
    assert_eq!(ids, ["a"]);
    h.shutdown().await;
}

#[tokio::test]
async fn replace_existing() {
    let h = start(Scheduler::builder());
    let noop = || Target::from_async(|_ctx| async {});
    h.sched
        .add_job(noop())
        .id("a")
        .trigger(Trigger::cron("0 * * * *").expect("valid"))
        .await
        .expect("added");
    h.sched
        .add_job(noop())
        .id("a")
        .name("replaced")
        .trigger(Trigger::cron("30 * * * *").expect("valid"))
        .replace_existing(true)
        .await
        .expect("replaced");
    let job = h
        .sched
        .get_job("a")
        .await
        .expect("running")
        .expect("exists");
    assert_eq!(job.name(), "replaced");
    assert_eq!(job.next_run_time(), Some(at("2026-01-01T00:30:00Z")));
    assert_eq!(h.sched.jobs().await.expect("running").len(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn pause_resume_modify_reschedule_remove() {
    let mut h = start(Scheduler::builder());
    let n = Arc::new(AtomicU32::new(0));
    h.sched
        .add_job(counting(&n))
        .id("job")
        .trigger(Trigger::interval(Duration::from_secs(60)).expect("valid"))
        .await
        .expect("added");

    let paused = h.sched.pause_job("job").await.expect("paused");
    assert!(paused.is_paused());
    h.advance(120.0);
    h.sched.wakeup().await.expect("running");
    // Resume: next run from now (APScheduler's resume_job).
    let resumed = h
        .sched
        .resume_job("job")
        .await
        .expect("resumed")
        .expect("still there");
    assert_eq!(
        resumed.next_run_time(),
        Some(t0() + chrono::TimeDelta::seconds(180))
    );
    assert_eq!(n.load(Ordering::SeqCst), 0, "a paused job must not run");

    let modified = h
        .sched
        .modify_job("job", JobChanges::new().name("renamed").max_instances(3))
        .await
        .expect("modified");
    assert_eq!(modified.name(), "renamed");
    assert_eq!(modified.options().max_instances(), 3);

    let rescheduled = h
        .sched
        .reschedule_job("job", Trigger::cron("0 1 * * *").expect("valid"))
        .await
        .expect("rescheduled");
    assert_eq!(
        rescheduled.next_run_time(),
        Some(at("2026-01-01T01:00:00Z"))
    );

    let run_id = h.sched.run_job_now("job").await.expect("ran");
    let e = h.expect("run now", executed("job")).await;
    assert!(matches!(e, Event::JobExecuted { run_id: r, .. } if r == run_id));

    h.sched.remove_job("job").await.expect("removed");
    assert!(h.sched.get_job("job").await.expect("running").is_none());
    h.sched.remove_all_jobs().await.expect("running");
    h.shutdown().await;
}

#[tokio::test]
async fn jobs_are_listed_soonest_first_and_printed_as_a_table() {
    let h = start(Scheduler::builder().executor("blocking", Executor::thread_pool(2)));
    let noop = || Target::from_async(|_ctx| async {});
    h.sched
        .add_job(noop())
        .id("later")
        .trigger(Trigger::cron("0 5 * * *").expect("valid"))
        .await
        .expect("added");
    h.sched
        .add_job(noop())
        .id("sooner")
        .name("Nightly report")
        .trigger(Trigger::cron_in("0 2 * * *", "Europe/Berlin").expect("valid"))
        .await
        .expect("added");
    h.sched
        .add_job(noop())
        .id("paused")
        .next_run_time(None)
        .trigger(Trigger::cron("0 3 * * *").expect("valid"))
        .await
        .expect("added");
    let ids: Vec<String> = h
        .sched
        .jobs()
        .await
        .expect("running")
        .iter()
        .map(|j| j.id().to_owned())
        .collect();
    assert_eq!(ids, ["sooner", "later", "paused"]);
    let table = h.sched.jobs_table().await.expect("running");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("id") && lines[0].contains("next run"),
        "{table}"
    );
    assert!(
        lines[1].contains("Nightly report") && lines[1].contains("cron[0 2 * * *] Europe/Berlin"),
        "{table}"
    );
    assert!(lines[1].contains("2026-01-01T02:00:00+01:00"), "{table}");
    assert!(lines[3].contains("paused"), "{table}");
    h.shutdown().await;
}

#[tokio::test]
async fn blocking_api_from_a_plain_thread() {
    let h = start(Scheduler::builder());
    let sched = h.sched.clone();
    let result = std::thread::spawn(move || {
        let b = sched.blocking();
        b.add_job(Target::from_async(|_ctx| async {}))
            .id("cancel-42")
            .trigger(Trigger::after(Duration::from_secs(1800)))
            .send_blocking()?;
        let found = b.get_job("cancel-42")?.is_some();
        b.remove_job("cancel-42")?;
        Ok::<_, scheduler::Error>((found, b.get_job("cancel-42")?.is_none()))
    })
    .join()
    .expect("thread");
    assert_eq!(result.expect("blocking calls work"), (true, true));
    // Inside a runtime the blocking API refuses instead of deadlocking.
    let err = h.sched.blocking().jobs().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlockingInAsync);
    h.shutdown().await;
}

#[tokio::test]
async fn run_on_start_runs_once_at_once_then_on_schedule() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("j")
        .trigger(Trigger::interval(Duration::from_secs(3600)).expect("valid"))
        .run_on_start(true)
        .await
        .expect("added");
    let e = h.expect("the run on start", executed("j")).await;
    assert!(
        matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == t0()),
        "{e:?}"
    );
    h.advance(3600.0);
    let e = h.expect("the first regular run", executed("j")).await;
    assert!(
        matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == t0() + chrono::TimeDelta::hours(1))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn jitter_delays_a_run_but_never_past_the_next_fire() {
    let mut h = start(Scheduler::builder());
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("j")
        .trigger(Trigger::interval(Duration::from_secs(10)).expect("valid"))
        .jitter(Duration::from_secs(3600)) // far more than the interval: capped below 10 s
        .misfire_grace_time(None)
        .await
        .expect("added");
    let queued = h
        .sched
        .get_job("j")
        .await
        .expect("running")
        .expect("exists");
    // The trigger's own fire time is unchanged by jitter.
    assert_eq!(
        queued.next_run_time(),
        Some(t0() + chrono::TimeDelta::seconds(10))
    );
    // Just before the next fire time (not 19.9 s: one draw in a hundred is
    // later than that) the jittered run must have happened.
    h.clock.advance(Duration::from_micros(19_999_999));
    let e = h.expect("the jittered run", executed("j")).await;
    assert!(
        matches!(e, Event::JobExecuted { scheduled_at, .. } if scheduled_at == t0() + chrono::TimeDelta::seconds(10))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn removing_a_running_job_lets_the_run_finish_and_stops_the_schedule() {
    let mut h = start(Scheduler::builder());
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let g = gate.clone();
    h.sched
        .add_job(Target::from_async(move |_ctx| {
            let g = g.clone();
            async move {
                let _ = g.acquire().await;
            }
        }))
        .id("j")
        .trigger(Trigger::interval(Duration::from_secs(10)).expect("valid"))
        .await
        .expect("added");
    h.advance(10.0);
    h.expect("submit", |e| matches!(e, Event::JobSubmitted { .. }))
        .await;
    h.sched
        .remove_job("j")
        .await
        .expect("removed while running");
    // The id is free again at once.
    h.sched
        .add_job(Target::from_async(|_ctx| async {}))
        .id("j")
        .next_run_time(None)
        .await
        .expect("re-added");
    h.sched.remove_job("j").await.expect("removed");
    gate.add_permits(1);
    h.expect("the run in progress finishes", executed("j"))
        .await;
    h.advance(30.0);
    h.sched.wakeup().await.expect("running");
    let later = h.sched.jobs().await.expect("running");
    assert!(later.is_empty());
    assert_eq!(
        h.seen
            .iter()
            .filter(|e| matches!(e, Event::JobSubmitted { .. }))
            .count(),
        1,
        "{:#?}",
        h.seen
    );
    h.shutdown().await;
}

/// Jobs on equal triggers share one compiled trigger and one computed next
/// fire time; each still moves on by its own trigger, and a job whose
/// trigger differs (a different zone) is not confused with them.
#[tokio::test]
async fn jobs_alike_fire_together_and_move_on_by_their_own_triggers() {
    let mut h = start(Scheduler::builder());
    let n = Arc::new(AtomicU32::new(0));
    for i in 0..50 {
        h.sched
            .add_job(counting(&n))
            .id(format!("same-{i}"))
            .trigger(Trigger::cron("*/10 * * * * *").expect("valid"))
            .await
            .expect("added");
    }
    h.sched
        .add_job(counting(&n))
        .id("hourly-berlin")
        .trigger(Trigger::cron_in("0 * * * *", "Europe/Berlin").expect("valid"))
        .await
        .expect("added");
    h.sched
        .add_job(counting(&n))
        .id("every-7s")
        .trigger(Trigger::cron("*/7 * * * * *").expect("valid"))
        .await
        .expect("added");
    // The jobs fired at 00:00:00 when added: let those runs end first, or a
    // run still going would make 00:00:10 a max_instances skip.
    let mut first = std::collections::HashSet::new();
    while first.len() < 50 {
        if let Event::JobExecuted { job_id, .. } = h
            .expect("the 50 runs of 00:00:00", |e| {
                matches!(e, Event::JobExecuted { job_id, scheduled_at, .. }
                    if job_id.starts_with("same-") && *scheduled_at == at("2026-01-01T00:00:00Z"))
            })
            .await
        {
            first.insert(job_id);
        }
    }
    h.advance(10.0);
    // The runs of 00:00:10 (the jobs also fired at 00:00:00, when added):
    // once they ran, every job alike has moved on.
    let ten = at("2026-01-01T00:00:10Z");
    let mut ran = std::collections::HashSet::new();
    while ran.len() < 50 {
        if let Event::JobExecuted { job_id, .. } = h
            .expect("the 50 runs of 00:00:10", |e| {
                matches!(e, Event::JobExecuted { job_id, scheduled_at, .. }
                    if job_id.starts_with("same-") && *scheduled_at == ten)
            })
            .await
        {
            ran.insert(job_id);
        }
    }
    let next = |id: &str| {
        let sched = h.sched.clone();
        let id = id.to_owned();
        async move {
            sched
                .get_job(&id)
                .await
                .expect("running")
                .and_then(|j| j.next_run_time())
        }
    };
    for i in [0, 25, 49] {
        assert_eq!(
            next(&format!("same-{i}")).await,
            Some(at("2026-01-01T00:00:20Z"))
        );
    }
    assert_eq!(next("every-7s").await, Some(at("2026-01-01T00:00:14Z")));
    assert_eq!(
        next("hourly-berlin").await,
        Some(at("2026-01-01T00:00:00Z") + chrono::TimeDelta::hours(1))
    );
    h.shutdown().await;
}
