//! APScheduler-style field triggers: APScheduler 3's grammar and defaults.
//! Expected values worked out by hand from a calendar.

use scheduler_triggers::{parse_field, CronFields, CronTrigger, ErrorKind, Trigger, Zone};
use tests::next_n;

fn utc(f: CronFields, after: &str, n: usize) -> Vec<String> {
    let t: Trigger = CronTrigger::from_fields(f.clone())
        .build()
        .unwrap_or_else(|e| panic!("{f:?}: {e}"))
        .into();
    next_n(&t, Zone::UTC, after, n)
}

#[test]
fn lower_fields_default_to_minimum() {
    // hour=3 alone: 03:00:00 every day (the seed's "cron, hour=3").
    assert_eq!(
        utc(CronFields::new().hour("3"), "2026-01-01T05:00:00Z", 2),
        ["2026-01-02T03:00:00+00:00", "2026-01-03T03:00:00+00:00"]
    );
    // hour=0: midnight.
    assert_eq!(
        utc(CronFields::new().hour("0"), "2026-01-01T05:00:00Z", 1),
        ["2026-01-02T00:00:00+00:00"]
    );
    // Fields above the last given one stay `*`: month=6, hour=3 is every June day at 03:00.
    assert_eq!(
        utc(
            CronFields::new().month("6").hour("3"),
            "2026-01-01T00:00:00Z",
            2
        ),
        ["2026-06-01T03:00:00+00:00", "2026-06-02T03:00:00+00:00"]
    );
    // month alone: day defaults to 1, time to 00:00:00.
    assert_eq!(
        utc(
            CronFields::new().month("jun-aug"),
            "2026-01-01T00:00:00Z",
            3
        ),
        [
            "2026-06-01T00:00:00+00:00",
            "2026-07-01T00:00:00+00:00",
            "2026-08-01T00:00:00+00:00"
        ]
    );
    // day_of_week keeps `*` for week, and time defaults to midnight.
    assert_eq!(
        utc(
            CronFields::new().day_of_week("sat,sun"),
            "2026-01-01T00:00:00Z",
            2
        ),
        ["2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"]
    );
    // No field at all: every second.
    assert_eq!(
        utc(CronFields::new(), "2026-01-01T00:00:00Z", 2),
        ["2026-01-01T00:00:01+00:00", "2026-01-01T00:00:02+00:00"]
    );
}

#[test]
fn numeric_day_of_week_counts_from_monday() {
    // 2026-01-01 is a Thursday; 0 = Monday in APScheduler's field form.
    assert_eq!(
        utc(
            CronFields::new().day_of_week("0"),
            "2026-01-01T00:00:00Z",
            1
        ),
        ["2026-01-05T00:00:00+00:00"]
    );
    assert_eq!(
        utc(
            CronFields::new().day_of_week("6"),
            "2026-01-01T00:00:00Z",
            1
        ),
        ["2026-01-04T00:00:00+00:00"]
    );
}

#[test]
fn business_hours_every_quarter() {
    assert_eq!(
        utc(
            CronFields::new()
                .day_of_week("mon-fri")
                .hour("9-17")
                .minute("*/15"),
            "2026-01-02T17:40:00Z", // Friday
            3
        ),
        [
            "2026-01-02T17:45:00+00:00",
            "2026-01-05T09:00:00+00:00",
            "2026-01-05T09:15:00+00:00"
        ]
    );
}

#[test]
fn step_on_a_name_range_is_honoured() {
    // APScheduler 3 drops the step; we honour it: Mon, Wed, Fri.
    assert_eq!(
        utc(
            CronFields::new().day_of_week("mon-fri/2"),
            "2026-01-04T00:00:00Z",
            4
        ),
        [
            "2026-01-05T00:00:00+00:00",
            "2026-01-07T00:00:00+00:00",
            "2026-01-09T00:00:00+00:00",
            "2026-01-12T00:00:00+00:00"
        ]
    );
}

