//! Shows the next fire times of a few triggers, in their time zones.
//!
//! Run: `cargo run -p examples --example next_fire_times`
use scheduler::prelude::*;
use scheduler::trigger::Error;

fn main() -> Result<(), Error> {
    let now = chrono::Utc::now();
    let triggers = [
        (
            "nightly report, Berlin",
            Trigger::cron_in("0 0 * * *", "Europe/Berlin")?,
        ),
        (
            "weekdays 09:30, New York",
            Trigger::cron_in("30 9 * * mon-fri", "America/New_York")?,
        ),
        (
            "last Friday of the month, 17:00 UTC",
            CronTrigger::from_fields(CronFields::new().day("last fri").hour("17"))
                .build()?
                .into(),
        ),
        (
            "every 90 minutes",
            Trigger::interval(std::time::Duration::from_secs(90 * 60))?,
        ),
    ];
    for (what, trigger) in &triggers {
        println!("{what}:");
        for t in trigger.iter_after(now).take(3) {
            println!("  {}", trigger.zone().localize(t).to_rfc3339());
        }
    }
    Ok(())
}
