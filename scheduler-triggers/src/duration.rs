//! Durations written as `90s`, `15m`, `1h30m`, `2d`, `1w`, `250ms`.

use std::time::Duration;

use crate::error::{Error, ErrorKind};

const UNITS: &str = "`w`, `d`, `h`, `m`, `s`, `ms`, `us` or `ns`";

/// Parses a duration: one or more `<number><unit>` parts, largest unit first
/// or in any order, summed. Units: `w` (weeks), `d`, `h`, `m`, `s`, `ms`, `us`, `ns`.
/// A number may have a fraction (`1.5h`). Spaces between parts are allowed.
///
/// ```
/// use std::time::Duration;
/// use scheduler_triggers::parse_duration;
///
/// assert_eq!(parse_duration("90s")?, Duration::from_secs(90));
/// assert_eq!(parse_duration("1h30m")?, Duration::from_secs(5400));
/// assert_eq!(parse_duration("1w")?, Duration::from_secs(7 * 86400));
/// assert_eq!(parse_duration("250ms")?, Duration::from_millis(250));
/// assert!(parse_duration("15").is_err()); // the unit is required
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    let err = |pos: usize, msg: &str| {
        Error::new(ErrorKind::Duration, text, msg)
            .at(pos)
            .expecting(format!(
                "parts like `90s`, `15m`, `1h30m`, `2d`, `1w` with units {UNITS}"
            ))
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut total: u128 = 0;
    let mut parts = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let num_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        if i == num_start {
            return Err(err(num_start, "expected a number"));
        }
        let number = &text[num_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &text[unit_start..i];
        let nanos_per: u128 = match unit {
            "w" => 7 * 86_400 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "m" | "min" => 60 * 1_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" | "µs" => 1_000,
            "ns" => 1,
            "" => return Err(err(unit_start, "missing unit after the number")),
            _ => return Err(err(unit_start, &format!("unknown unit `{unit}`"))),
        };
        let nanos = scale(number, nanos_per).ok_or_else(|| err(num_start, "bad number"))?;
        total = total
            .checked_add(nanos)
            .ok_or_else(|| err(num_start, "too large"))?;
        parts += 1;
    }
    if parts == 0 {
        return Err(err(0, "empty duration"));
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| err(0, "too large"))?;
    // Cap at what chrono can add to an instant: about 292 years.
    if secs > i64::MAX as u64 / 1_000_000_000 {
        return Err(err(0, "too large (more than 292 years)"));
    }
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
}

/// `number` (digits with at most one `.`) times `per`, in integer nanoseconds.
fn scale(number: &str, per: u128) -> Option<u128> {
    let (int, frac) = match number.split_once('.') {
        Some((i, f)) if !f.contains('.') => (i, f),
        Some(_) => return None,
        None => (number, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut value = int.checked_mul(per)?;
    let mut denom: u128 = 1;
    let mut frac_value: u128 = 0;
    for c in frac.bytes().take(18) {
        denom *= 10;
        frac_value = frac_value * 10 + u128::from(c - b'0');
    }
    value = value.checked_add(frac_value.checked_mul(per)? / denom)?;
    Some(value)
}

/// Formats a duration in the grammar [`parse_duration`] reads, largest units first
/// (`5400s` → `1h30m`).
///
/// ```
/// use std::time::Duration;
/// use scheduler_triggers::format_duration;
/// assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
/// ```
pub fn format_duration(d: Duration) -> String {
    let mut out = String::new();
    let mut secs = d.as_secs();
    for (unit, size) in [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    let mut nanos = u64::from(d.subsec_nanos());
    for (unit, size) in [("ms", 1_000_000), ("us", 1_000), ("ns", 1)] {
        if nanos >= size {
            out.push_str(&format!("{}{unit}", nanos / size));
            nanos %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}
