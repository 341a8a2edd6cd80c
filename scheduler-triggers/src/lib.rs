//! The trigger engine of the scheduler: pure time math, no I/O.
//!
//! A trigger answers one question, [`Trigger::next_fire_time`]: given the
//! previous fire time (or none) and now, when does it fire next? Answers are
//! always strictly after the previous fire time, and `None` means finished.
//!
//! - [`DateTrigger`]: once, at an instant.
//! - [`IntervalTrigger`]: every fixed amount of elapsed time, optionally from a
//!   start and until an end.
//! - [`CronTrigger`]: wall-clock times in an IANA time zone, from a crontab string
//!   (POSIX / Vixie semantics, via `croner`) or from APScheduler-style
//!   [`CronFields`], with the DST rule documented on [`CronTrigger`].
//! - [`Trigger::any`] / [`Trigger::all`]: combinations.
//! - [`Jitter`]: a random delay applied at dispatch, never past the next fire.
//!
//! One parser serves every text form, so the `#[scheduled]` macro validates at
//! compile time exactly what the runtime accepts: [`parse_cron`],
//! [`parse_field`], [`parse_duration`], [`parse_instant`], [`parse_zone`].
//! Every bad input is an [`Error`] naming the field, the position and what was expected.
//!
//! ```
//! use scheduler_triggers::{parse_instant, CronFields, CronTrigger, Trigger};
//!
//! // Weekdays every 15 minutes between 09:00 and 17:45, Berlin time.
//! let fields = CronFields::new().day_of_week("mon-fri").hour("9-17").minute("*/15");
//! let t: Trigger = CronTrigger::from_fields(fields).tz("Europe/Berlin").build()?.into();
//! let mut times = t.iter_after(parse_instant("2026-11-27T16:40:00Z")?);
//! assert_eq!(times.next(), Some(parse_instant("2026-11-27T16:45:00Z")?)); // Fri 17:45 CET
//! assert_eq!(times.next(), Some(parse_instant("2026-11-30T08:00:00Z")?)); // Mon 09:00 CET
//! # Ok::<(), scheduler_triggers::Error>(())
//! ```

mod bounds;
mod cron;
mod crontab;
mod date;
mod duration;
mod error;
mod fields;
mod fields_match;
mod instant;
mod interval;
mod jitter;
mod spec;
mod trigger;
mod wallclock;
mod zone;

pub use cron::{CronBuilder, CronTrigger};
pub use date::DateTrigger;
pub use duration::{format_duration, parse_duration};
pub use error::{Error, ErrorKind};
pub use fields::{parse_field, CronFields, FIELD_NAMES};
pub use instant::parse_instant;
pub use interval::{IntervalBuilder, IntervalTrigger};
pub use jitter::Jitter;
pub use spec::TriggerSpec;
pub use trigger::Trigger;
pub use zone::Zone;

/// Validates a crontab string (5, 6 or 7 fields, or a nickname such as `@daily`),
/// including that it can ever fire.
///
/// ```
/// use scheduler_triggers::{parse_cron, ErrorKind};
/// parse_cron("*/5 * * * *")?;
/// assert_eq!(parse_cron("0 0 30 2 *").unwrap_err().kind(), ErrorKind::NeverFires);
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
pub fn parse_cron(expr: &str) -> Result<(), Error> {
    CronTrigger::parse(expr).map(|_| ())
}

/// Parses an IANA time zone name (exact, then case-insensitive).
///
/// ```
/// use scheduler_triggers::parse_zone;
/// assert_eq!(parse_zone("Pacific/Chatham")?.name(), "Pacific/Chatham");
/// assert!(parse_zone("Europe/Berln").is_err());
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
pub fn parse_zone(name: &str) -> Result<Zone, Error> {
    zone::parse(name)
}
