//! Every trigger round-trips through serde, and a bad stored trigger is an error.

use std::time::Duration;

use scheduler_triggers::{
    parse_instant, CronFields, CronTrigger, DateTrigger, IntervalTrigger, Trigger,
};
use tests::at;

fn round_trip(t: &Trigger) -> Trigger {
    let json = serde_json::to_string(t).expect("serialises");
    let back: Trigger = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(&back, t, "{json}");
    // Same behaviour, not only same data.
    let from = at("2026-03-28T00:00:00Z");
    let a: Vec<_> = t.iter_after(from).take(5).collect();
    let b: Vec<_> = back.iter_after(from).take(5).collect();
    assert_eq!(a, b, "{json}");
    back
}

#[test]
fn every_trigger_round_trips() {
    let cron: Trigger = CronTrigger::builder("30 2 * * *")
        .tz("Europe/Berlin")
        .start(at("2026-01-01T00:00:00Z"))
        .end(at("2027-01-01T00:00:00Z"))
        .build()
        .expect("valid")
        .into();
    let fields: Trigger = CronTrigger::from_fields(CronFields::new().day("last fri").hour("17"))
        .tz("Pacific/Chatham")
        .build()
        .expect("valid")
        .into();
    let interval: Trigger = IntervalTrigger::builder(Duration::from_millis(5_400_250))
        .start(at("2026-01-01T00:00:00Z"))
        .tz("America/New_York")
        .build()
        .expect("valid")
        .into();
    let date: Trigger = DateTrigger::new(at("2026-12-31T23:00:00Z")).into();
    let any = Trigger::any(vec![cron.clone(), interval.clone()]).expect("valid");
    let all = Trigger::all(vec![
        Trigger::cron("0 9 * * *").expect("valid"),
        Trigger::cron("* * * * mon").expect("valid"),
    ])
    .expect("valid");
    for t in [cron, fields, interval, date, any, all] {
        round_trip(&t);
    }
}

#[test]
fn stored_form_is_what_the_user_wrote() {
    let t = Trigger::cron_in("0 9 * * mon-fri", "Europe/Berlin").expect("valid");
    let json = serde_json::to_value(&t).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({"type": "cron", "expr": "0 9 * * mon-fri", "tz": "Europe/Berlin"})
    );
    let t: Trigger = IntervalTrigger::builder(Duration::from_secs(5400))
        .build()
        .expect("valid")
        .into();
    assert_eq!(
        serde_json::to_value(&t).expect("serialises"),
        serde_json::json!({"type": "interval", "every": "1h30m", "tz": "UTC"})
    );
}

#[test]
fn invalid_stored_triggers_are_errors() {
    for (json, needle) in [
        (
            r#"{"type":"cron","expr":"0 25 * * *"}"#,
            "out of range 0-23",
        ),
        (r#"{"type":"cron","expr":"0 0 30 2 *"}"#, "never fires"),
        (
            r#"{"type":"cron","expr":"* * * * *","tz":"Mars/Base"}"#,
            "unknown time zone",
        ),
        (r#"{"type":"cron","fields":{"weekday":"mon"}}"#, "weekday"),
        (r#"{"type":"interval","every":"0s"}"#, "longer than zero"),
        (r#"{"type":"interval","every":"5 parsecs"}"#, "unknown unit"),
        (r#"{"type":"date","at":"yesterday"}"#, "input"),
        (r#"{"type":"teleport"}"#, "teleport"),
    ] {
        let err = serde_json::from_str::<Trigger>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{json}: `{err}` lacks `{needle}`");
    }
}

#[test]
fn zone_names_are_canonical() {
    let t = Trigger::cron_in("0 0 * * *", "europe/berlin").expect("valid");
    let json = serde_json::to_string(&t).expect("serialises");
    assert!(json.contains("\"Europe/Berlin\""), "{json}");
    assert!(parse_instant("2026-01-01T00:00:00+01:00").is_ok());
}
