//! Crontab strings: grammar, POSIX semantics, rejections and errors.
//! Expected values are worked out by hand from a calendar.

use scheduler_triggers::{parse_cron, CronTrigger, ErrorKind, Trigger, Zone};
use tests::{at, next_n};

fn utc(expr: &str, after: &str, n: usize) -> Vec<String> {
    let t = Trigger::cron(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    next_n(&t, Zone::UTC, after, n)
}

#[test]
fn five_fields_daily() {
    assert_eq!(
        utc("0 0 * * *", "2026-01-15T10:07:00Z", 2),
        ["2026-01-16T00:00:00+00:00", "2026-01-17T00:00:00+00:00"]
    );
}

#[test]
fn strictly_after_a_fire_time() {
    assert_eq!(
        utc("0 0 * * *", "2026-01-16T00:00:00Z", 1),
        ["2026-01-17T00:00:00+00:00"]
    );
    assert_eq!(
        utc("* * * * *", "2026-01-16T00:00:00.5Z", 1),
        ["2026-01-16T00:01:00+00:00"]
    );
}

#[test]
fn six_fields_have_seconds_first() {
    assert_eq!(
        utc("*/15 * * * * *", "2026-01-01T00:00:00Z", 3),
        [
            "2026-01-01T00:00:15+00:00",
            "2026-01-01T00:00:30+00:00",
            "2026-01-01T00:00:45+00:00"
        ]
    );
    assert_eq!(
        utc("30 0 12 * * *", "2026-01-01T00:00:00Z", 1),
        ["2026-01-01T12:00:30+00:00"]
    );
}

#[test]
fn seven_fields_have_a_year() {
    assert_eq!(
        utc("0 0 12 1 1 * 2030", "2026-01-01T00:00:00Z", 3),
        ["2030-01-01T12:00:00+00:00"]
    );
}

#[test]
fn nicknames() {
    let after = "2026-03-01T10:00:00Z"; // a Sunday
    assert_eq!(utc("@yearly", after, 1), ["2027-01-01T00:00:00+00:00"]);
    assert_eq!(utc("@annually", after, 1), ["2027-01-01T00:00:00+00:00"]);
    assert_eq!(utc("@monthly", after, 1), ["2026-04-01T00:00:00+00:00"]);
    assert_eq!(utc("@weekly", after, 1), ["2026-03-08T00:00:00+00:00"]);
    assert_eq!(utc("@daily", after, 1), ["2026-03-02T00:00:00+00:00"]);
    assert_eq!(utc("@hourly", after, 1), ["2026-03-01T11:00:00+00:00"]);
    assert_eq!(utc("@DAILY", after, 1), ["2026-03-02T00:00:00+00:00"]);
}

#[test]
fn names_ranges_steps_lists() {
    // Weekdays at 09:30; 2026-01-02 is a Friday.
    assert_eq!(
        utc("30 9 * * mon-fri", "2026-01-02T12:00:00Z", 2),
        ["2026-01-05T09:30:00+00:00", "2026-01-06T09:30:00+00:00"]
    );
    assert_eq!(
        utc("0 12 1 jan,jul *", "2026-02-01T00:00:00Z", 2),
        ["2026-07-01T12:00:00+00:00", "2027-01-01T12:00:00+00:00"]
    );
    assert_eq!(
        utc("1-30/7 0 * * *", "2026-01-01T00:00:00Z", 5),
        [
            "2026-01-01T00:01:00+00:00",
            "2026-01-01T00:08:00+00:00",
            "2026-01-01T00:15:00+00:00",
            "2026-01-01T00:22:00+00:00",
            "2026-01-01T00:29:00+00:00"
        ]
    );
    assert_eq!(
        utc("5,10 0 * * *", "2026-01-01T00:05:00Z", 2),
        ["2026-01-01T00:10:00+00:00", "2026-01-02T00:05:00+00:00"]
    );
    // `a/n` runs from a to the end of the field.
    assert_eq!(
        utc("50/5 0 * * *", "2026-01-01T00:00:00Z", 3),
        [
            "2026-01-01T00:50:00+00:00",
            "2026-01-01T00:55:00+00:00",
            "2026-01-02T00:50:00+00:00"
        ]
    );
}

#[test]
fn sunday_is_zero_and_seven() {
    let sunday = ["2026-03-08T00:00:00+00:00"];
    assert_eq!(utc("0 0 * * 0", "2026-03-01T10:00:00Z", 1), sunday);
    assert_eq!(utc("0 0 * * 7", "2026-03-01T10:00:00Z", 1), sunday);
    assert_eq!(utc("0 0 * * sun", "2026-03-01T10:00:00Z", 1), sunday);
}

#[test]
fn day_of_month_or_day_of_week() {
    // POSIX: the 13th OR a Friday. Fridays in Jan 2026: 2, 9, 16; the 13th is a Tuesday.
    assert_eq!(
        utc("0 0 13 * fri", "2026-01-01T00:00:00Z", 4),
        [
            "2026-01-02T00:00:00+00:00",
            "2026-01-09T00:00:00+00:00",
            "2026-01-13T00:00:00+00:00",
            "2026-01-16T00:00:00+00:00"
        ]
    );
    // `+` requires both: Friday the 13th (Feb and Mar 2026, Nov 2026).
    assert_eq!(
        utc("0 0 13 * +fri", "2026-01-01T00:00:00Z", 3),
        [
            "2026-02-13T00:00:00+00:00",
            "2026-03-13T00:00:00+00:00",
            "2026-11-13T00:00:00+00:00"
        ]
    );
}

#[test]
fn a_starred_day_field_counts_as_unrestricted() {
    // Vixie cron / cronie: `*/2` starts with `*`, so the day fields are AND-ed:
    // odd days that are Mondays. Mondays in Jan 2026: 5, 12, 19, 26; Feb: 2, 9, 16, 23.
    assert_eq!(
        utc("0 0 */2 * mon", "2026-01-01T00:00:00Z", 4),
        [
            "2026-01-05T00:00:00+00:00",
            "2026-01-19T00:00:00+00:00",
            "2026-02-09T00:00:00+00:00",
            "2026-02-23T00:00:00+00:00"
        ]
    );
    // The same days written as a range without `*` are OR-ed (POSIX): every odd day or Monday.
    assert_eq!(
        utc("0 0 1-31/2 * mon", "2026-01-09T00:00:00Z", 3),
        [
            "2026-01-11T00:00:00+00:00",
            "2026-01-12T00:00:00+00:00",
            "2026-01-13T00:00:00+00:00"
        ]
    );
    // A starred day of week with a restricted day of month: the 1st, when it is a Sunday.
    // 2026-02-01 and 2026-03-01 are Sundays.
    assert_eq!(
        utc("0 0 1 * */7", "2026-01-15T00:00:00Z", 2),
        ["2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"]
    );
}

#[test]
fn day_lists_with_days_missing_from_february() {
    // 1, 11, 21, 31: from late February the next is 1 March (croniter 2.0.7 skips it).
    assert_eq!(
        utc("0 0 */10 * *", "2027-02-27T23:59:30Z", 3),
        [
            "2027-03-01T00:00:00+00:00",
            "2027-03-11T00:00:00+00:00",
            "2027-03-21T00:00:00+00:00"
        ]
    );
}

#[test]
fn sparse_february_29_or_monday() {
    // 29 February OR every Monday of February (POSIX OR rule).
    assert_eq!(
        utc("0 0 29 2 mon", "2027-03-01T00:00:00Z", 6),
        [
            "2028-02-07T00:00:00+00:00",
            "2028-02-14T00:00:00+00:00",
            "2028-02-21T00:00:00+00:00",
            "2028-02-28T00:00:00+00:00",
            "2028-02-29T00:00:00+00:00",
            "2029-02-05T00:00:00+00:00"
        ]
    );
    assert_eq!(
        utc("0 0 29 2 *", "2026-01-01T00:00:00Z", 3),
        [
            "2028-02-29T00:00:00+00:00",
            "2032-02-29T00:00:00+00:00",
            "2036-02-29T00:00:00+00:00"
        ]
    );
}

#[test]
fn last_nearest_weekday_and_nth() {
    assert_eq!(
        utc("0 0 L 2 *", "2026-01-01T00:00:00Z", 3),
        [
            "2026-02-28T00:00:00+00:00",
            "2027-02-28T00:00:00+00:00",
            "2028-02-29T00:00:00+00:00"
        ]
    );
    // 15W: 2026-02-15 is a Sunday -> Monday 16th; 2026-08-15 a Saturday -> Friday 14th.
    assert_eq!(
        utc("0 0 15W 2 *", "2026-01-01T00:00:00Z", 1),
        ["2026-02-16T00:00:00+00:00"]
    );
    assert_eq!(
        utc("0 0 15W 8 *", "2026-01-01T00:00:00Z", 1),
        ["2026-08-14T00:00:00+00:00"]
    );
    // First Monday of the month: 2026-02-02, 2026-03-02.
    assert_eq!(
        utc("0 9 * * mon#1", "2026-01-10T00:00:00Z", 2),
        ["2026-02-02T09:00:00+00:00", "2026-03-02T09:00:00+00:00"]
    );
    // Last Friday: 2026-01-30, 2026-02-27.
    assert_eq!(
        utc("0 17 * * 5L", "2026-01-01T00:00:00Z", 2),
        ["2026-01-30T17:00:00+00:00", "2026-02-27T17:00:00+00:00"]
    );
    assert_eq!(
        utc("0 17 * * 5#L", "2026-01-01T00:00:00Z", 1),
        ["2026-01-30T17:00:00+00:00"]
    );
}

#[test]
fn never_firing_expressions_are_rejected() {
    for expr in [
        "0 0 30 2 *",
        "0 0 31 4 *",
        "0 0 31 4,6,9,11 *",
        "0 0 30,31 feb *",
    ] {
        let err = parse_cron(expr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NeverFires, "{expr}: {err}");
        assert_eq!(err.field(), Some("day of month"));
    }
    // Exists in May: accepted.
    assert!(parse_cron("0 0 31 4,5 *").is_ok());
    // AND-ed day of month and day of week that never agree.
    let err = parse_cron("0 0 30 2 +mon").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeverFires, "{err}");
    // A year in the past never fires again after its start bound.
    let err = CronTrigger::builder("0 0 1 1 * * 2020")
        .start(at("2026-01-01T00:00:00Z"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeverFires);
}

#[test]
fn errors_name_field_position_and_expectation() {
    /// (expression, kind, field, position, text the message must contain)
    type Case<'a> = (&'a str, ErrorKind, Option<&'a str>, Option<usize>, &'a str);
    let cases: &[Case] = &[
        (
            "61 * * * *",
            ErrorKind::Cron,
            Some("minute"),
            Some(0),
            "out of range 0-59",
        ),
        (
            "0 24 * * *",
            ErrorKind::Cron,
            Some("hour"),
            Some(2),
            "out of range 0-23",
        ),
        (
            "* * 0 * *",
            ErrorKind::Cron,
            Some("day of month"),
            Some(4),
            "out of range 1-31",
        ),
        (
            "* * * 13 *",
            ErrorKind::Cron,
            Some("month"),
            Some(6),
            "out of range 1-12",
        ),
        (
            "* * * * 8",
            ErrorKind::Cron,
            Some("day of week"),
            Some(8),
            "out of range 0-7",
        ),
        (
            "* * * * mon#6",
            ErrorKind::Cron,
            Some("day of week"),
            Some(12),
            "1-5 or L",
        ),
        (
            "* * * foo *",
            ErrorKind::Cron,
            Some("month"),
            Some(6),
            "`foo`",
        ),
        (
            "*/0 * * * *",
            ErrorKind::Cron,
            Some("minute"),
            Some(2),
            "at least 1",
        ),
        (
            "5-1 * * * *",
            ErrorKind::Cron,
            Some("minute"),
            Some(0),
            "backwards",
        ),
        (
            "1,,2 * * * *",
            ErrorKind::Cron,
            Some("minute"),
            Some(2),
            "empty",
        ),
        ("* * * *", ErrorKind::Cron, None, Some(0), "4 fields"),
        (
            "* * * * * * * *",
            ErrorKind::Cron,
            None,
            Some(0),
            "8 fields",
        ),
        ("", ErrorKind::Cron, None, None, "empty"),
        (
            "@fortnightly",
            ErrorKind::Cron,
            None,
            Some(0),
            "@fortnightly",
        ),
        (
            "0 0 * * * * 1800",
            ErrorKind::Cron,
            Some("year"),
            Some(12),
            "1970-4999",
        ),
        ("* L * * *", ErrorKind::Cron, Some("hour"), Some(2), "`l`"),
    ];
    for (expr, kind, field, pos, needle) in cases {
        let err = parse_cron(expr).unwrap_err();
        assert_eq!(err.kind(), *kind, "{expr}: {err}");
        assert_eq!(err.field(), *field, "{expr}: {err}");
        assert_eq!(err.position(), *pos, "{expr}: {err}");
        assert!(
            err.to_string().contains(needle),
            "{expr}: `{err}` lacks `{needle}`"
        );
        assert!(
            err.expected().is_some(),
            "{expr}: {err} says nothing of what is valid"
        );
    }
}

