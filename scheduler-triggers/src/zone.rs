//! IANA time zones by name.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind};

/// An IANA time zone (`Europe/Berlin`, `America/New_York`, `UTC`).
///
/// Names are matched exactly first, then case-insensitively, so `europe/berlin` works too.
/// Serialises as its canonical name.
///
/// ```
/// use scheduler_triggers::Zone;
///
/// let berlin: Zone = "Europe/Berlin".parse()?;
/// assert_eq!(berlin.name(), "Europe/Berlin");
/// assert!("Mars/Olympus_Mons".parse::<Zone>().is_err());
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Zone(Tz);

impl Zone {
    /// Coordinated Universal Time, the default zone of every trigger.
    pub const UTC: Zone = Zone(Tz::UTC);

    /// Parses an IANA zone name. See [`crate::parse_zone`].
    pub fn new(name: &str) -> Result<Zone, Error> {
        crate::parse_zone(name)
    }

    /// The canonical IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The underlying `chrono-tz` zone.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The UTC offset of this zone at `instant`.
    pub fn offset_at(&self, instant: DateTime<Utc>) -> FixedOffset {
        self.0.offset_from_utc_datetime(&instant.naive_utc()).fix()
    }

    /// `instant` as a date-time with this zone's UTC offset at that instant,
    /// which is how fire times are shown (`2026-03-29T03:00:00+02:00`).
    pub fn localize(&self, instant: DateTime<Utc>) -> DateTime<FixedOffset> {
        instant.with_timezone(&self.offset_at(instant))
    }
}

impl From<Tz> for Zone {
    fn from(tz: Tz) -> Zone {
        Zone(tz)
    }
}

impl FromStr for Zone {
    type Err = Error;
    fn from_str(s: &str) -> Result<Zone, Error> {
        crate::parse_zone(s)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Zone, D::Error> {
        let name = String::deserialize(d)?;
        crate::parse_zone(&name).map_err(serde::de::Error::custom)
    }
}

pub(crate) fn parse(name: &str) -> Result<Zone, Error> {
    let trimmed = name.trim();
    if let Ok(tz) = Tz::from_str(trimmed) {
        return Ok(Zone(tz));
    }
    if let Ok(tz) = Tz::from_str_insensitive(trimmed) {
        return Ok(Zone(tz));
    }
    Err(Error::new(
        ErrorKind::UnknownZone,
        name,
        "not a time zone of the IANA database",
    )
    .in_field("tz")
    .expecting("an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`"))
}
