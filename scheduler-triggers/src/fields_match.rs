//! Matching APScheduler fields on wall-clock time.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::fields::{Field, Item, BOUNDS};
use crate::wallclock::LocalMatcher;

/// Compiled fields as bit sets, except the year (ranges) and the day (bits plus specials).
#[derive(Clone, Debug)]
pub(crate) struct FieldsMatcher {
    years: Vec<(u32, u32, u32)>,
    months: u64,
    day_bits: u64,
    last_day: bool,
    /// `(nth, weekday)`; nth 0 = last.
    nths: Vec<(u32, u32)>,
    weeks: u64,
    weekdays: u64,
    hours: u64,
    minutes: u64,
    seconds: u64,
}

fn bits(field: &Field) -> u64 {
    let mut b = 0u64;
    for item in &field.items {
        if let Item::Range { first, last, step } = item {
            let mut v = *first;
            while v <= *last {
                b |= 1 << v;
                v += step;
            }
        }
    }
    b
}

/// The smallest set bit `>= from`.
fn next_bit(set: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let masked = set & (u64::MAX << from);
    (masked != 0).then(|| masked.trailing_zeros())
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl FieldsMatcher {
    pub(crate) fn new(fields: &[Field; 8]) -> FieldsMatcher {
        let years = fields[0]
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Range { first, last, step } => Some((*first, *last, *step)),
                _ => None,
            })
            .collect();
        let mut last_day = false;
        let mut nths = Vec::new();
        for item in &fields[2].items {
            match item {
                Item::LastDay => last_day = true,
                Item::Nth { nth, weekday } => nths.push((*nth, *weekday)),
                Item::Range { .. } => {}
            }
        }
        FieldsMatcher {
            years,
            months: bits(&fields[1]),
            day_bits: bits(&fields[2]),
            last_day,
            nths,
            weeks: bits(&fields[3]),
            weekdays: bits(&fields[4]),
            hours: bits(&fields[5]),
            minutes: bits(&fields[6]),
            seconds: bits(&fields[7]),
        }
    }

    /// The first matching year `>= year`.
    fn next_year(&self, year: u32) -> Option<u32> {
        self.years
            .iter()
            .filter_map(|&(first, last, step)| {
                if year > last {
                    None
                } else if year <= first {
                    Some(first)
                } else {
                    let k = (year - first).div_ceil(step);
                    let y = first + k * step;
                    (y <= last).then_some(y)
                }
            })
            .min()
    }

    /// Whether `date` (whose year and month already match) matches day, week and weekday.
    fn day_matches(&self, date: NaiveDate) -> bool {
        let weekday = date.weekday().num_days_from_monday();
        if self.weekdays & (1 << weekday) == 0 {
            return false;
        }
        if self.weeks & (1 << date.iso_week().week()) == 0 {
            return false;
        }
        let day = date.day();
        if self.day_bits & (1 << day) != 0 {
            return true;
        }
        let dim = days_in_month(date.year(), date.month());
        if self.last_day && day == dim {
            return true;
        }
        self.nths.iter().any(|&(nth, wd)| {
            wd == weekday
                && if nth == 0 {
                    day + 7 > dim
                } else {
                    (day - 1) / 7 + 1 == nth
                }
        })
    }

    /// The first matching time of day at or after `h:m:s`.
    fn next_time(&self, h: u32, m: u32, s: u32) -> Option<NaiveTime> {
        let first_min = next_bit(self.minutes, 0)?;
        let first_sec = next_bit(self.seconds, 0)?;
        let mut hour = next_bit(self.hours, h)?;
        if hour > h {
            return NaiveTime::from_hms_opt(hour, first_min, first_sec);
        }
        // Same hour: look for a minute/second in it.
        if let Some(minute) = next_bit(self.minutes, m) {
            if minute > m {
                return NaiveTime::from_hms_opt(hour, minute, first_sec);
            }
            if let Some(second) = next_bit(self.seconds, s).filter(|v| *v < 60) {
                return NaiveTime::from_hms_opt(hour, minute, second);
            }
            if let Some(minute) = next_bit(self.minutes, m + 1).filter(|v| *v < 60) {
                return NaiveTime::from_hms_opt(hour, minute, first_sec);
            }
        }
        hour = next_bit(self.hours, h + 1).filter(|v| *v < 24)?;
        NaiveTime::from_hms_opt(hour, first_min, first_sec)
    }
}

impl LocalMatcher for FieldsMatcher {
    fn next_local(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let max_year = BOUNDS[0].1;
        let mut date = from.date();
        let mut time = Some((from.hour(), from.minute(), from.second()));
        loop {
            let year = u32::try_from(date.year()).ok()?;
            if year > max_year {
                return None;
            }
            let y = self.next_year(year)?;
            if y != year {
                date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, 1, 1)?;
                time = None;
                continue;
            }
            let month = date.month();
            if self.months & (1 << month) == 0 {
                date = match next_bit(self.months, month + 1).filter(|m| *m <= 12) {
                    Some(m) => NaiveDate::from_ymd_opt(date.year(), m, 1)?,
                    None => NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)?,
                };
                time = None;
                continue;
            }
            if self.day_matches(date) {
                let (h, m, s) = time.unwrap_or((0, 0, 0));
                if let Some(t) = self.next_time(h, m, s) {
                    return Some(date.and_time(t));
                }
            }
            date = date.succ_opt()?;
            time = None;
        }
    }
}
