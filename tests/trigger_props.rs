//! Property tests: no input panics the parsers or the engine, and fire times
//! are strictly increasing and match the expression.

use chrono::{DateTime, TimeZone, Timelike, Utc};
use proptest::prelude::*;
use scheduler_triggers::{
    parse_cron, parse_duration, parse_field, parse_instant, parse_zone, CronFields, CronTrigger,
    Trigger, FIELD_NAMES,
};

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
];

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1970 .. 2200, at any nanosecond.
    (0i64..7_258_118_400, 0u32..1_000_000_000).prop_map(|(s, n)| {
        Utc.timestamp_opt(s, n)
            .single()
            .unwrap_or(DateTime::UNIX_EPOCH)
    })
}

fn cron_item(lo: u32, hi: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        (lo..=hi).prop_map(|v| v.to_string()),
        (lo..=hi, lo..=hi).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        (1..=(hi - lo + 1).min(12)).prop_map(|s| format!("*/{s}")),
        (lo..=hi, lo..=hi, 1u32..5).prop_map(|(a, b, s)| format!("{}-{}/{s}", a.min(b), a.max(b))),
    ]
}

fn cron_field(lo: u32, hi: u32) -> impl Strategy<Value = String> {
    prop::collection::vec(cron_item(lo, hi), 1..3).prop_map(|v| v.join(","))
}

fn cron_expr() -> impl Strategy<Value = String> {
    (
        cron_field(0, 59),
        cron_field(0, 23),
        cron_field(1, 31),
        cron_field(1, 12),
        cron_field(0, 7),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = parse_cron(&s);
        let _ = parse_duration(&s);
        let _ = parse_instant(&s);
        let _ = parse_zone(&s);
        for name in FIELD_NAMES {
            let _ = parse_field(name, &s);
        }
    }

    #[test]
    fn cron_like_strings_never_panic(s in "[0-9*/,\\-LW#?+ a-zA-Z@]{0,30}") {
        let _ = parse_cron(&s);
        for name in FIELD_NAMES {
            let _ = parse_field(name, &s);
        }
    }

    #[test]
    fn cron_fire_times_increase_and_match(expr in cron_expr(), zone in prop::sample::select(ZONES), from in instant()) {
        let Ok(t) = CronTrigger::builder(&expr).tz(zone).build() else { return Ok(()) };
        // Reference: croner itself, with Vixie's rule that a starred day field
        // (`*/2`) AND-s the day fields, written out as croner's `+`.
        let parts: Vec<&str> = expr.split(' ').collect();
        let starred = |f: &str| f.starts_with('*') && f != "*";
        let and_days = (starred(parts[2]) && parts[4] != "*") || (starred(parts[4]) && parts[2] != "*");
        let reference_expr = if and_days { format!("{} +{}", parts[..4].join(" "), parts[4]) } else { expr.clone() };
        let reference = croner::parser::CronParser::builder().sloppy_ranges(true).build().parse(&reference_expr)
            .map_err(|e| TestCaseError::fail(format!("{reference_expr}: {e}")))?;
        let mut last = from;
        for next in Trigger::from(t.clone()).iter_after(from).take(5) {
            prop_assert!(next > last, "{expr} in {zone}: {next} not after {last}");
            // The local wall-clock time matches the expression, unless this is a
            // fixed-time job moved to the end of a DST gap (the offset changed
            // in the second before it).
            let tz = t.zone().tz();
            let local = next.with_timezone(&tz).naive_local().and_utc();
            let after_gap = t.is_fixed_time()
                && (next - chrono::TimeDelta::seconds(1)).with_timezone(&tz).offset() != next.with_timezone(&tz).offset();
            prop_assert!(reference.is_time_matching(&local).unwrap_or(false) || after_gap,
                "{expr} in {zone}: {next} ({local} local) does not match");
            prop_assert_eq!(next.nanosecond(), 0);
            last = next;
        }
    }

    #[test]
    fn field_fire_times_increase(
        hour in cron_field(0, 23),
        minute in cron_field(0, 59),
        dow in prop::sample::select(&["*", "mon-fri", "sun", "0,3"][..]),
        day in prop::sample::select(&["*", "last", "1st mon", "last fri", "15", "29-31"][..]),
        zone in prop::sample::select(ZONES),
        from in instant(),
    ) {
        let f = CronFields::new().day(day).day_of_week(dow).hour(hour.clone()).minute(minute.clone());
        let Ok(t) = CronTrigger::from_fields(f).tz(zone).build() else { return Ok(()) };
        let mut last = from;
        for next in Trigger::from(t).iter_after(from).take(5) {
            prop_assert!(next > last, "{day} {dow} {hour} {minute} in {zone}: {next} not after {last}");
            prop_assert_eq!(next.second(), 0);
            last = next;
        }
    }

    #[test]
    fn interval_fire_times_are_on_the_grid(secs in 1u64..1_000_000, start in instant(), from in instant()) {
        let Ok(t) = Trigger::interval(std::time::Duration::from_secs(secs)) else { return Ok(()) };
        let _ = t.next_fire_time(None, from);
        let t: Trigger = scheduler_triggers::IntervalTrigger::builder(std::time::Duration::from_secs(secs))
            .start(start).build().map_err(|e| TestCaseError::fail(e.to_string()))?.into();
        let mut last = from;
        for next in t.iter_after(from).take(3) {
            prop_assert!(next > last);
            prop_assert_eq!((next - start).num_seconds() % secs as i64, 0);
            last = next;
        }
    }
}