#[test]
fn bounds_are_inclusive() {
    let t: Trigger = CronTrigger::builder("0 0 * * *")
        .start(at("2026-01-10T00:00:00Z"))
        .end(at("2026-01-12T00:00:00Z"))
        .build()
        .expect("valid")
        .into();
    assert_eq!(
        next_n(&t, Zone::UTC, "2026-01-01T00:00:00Z", 5),
        [
            "2026-01-10T00:00:00+00:00",
            "2026-01-11T00:00:00+00:00",
            "2026-01-12T00:00:00+00:00"
        ]
    );
    let err = CronTrigger::builder("0 0 * * *")
        .start(at("2026-01-10T00:00:00Z"))
        .end(at("2026-01-09T00:00:00Z"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Bounds);
    let err = CronTrigger::builder("0 0 * * *")
        .start(at("2026-01-10T01:00:00Z"))
        .end(at("2026-01-10T02:00:00Z"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeverFires);
}

#[test]
fn next_fire_time_contract() {
    let t = Trigger::cron("0 * * * *").expect("valid");
    // Without a previous fire: at or after now.
    assert_eq!(
        t.next_fire_time(None, at("2026-01-01T10:00:00Z")),
        Some(at("2026-01-01T10:00:00Z"))
    );
    // With one: strictly after it, whatever now is (so missed runs are visible).
    assert_eq!(
        t.next_fire_time(Some(at("2026-01-01T10:00:00Z")), at("2026-01-01T15:30:00Z")),
        Some(at("2026-01-01T11:00:00Z"))
    );
}

#[test]
fn zones() {
    let t = Trigger::cron_in("30 9 * * mon-fri", "America/New_York").expect("valid");
    assert_eq!(
        next_n(&t, t.zone(), "2026-11-27T20:00:00Z", 1),
        ["2026-11-30T09:30:00-05:00"]
    );
    let err = Trigger::cron_in("* * * * *", "Europe/Berln").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownZone);
    assert_eq!(err.field(), Some("tz"));
    assert!(Trigger::cron_in("* * * * *", "europe/berlin").is_ok());
}
