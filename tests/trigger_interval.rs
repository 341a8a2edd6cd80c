//! Interval and date triggers, combinators and jitter.

use std::time::Duration;

use scheduler_triggers::{
    parse_duration, CronTrigger, DateTrigger, ErrorKind, IntervalTrigger, Jitter, Trigger, Zone,
};
use tests::{at, next_n};

fn interval(every: &str) -> scheduler_triggers::IntervalBuilder {
    IntervalTrigger::builder(parse_duration(every).expect("valid duration"))
}

#[test]
fn grid_from_start() {
    let t: Trigger = interval("90m")
        .start(at("2026-01-01T00:00:00Z"))
        .build()
        .expect("valid")
        .into();
    // Before start: the start itself.
    assert_eq!(
        next_n(&t, Zone::UTC, "2025-12-31T00:00:00Z", 2),
        ["2026-01-01T00:00:00+00:00", "2026-01-01T01:30:00+00:00"]
    );
    // A start in the past continues at the next slot of its grid.
    assert_eq!(
        next_n(&t, Zone::UTC, "2026-01-01T02:00:00Z", 1),
        ["2026-01-01T03:00:00+00:00"]
    );
    // On a slot: strictly after.
    assert_eq!(
        next_n(&t, Zone::UTC, "2026-01-01T03:00:00Z", 1),
        ["2026-01-01T04:30:00+00:00"]
    );
    // Without previous, at-or-after now.
    assert_eq!(
        t.next_fire_time(None, at("2026-01-01T03:00:00Z")),
        Some(at("2026-01-01T03:00:00Z"))
    );
}

#[test]
fn without_start_the_first_run_waits_one_interval() {
    let t = Trigger::interval(Duration::from_secs(30)).expect("valid");
    assert_eq!(
        t.next_fire_time(None, at("2026-01-01T00:00:00Z")),
        Some(at("2026-01-01T00:00:30Z"))
    );
    assert_eq!(
        t.next_fire_time(Some(at("2026-01-01T00:00:30Z")), at("2026-01-01T00:10:00Z")),
        Some(at("2026-01-01T00:01:00Z"))
    );
}

#[test]
fn end_is_inclusive() {
    let t: Trigger = interval("1h")
        .start(at("2026-01-01T00:00:00Z"))
        .end(at("2026-01-01T02:00:00Z"))
        .build()
        .expect("valid")
        .into();
    assert_eq!(
        next_n(&t, Zone::UTC, "2026-01-01T00:00:00Z", 5),
        ["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"]
    );
}

#[test]
fn sub_second_and_weeks() {
    let t: Trigger = interval("250ms")
        .start(at("2026-01-01T00:00:00Z"))
        .build()
        .expect("valid")
        .into();
    let times: Vec<_> = t.iter_after(at("2026-01-01T00:00:00Z")).take(4).collect();
    assert_eq!(times[3], at("2026-01-01T00:00:01Z"));
    assert_eq!(times[0], at("2026-01-01T00:00:00.250Z"));
    let t: Trigger = interval("1w")
        .start(at("2026-01-05T00:00:00Z"))
        .build()
        .expect("valid")
        .into();
    assert_eq!(
        next_n(&t, Zone::UTC, "2026-01-06T00:00:00Z", 1),
        ["2026-01-12T00:00:00+00:00"]
    );
}

#[test]
fn fire_times_end_with_year_9999() {
    let t: Trigger = interval("1w").build().expect("valid").into();
    assert_eq!(t.next_after(at("9999-12-31T00:00:00Z")), None);
    assert_eq!(
        Trigger::cron("* * * * *")
            .expect("valid")
            .next_after(at("9999-12-31T23:59:00Z")),
        None
    );
}