#[test]
fn day_specials() {
    assert_eq!(
        utc(CronFields::new().day("last"), "2026-01-31T00:00:00Z", 2),
        ["2026-02-28T00:00:00+00:00", "2026-03-31T00:00:00+00:00"]
    );
    assert_eq!(
        utc(
            CronFields::new().day("last fri").hour("17"),
            "2026-01-01T00:00:00Z",
            2
        ),
        ["2026-01-30T17:00:00+00:00", "2026-02-27T17:00:00+00:00"]
    );
    assert_eq!(
        utc(CronFields::new().day("1st mon"), "2026-01-10T00:00:00Z", 2),
        ["2026-02-02T00:00:00+00:00", "2026-03-02T00:00:00+00:00"]
    );
    // A list mixing a number and a special.
    assert_eq!(
        utc(CronFields::new().day("1,last"), "2026-01-02T00:00:00Z", 3),
        [
            "2026-01-31T00:00:00+00:00",
            "2026-02-01T00:00:00+00:00",
            "2026-02-28T00:00:00+00:00"
        ]
    );
}

#[test]
fn week_and_year() {
    // ISO week 1 of 2027 starts Monday 2027-01-04.
    assert_eq!(
        utc(
            CronFields::new().week("1").day_of_week("mon"),
            "2026-06-01T00:00:00Z",
            1
        ),
        ["2027-01-04T00:00:00+00:00"]
    );
    assert_eq!(
        utc(
            CronFields::new().year("2028-2030/2").month("1").day("1"),
            "2026-01-01T00:00:00Z",
            3
        ),
        ["2028-01-01T00:00:00+00:00", "2030-01-01T00:00:00+00:00"]
    );
}

#[test]
fn sparse_leap_day_on_monday() {
    // Fields are AND-ed: 29 February that is a Monday (2044, 2072, 2112: 2100 is no leap year).
    assert_eq!(
        utc(
            CronFields::new().month("2").day("29").day_of_week("mon"),
            "2026-01-01T00:00:00Z",
            3
        ),
        [
            "2044-02-29T00:00:00+00:00",
            "2072-02-29T00:00:00+00:00",
            "2112-02-29T00:00:00+00:00"
        ]
    );
}

#[test]
fn never_firing_fields_are_rejected() {
    for f in [
        CronFields::new().month("2").day("30"),
        CronFields::new().month("4").day("31"),
        CronFields::new().month("2").day("5th mon").year("2026"),
    ] {
        let err = CronTrigger::from_fields(f.clone()).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NeverFires, "{f:?}: {err}");
    }
}

#[test]
fn errors_name_field_position_and_expectation() {
    let cases: &[(&str, &str, ErrorKind, Option<usize>, &str)] = &[
        ("hour", "24", ErrorKind::Field, Some(0), "out of range 0-23"),
        (
            "hour",
            "9-25",
            ErrorKind::Field,
            Some(2),
            "out of range 0-23",
        ),
        ("minute", "*/0", ErrorKind::Field, Some(2), "at least 1"),
        ("month", "13", ErrorKind::Field, Some(0), "1-12"),
        ("day_of_week", "7", ErrorKind::Field, Some(0), "0-6"),
        (
            "day_of_week",
            "funday",
            ErrorKind::Field,
            Some(0),
            "`funday`",
        ),
        ("day", "6th mon", ErrorKind::Field, Some(0), "1st"),
        ("day", "last frx", ErrorKind::Field, Some(5), "weekday"),
        ("day", "5-1", ErrorKind::Field, Some(0), "backwards"),
        ("week", "54", ErrorKind::Field, Some(0), "1-53"),
        ("year", "1969", ErrorKind::Field, Some(0), "1970-9999"),
        ("second", "1,,2", ErrorKind::Field, Some(2), "empty"),
        (
            "weekday",
            "mon",
            ErrorKind::UnknownField,
            None,
            "no such field",
        ),
    ];
    for (name, expr, kind, pos, needle) in cases {
        let err = parse_field(name, expr).unwrap_err();
        assert_eq!(err.kind(), *kind, "{name}={expr}: {err}");
        assert_eq!(err.position(), *pos, "{name}={expr}: {err}");
        assert_eq!(err.field(), Some(*name), "{name}={expr}: {err}");
        assert!(
            err.to_string().contains(needle),
            "{name}={expr}: `{err}` lacks `{needle}`"
        );
        assert!(err.expected().is_some(), "{name}={expr}: {err}");
    }
    let err = CronFields::new()
        .set("hour", "1")
        .and_then(|f| f.set("hour", "2"))
        .unwrap_err();
    assert!(err.to_string().contains("more than once"), "{err}");
}
