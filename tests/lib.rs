//! Shared helpers for the workspace's integration tests.

use chrono::{DateTime, Utc};
use scheduler_triggers::{Trigger, Zone};

/// Parses an RFC 3339 instant; panics on a typo in a test.
pub fn at(s: &str) -> DateTime<Utc> {
    match scheduler_triggers::parse_instant(s) {
        Ok(t) => t,
        Err(e) => panic!("bad instant in test: {e}"),
    }
}

/// The next `n` fire times after `after`, shown with the zone's offset.
pub fn next_n(trigger: &Trigger, zone: Zone, after: &str, n: usize) -> Vec<String> {
    trigger
        .iter_after(at(after))
        .take(n)
        .map(|t| zone.localize(t).to_rfc3339())
        .collect()
}
