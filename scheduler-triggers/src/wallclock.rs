//! The DST policy: from wall-clock matches to instants.
//!
//! A wall-clock trigger (crontab string or APScheduler fields) matches local
//! times of its zone. [`next_after`] turns those matches into instants with
//! Vixie cron's rule, the one documented on [`crate::CronTrigger`]:
//!
//! - a *fixed-time* job (no `*` in its minute and hour fields) whose local time
//!   falls in a spring-forward gap fires once, at the first instant after the gap;
//!   in a fall-back overlap it fires once, at the earlier instant;
//! - an *interval-like* job skips local times that do not exist and fires in both
//!   passes of a repeated hour;
//! - several matches that map to one instant fire once (results are strictly increasing).

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Something that matches wall-clock times, at one-second resolution.
pub(crate) trait LocalMatcher {
    /// The first matching local time at or after `from` (whole seconds), or
    /// `None` if there is none before the engine's year limit.
    fn next_local(&self, from: NaiveDateTime) -> Option<NaiveDateTime>;
}

const ONE_SECOND: TimeDelta = TimeDelta::seconds(1);

fn offset_secs(tz: Tz, instant: &NaiveDateTime) -> i64 {
    i64::from(tz.offset_from_utc_datetime(instant).fix().local_minus_utc())
}

/// The first instant strictly after `after` at which the matcher fires in `tz`.
pub(crate) fn next_after<M: LocalMatcher + ?Sized>(
    matcher: &M,
    tz: Tz,
    fixed_time: bool,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let p = after.naive_utc();
    let off_p = offset_secs(tz, &p);
    let local_p = p
        .checked_add_signed(TimeDelta::seconds(off_p))?
        .with_nanosecond(0)?;

    let first = search_forward(
        matcher,
        tz,
        fixed_time,
        p,
        local_p.checked_add_signed(ONE_SECOND)?,
    );

    if fixed_time {
        return first;
    }
    // An interval-like job fires in both passes of a repeated hour. When `after`
    // lies in the first pass, local times before `local_p` come round again.
    let LocalResult::Ambiguous(_, late) = tz.from_local_datetime(&local_p) else {
        return first;
    };
    let late = late.naive_utc();
    if p >= late.checked_sub_signed(ONE_SECOND)? {
        return first; // already in the second pass
    }
    let off_late = offset_secs(tz, &late);
    let transition = first_instant_with_offset(tz, p, late, off_late);
    let overlap_start = transition.checked_add_signed(TimeDelta::seconds(off_late))?;
    let second_pass = matcher
        .next_local(overlap_start)
        .filter(|n| *n <= local_p)
        .and_then(|n| n.checked_sub_signed(TimeDelta::seconds(off_late)))
        .filter(|i| *i > p)
        .map(|i| i.and_utc());
    match (first, second_pass) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Walks wall-clock matches from `cursor` until one maps to an instant after `p`.
fn search_forward<M: LocalMatcher + ?Sized>(
    matcher: &M,
    tz: Tz,
    fixed_time: bool,
    p: NaiveDateTime,
    mut cursor: NaiveDateTime,
) -> Option<DateTime<Utc>> {
    loop {
        let n = matcher.next_local(cursor)?;
        match tz.from_local_datetime(&n) {
            LocalResult::Single(dt) => {
                let i = dt.naive_utc();
                if i > p {
                    return Some(i.and_utc());
                }
            }
            LocalResult::Ambiguous(early, late) => {
                let (early, late) = (early.naive_utc(), late.naive_utc());
                if early > p {
                    return Some(early.and_utc());
                }
                if !fixed_time && late > p {
                    return Some(late.and_utc());
                }
            }
            LocalResult::None => {
                if fixed_time {
                    let end = gap_end(tz, n)?;
                    if end > p {
                        return Some(end.and_utc());
                    }
                }
            }
        }
        cursor = n.checked_add_signed(ONE_SECOND)?;
    }
}

/// The first instant whose local time is after `local`, a time in a gap: the
/// instant the clock jumped forward.
fn gap_end(tz: Tz, local: NaiveDateTime) -> Option<NaiveDateTime> {
    let local_of = |i: &NaiveDateTime| i.checked_add_signed(TimeDelta::seconds(offset_secs(tz, i)));
    let mut lo = local.checked_sub_signed(TimeDelta::hours(15))?;
    let mut hi = local.checked_add_signed(TimeDelta::hours(15))?;
    while hi - lo > ONE_SECOND {
        let mid = lo + (hi - lo) / 2;
        let mid = mid.with_nanosecond(0)?;
        if local_of(&mid)? > local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// The first instant in `(lo, hi]` whose UTC offset is `offset` (binary search; `hi` has it).
fn first_instant_with_offset(
    tz: Tz,
    mut lo: NaiveDateTime,
    mut hi: NaiveDateTime,
    offset: i64,
) -> NaiveDateTime {
    while hi - lo > ONE_SECOND {
        let mid = lo + (hi - lo) / 2;
        let mid = mid.with_nanosecond(0).unwrap_or(mid);
        if offset_secs(tz, &mid) == offset {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}
