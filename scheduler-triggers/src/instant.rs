//! Instants written in RFC 3339.

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};

/// Parses an RFC 3339 instant with its UTC offset (`2026-03-29T03:00:00+02:00`,
/// `2026-12-31T23:00:00Z`). A date-time without an offset is ambiguous and rejected.
///
/// ```
/// use scheduler_triggers::parse_instant;
///
/// let t = parse_instant("2026-03-29T03:00:00+02:00")?;
/// assert_eq!(t.to_rfc3339(), "2026-03-29T01:00:00+00:00");
/// assert!(parse_instant("2026-03-29T03:00:00").is_err());
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, Error> {
    let trimmed = text.trim();
    match DateTime::parse_from_rfc3339(trimmed) {
        Ok(t) => Ok(t.with_timezone(&Utc)),
        Err(e) => {
            let looks_naive =
                chrono::NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
                    || chrono::NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f")
                        .is_ok();
            let message = if looks_naive {
                "the UTC offset is missing".to_owned()
            } else {
                e.to_string()
            };
            Err(Error::new(ErrorKind::Instant, text, message)
                .expecting("RFC 3339 with an offset, like `2026-12-31T23:00:00Z` or `2026-03-29T03:00:00+02:00`"))
        }
    }
}
