//! The DST rule (`CronTrigger`'s docs, "DST"), spring and fall, in four zones.
//! Transition instants were checked against Python's zoneinfo; the expected
//! fire times below are derived by hand from the rule.

use scheduler_triggers::{CronFields, CronTrigger, IntervalTrigger, Trigger, Zone};
use tests::{at, next_n};

fn cron(expr: &str, tz: &str) -> (Trigger, Zone) {
    let t = CronTrigger::builder(expr)
        .tz(tz)
        .build()
        .expect("valid cron");
    let zone = t.zone();
    (t.into(), zone)
}

fn fields(f: CronFields, tz: &str) -> (Trigger, Zone) {
    let t = CronTrigger::from_fields(f)
        .tz(tz)
        .build()
        .expect("valid fields");
    let zone = t.zone();
    (t.into(), zone)
}

fn check(t: (Trigger, Zone), after: &str, expected: &[&str]) {
    assert_eq!(
        next_n(&t.0, t.1, after, expected.len()),
        expected,
        "after {after}"
    );
}

// ===== Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00 =====

#[test]
fn berlin_fixed_time_in_gap_fires_at_end_of_gap() {
    check(
        cron("30 2 * * *", "Europe/Berlin"),
        "2026-03-28T12:00:00Z",
        &["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
    );
    check(
        fields(CronFields::new().hour("2").minute("30"), "Europe/Berlin"),
        "2026-03-28T12:00:00Z",
        &["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
    );
}

#[test]
fn berlin_fixed_time_in_overlap_fires_once_at_earlier_instant() {
    check(
        cron("30 2 * * *", "Europe/Berlin"),
        "2026-10-24T12:00:00Z",
        &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
    );
    // Asked from inside the second pass, the repeated 02:30 is not a new fire.
    check(
        cron("30 2 * * *", "Europe/Berlin"),
        "2026-10-25T02:40:00+02:00",
        &["2026-10-26T02:30:00+01:00"],
    );
    check(
        fields(CronFields::new().hour("2").minute("30"), "Europe/Berlin"),
        "2026-10-24T12:00:00Z",
        &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
    );
}

#[test]
fn berlin_interval_like_skips_gap() {
    check(
        cron("*/30 * * * *", "Europe/Berlin"),
        "2026-03-29T01:10:00+01:00",
        &[
            "2026-03-29T01:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:30:00+02:00",
        ],
    );
    check(
        fields(CronFields::new().minute("*/30"), "Europe/Berlin"),
        "2026-03-29T01:10:00+01:00",
        &[
            "2026-03-29T01:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:30:00+02:00",
        ],
    );
}

#[test]
fn berlin_interval_like_fires_in_both_passes() {
    let expected = [
        "2026-10-25T01:30:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ];
    check(
        cron("*/30 * * * *", "Europe/Berlin"),
        "2026-10-25T01:10:00+02:00",
        &expected,
    );
    check(
        fields(CronFields::new().minute("*/30"), "Europe/Berlin"),
        "2026-10-25T01:10:00+02:00",
        &expected,
    );
    // From inside the first pass: the second pass is still ahead.
    check(
        cron("*/30 * * * *", "Europe/Berlin"),
        "2026-10-25T02:10:00+02:00",
        &expected[2..],
    );
    // From inside the second pass.
    check(
        cron("*/30 * * * *", "Europe/Berlin"),
        "2026-10-25T02:10:00+01:00",
        &expected[4..],
    );
}

#[test]
fn berlin_several_gap_times_fire_once() {
    check(
        cron("0,30 2 * * *", "Europe/Berlin"),
        "2026-03-28T12:00:00Z",
        &[
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:00:00+02:00",
            "2026-03-30T02:30:00+02:00",
        ],
    );
}

#[test]
fn berlin_seconds_field_in_overlap() {
    // Every 20 minutes at second 0 in the repeated hour: interval-like, both passes.
    check(
        cron("0 */20 2 * * *", "Europe/Berlin"),
        "2026-10-25T02:30:00+02:00",
        &[
            "2026-10-25T02:40:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:20:00+01:00",
            "2026-10-25T02:40:00+01:00",
        ],
    );
}

// ===== America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00 =====

#[test]
fn new_york_spring() {
    check(
        cron("30 2 * * *", "America/New_York"),
        "2026-03-07T12:00:00Z",
        &["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
    );
    check(
        cron("0 * * * *", "America/New_York"),
        "2026-03-08T00:30:00-05:00",
        &[
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T04:00:00-04:00",
        ],
    );
}

#[test]
fn new_york_fall() {
    check(
        cron("30 1 * * *", "America/New_York"),
        "2026-10-31T12:00:00Z",
        &["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
    );
    check(
        cron("*/30 * * * *", "America/New_York"),
        "2026-11-01T00:50:00-04:00",
        &[
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ],
    );
}

// ===== Australia/Lord_Howe: 30-minute shift; 2026-04-05 02:00 -> 01:30, 2026-10-04 02:00 -> 02:30 =====

#[test]
fn lord_howe_fall() {
    check(
        cron("45 1 * * *", "Australia/Lord_Howe"),
        "2026-04-04T00:00:00Z",
        &["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"],
    );
    check(
        cron("*/15 * * * *", "Australia/Lord_Howe"),
        "2026-04-05T01:20:00+11:00",
        &[
            "2026-04-05T01:30:00+11:00",
            "2026-04-05T01:45:00+11:00",
            "2026-04-05T01:30:00+10:30",
            "2026-04-05T01:45:00+10:30",
            "2026-04-05T02:00:00+10:30",
        ],
    );
}

#[test]
fn lord_howe_spring() {
    check(
        cron("15 2 * * *", "Australia/Lord_Howe"),
        "2026-10-03T00:00:00Z",
        &["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"],
    );
    check(
        cron("*/15 * * * *", "Australia/Lord_Howe"),
        "2026-10-04T01:50:00+10:30",
        &["2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"],
    );
    check(
        fields(
            CronFields::new().hour("2").minute("15"),
            "Australia/Lord_Howe",
        ),
        "2026-10-03T00:00:00Z",
        &["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"],
    );
}

// ===== Pacific/Chatham: +12:45 / +13:45; 2026-04-05 03:45 -> 02:45, 2026-09-27 02:45 -> 03:45 =====

#[test]
fn chatham_fall() {
    check(
        cron("0 3 * * *", "Pacific/Chatham"),
        "2026-04-04T00:00:00Z",
        &["2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45"],
    );
    check(
        cron("*/30 * * * *", "Pacific/Chatham"),
        "2026-04-05T02:40:00+13:45",
        &[
            "2026-04-05T03:00:00+13:45",
            "2026-04-05T03:30:00+13:45",
            "2026-04-05T03:00:00+12:45",
            "2026-04-05T03:30:00+12:45",
            "2026-04-05T04:00:00+12:45",
        ],
    );
}

#[test]
fn chatham_spring() {
    check(
        cron("0 3 * * *", "Pacific/Chatham"),
        "2026-09-26T00:00:00Z",
        &["2026-09-27T03:45:00+13:45", "2026-09-28T03:00:00+13:45"],
    );
    check(
        cron("30 3 * * *", "Pacific/Chatham"),
        "2026-09-26T00:00:00Z",
        &["2026-09-27T03:45:00+13:45", "2026-09-28T03:30:00+13:45"],
    );
    check(
        cron("*/30 * * * *", "Pacific/Chatham"),
        "2026-09-27T02:20:00+12:45",
        &["2026-09-27T02:30:00+12:45", "2026-09-27T04:00:00+13:45"],
    );
}

// ===== Intervals are elapsed time and ignore DST =====

#[test]
fn interval_ignores_dst() {
    let t: Trigger = IntervalTrigger::builder(std::time::Duration::from_secs(3600))
        .start(at("2026-10-25T00:00:00+02:00"))
        .tz("Europe/Berlin")
        .build()
        .expect("valid")
        .into();
    let zone = t.zone();
    assert_eq!(
        next_n(&t, zone, "2026-10-25T00:00:00+02:00", 4),
        [
            "2026-10-25T01:00:00+02:00",
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T03:00:00+01:00"
        ]
    );
}

#[test]
fn fixed_time_classification() {
    let fixed = |e: &str| CronTrigger::parse(e).expect("valid").is_fixed_time();
    assert!(fixed("30 2 * * *"));
    assert!(fixed("0,30 2 * * *"));
    assert!(fixed("@daily"));
    assert!(!fixed("*/30 * * * *"));
    assert!(!fixed("30 * * * *"));
    assert!(!fixed("0 */2 * * *"));
    assert!(!fixed("@hourly"));
    let fixed_fields = |f: CronFields| {
        CronTrigger::from_fields(f)
            .build()
            .expect("valid")
            .is_fixed_time()
    };
    assert!(fixed_fields(CronFields::new().hour("2")));
    assert!(!fixed_fields(CronFields::new().minute("*/20")));
    assert!(!fixed_fields(CronFields::new().second("*/10")));
}