#[test]
fn zero_interval_and_bad_bounds_are_rejected() {
    let err = IntervalTrigger::builder(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Duration);
    let err = interval("1h")
        .start(at("2026-01-02T00:00:00Z"))
        .end(at("2026-01-01T00:00:00Z"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Bounds);
}

#[test]
fn durations() {
    let d = |s: &str| parse_duration(s);
    assert_eq!(d("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(d("15m"), Ok(Duration::from_secs(900)));
    assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(d("2d"), Ok(Duration::from_secs(172_800)));
    assert_eq!(d("1w"), Ok(Duration::from_secs(604_800)));
    assert_eq!(d("1.5h"), Ok(Duration::from_secs(5400)));
    assert_eq!(d("1h 30m"), Ok(Duration::from_secs(5400)));
    for (bad, pos, needle) in [
        ("", Some(0), "empty"),
        ("15", Some(2), "missing unit"),
        ("15x", Some(2), "unknown unit `x`"),
        ("h", Some(0), "expected a number"),
        ("99999999999999999999w", Some(0), "too large"),
        ("1..5s", Some(0), "bad number"),
    ] {
        let err = d(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Duration, "{bad}");
        assert_eq!(err.position(), pos, "{bad}: {err}");
        assert!(
            err.to_string().contains(needle),
            "{bad}: `{err}` lacks `{needle}`"
        );
    }
}

#[test]
fn date_trigger() {
    let t = Trigger::Date(DateTrigger::new(at("2026-06-01T12:00:00Z")));
    // Without a previous fire it returns its instant, even when past (misfire rules apply later).
    assert_eq!(
        t.next_fire_time(None, at("2026-07-01T00:00:00Z")),
        Some(at("2026-06-01T12:00:00Z"))
    );
    assert_eq!(
        t.next_fire_time(Some(at("2026-06-01T12:00:00Z")), at("2026-06-01T12:00:00Z")),
        None
    );
    assert_eq!(
        next_n(&t, Zone::UTC, "2026-01-01T00:00:00Z", 3),
        ["2026-06-01T12:00:00+00:00"]
    );
    let soon = Trigger::after(Duration::from_secs(1800));
    let Trigger::Date(d) = soon else {
        panic!("after() is a date trigger")
    };
    let delta = d.at() - chrono::Utc::now();
    assert!(
        delta.num_seconds() > 1700 && delta.num_seconds() <= 1800,
        "{delta}"
    );
}

#[test]
fn any_and_all() {
    let daily9 = Trigger::cron("0 9 * * *").expect("valid");
    let daily17 = Trigger::cron("0 17 * * *").expect("valid");
    let any = Trigger::any(vec![daily9.clone(), daily17]).expect("valid");
    assert_eq!(
        next_n(&any, Zone::UTC, "2026-01-01T10:00:00Z", 3),
        [
            "2026-01-01T17:00:00+00:00",
            "2026-01-02T09:00:00+00:00",
            "2026-01-02T17:00:00+00:00"
        ]
    );
    // 09:00 on the days that are also Mondays (2026-01-05, 2026-01-12).
    let mondays = Trigger::cron("* * * * mon").expect("valid");
    let all = Trigger::all(vec![daily9.clone(), mondays]).expect("valid");
    assert_eq!(
        next_n(&all, Zone::UTC, "2026-01-01T00:00:00Z", 2),
        ["2026-01-05T09:00:00+00:00", "2026-01-12T09:00:00+00:00"]
    );
    let tuesdays = Trigger::cron("0 9 * * tue").expect("valid");
    let mondays9 = Trigger::cron("0 9 * * mon").expect("valid");
    assert_eq!(
        Trigger::all(vec![mondays9, tuesdays]).unwrap_err().kind(),
        ErrorKind::NeverFires
    );
    assert_eq!(Trigger::any(vec![]).unwrap_err().kind(), ErrorKind::Empty);
    assert_eq!(Trigger::all(vec![]).unwrap_err().kind(), ErrorKind::Empty);
}

#[test]
fn jitter_never_passes_the_next_fire() {
    let t = CronTrigger::parse("* * * * * *").expect("valid"); // every second
    let fire = at("2026-01-01T00:00:00Z");
    let next = t.next_after(fire);
    let j = Jitter::new(Duration::from_secs(60));
    for r in [0, 1, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
        let delayed = j.apply(fire, next, r);
        assert!(delayed >= fire && Some(delayed) < next, "{r}: {delayed}");
    }
    assert_eq!(j.apply(fire, next, 0), fire);
    // With room, the full range is used.
    let far = Some(at("2026-01-02T00:00:00Z"));
    assert_eq!(j.apply(fire, far, u64::MAX), at("2026-01-01T00:01:00Z"));
    assert_eq!(
        j.apply(fire, None, u64::MAX / 2),
        fire + chrono::TimeDelta::milliseconds(30_000) - chrono::TimeDelta::nanoseconds(1)
    );
}
