//! APScheduler-style cron fields: `year month day week day_of_week hour minute second`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};

/// The fields of an APScheduler-style cron trigger, each an expression in
/// APScheduler 3's grammar. Unset fields follow APScheduler's defaults: fields
/// more significant than the least significant one given are `*`; fields less
/// significant default to their minimum, except `week` and `day_of_week`,
/// which stay `*`. So `hour = "3"` alone means 03:00:00 every day.
///
/// | field | values | also |
/// |---|---|---|
/// | `year` | 1970-9999 | |
/// | `month` | 1-12 | `jan`-`dec` |
/// | `day` | 1-31 | `last`, `1st mon` ... `5th sun`, `last fri` |
/// | `week` | ISO week 1-53 | |
/// | `day_of_week` | 0-6, **0 = Monday** (as in APScheduler 3) | `mon`-`sun` (recommended) |
/// | `hour` | 0-23 | |
/// | `minute`, `second` | 0-59 | |
///
/// Every field takes `*`, `*/n`, `a`, `a-b`, `a-b/n`, `a/n` (from `a` to the
/// maximum, every `n`), and comma-separated lists of these. A step on a name
/// range (`mon-fri/2`) is honoured, not dropped as APScheduler 3 does.
///
/// ```
/// use scheduler_triggers::CronFields;
///
/// let fields = CronFields::new().day_of_week("mon-fri").hour("9-17").minute("*/15");
/// assert_eq!(fields.get("hour"), Some("9-17"));
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    year: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    month: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    week: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day_of_week: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hour: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    second: Option<String>,
}

/// The field names, most significant first.
pub const FIELD_NAMES: [&str; 8] = [
    "year",
    "month",
    "day",
    "week",
    "day_of_week",
    "hour",
    "minute",
    "second",
];

impl CronFields {
    /// No field set: every second (APScheduler's `CronTrigger()`).
    pub fn new() -> CronFields {
        CronFields::default()
    }

    fn slot(&mut self, index: usize) -> &mut Option<String> {
        match index {
            0 => &mut self.year,
            1 => &mut self.month,
            2 => &mut self.day,
            3 => &mut self.week,
            4 => &mut self.day_of_week,
            5 => &mut self.hour,
            6 => &mut self.minute,
            _ => &mut self.second,
        }
    }

    fn slot_ref(&self, index: usize) -> Option<&str> {
        match index {
            0 => self.year.as_deref(),
            1 => self.month.as_deref(),
            2 => self.day.as_deref(),
            3 => self.week.as_deref(),
            4 => self.day_of_week.as_deref(),
            5 => self.hour.as_deref(),
            6 => self.minute.as_deref(),
            _ => self.second.as_deref(),
        }
    }

    /// Sets a field by name; an unknown name is an [`ErrorKind::UnknownField`]
    /// error, a field set twice an [`ErrorKind::Field`] error.
    ///
    /// ```
    /// use scheduler_triggers::CronFields;
    /// let fields = CronFields::new().set("day_of_week", "mon-fri")?;
    /// assert!(CronFields::new().set("weekday", "mon").is_err());
    /// # Ok::<(), scheduler_triggers::Error>(())
    /// ```
    pub fn set(mut self, name: &str, expr: &str) -> Result<CronFields, Error> {
        let index = field_index(name)?;
        let slot = self.slot(index);
        if slot.is_some() {
            return Err(Error::new(
                ErrorKind::Field,
                name,
                format!("`{name}` set more than once"),
            )
            .in_field(FIELD_NAMES[index]));
        }
        *slot = Some(expr.to_owned());
        Ok(self)
    }

    /// The expression of a field, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        FIELD_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.slot_ref(i))
    }

    /// The fields that are set, most significant first.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        (0..8).filter_map(|i| self.slot_ref(i).map(|e| (FIELD_NAMES[i], e)))
    }
}

macro_rules! setters {
    ($($name:ident),*) => {
        impl CronFields {
            $(
                #[doc = concat!("Sets the `", stringify!($name), "` field.")]
                pub fn $name(mut self, expr: impl Into<String>) -> CronFields {
                    self.$name = Some(expr.into());
                    self
                }
            )*
        }
    };
}
setters!(year, month, day, week, day_of_week, hour, minute, second);

fn field_index(name: &str) -> Result<usize, Error> {
    FIELD_NAMES.iter().position(|n| *n == name).ok_or_else(|| {
        Error::new(
            ErrorKind::UnknownField,
            name,
            "APScheduler's cron trigger has no such field",
        )
        .in_field(name)
        .expecting("one of year, month, day, week, day_of_week, hour, minute, second")
    })
}

/// One compiled item of a field expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// Values `first..=last` every `step`.
    Range { first: u32, last: u32, step: u32 },
    /// `last`: the last day of the month (day field).
    LastDay,
    /// `1st mon` .. `5th sun`, `last fri` (day field); `nth` 0 means last; weekday 0 = Monday.
    Nth { nth: u32, weekday: u32 },
}

/// A compiled field.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub(crate) items: Vec<Item>,
    /// The expression contains `*` (for the DST rule).
    pub(crate) wildcard: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const NTHS: [&str; 5] = ["1st", "2nd", "3rd", "4th", "5th"];

/// (min, max) of each field, by index.
pub(crate) const BOUNDS: [(u32, u32); 8] = [
    (1970, 9999),
    (1, 12),
    (1, 31),
    (1, 53),
    (0, 6),
    (0, 23),
    (0, 59),
    (0, 59),
];
const DEFAULTS: [&str; 8] = ["*", "1", "1", "*", "*", "0", "0", "0"];

fn expected(index: usize) -> &'static str {
    match index {
        0 => "`*`, a year 1970-9999, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these",
        1 => "`*`, a month 1-12 or `jan`-`dec`, a range `a-b`, a step, or a list of these",
        2 => "`*`, a day 1-31, a range, a step, `last`, `1st mon` ... `5th sun`, `last fri`, or a list of these",
        3 => "`*`, an ISO week 1-53, a range, a step, or a list of these",
        4 => "`*`, a weekday `mon`-`sun` or 0-6 (0 = Monday), a range like `mon-fri`, a step, or a list of these",
        5 => "`*`, an hour 0-23, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these",
        _ => "`*`, a number 0-59, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these",
    }
}

/// Parses one field expression in APScheduler's grammar.
///
/// ```
/// use scheduler_triggers::parse_field;
/// parse_field("day", "last fri")?;
/// parse_field("day_of_week", "mon-fri")?;
/// let err = parse_field("hour", "9-25").unwrap_err();
/// assert_eq!(err.position(), Some(2));
/// # Ok::<(), scheduler_triggers::Error>(())
/// ```
pub fn parse_field(name: &str, expr: &str) -> Result<(), Error> {
    compile(field_index(name)?, expr).map(|_| ())
}

pub(crate) fn compile(index: usize, expr: &str) -> Result<Field, Error> {
    let name = FIELD_NAMES[index];
    let err = |at: usize, msg: String| {
        Error::new(ErrorKind::Field, expr, msg)
            .in_field(name)
            .at(at)
            .expecting(expected(index))
    };
    let (min, max) = BOUNDS[index];
    let lower = expr.to_ascii_lowercase();
    let mut items = Vec::new();
    let mut offset = 0;
    for raw in lower.split(',') {
        let start = offset + (raw.len() - raw.trim_start().len());
        offset += raw.len() + 1;
        let item = raw.trim();
        if item.is_empty() {
            return Err(err(start, "empty list item".into()));
        }
        if index == 2 {
            if item == "last" {
                items.push(Item::LastDay);
                continue;
            }
            let mut words = item.split_whitespace();
            if let (Some(a), Some(b), None) = (words.next(), words.next(), words.next()) {
                let nth = if a == "last" {
                    0
                } else {
                    NTHS.iter()
                        .position(|n| *n == a)
                        .map(|p| p as u32 + 1)
                        .ok_or_else(|| {
                            err(
                                start,
                                format!("`{a}` is not an occurrence; use `1st`-`5th` or `last`"),
                            )
                        })?
                };
                let b_at = start + item.find(b).unwrap_or(0);
                let weekday = WEEKDAYS.iter().position(|w| *w == b).ok_or_else(|| {
                    err(b_at, format!("`{b}` is not a weekday name (`mon`-`sun`)"))
                })?;
                items.push(Item::Nth {
                    nth,
                    weekday: weekday as u32,
                });
                continue;
            }
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let at = start + r.len() + 1;
                let step: u32 = s
                    .trim()
                    .parse()
                    .map_err(|_| err(at, format!("step `{s}` is not a number")))?;
                if step == 0 {
                    return Err(err(at, "step must be at least 1".into()));
                }
                (r.trim(), Some(step))
            }
            None => (item, None),
        };
        if range == "*" {
            items.push(Item::Range {
                first: min,
                last: max,
                step: step.unwrap_or(1),
            });
            continue;
        }
        let value = |token: &str, at: usize| -> Result<u32, Error> {
            let token = token.trim();
            let named = match index {
                1 => MONTHS
                    .iter()
                    .position(|m| *m == token)
                    .map(|p| p as u32 + 1),
                4 => WEEKDAYS.iter().position(|w| *w == token).map(|p| p as u32),
                _ => None,
            };
            if let Some(v) = named {
                return Ok(v);
            }
            match token.parse::<u32>() {
                Ok(v) if (min..=max).contains(&v) => Ok(v),
                Ok(v) => Err(err(at, format!("{v} is out of range {min}-{max}"))),
                Err(_) if token.is_empty() => Err(err(at, "missing value".into())),
                Err(_) => Err(err(at, format!("`{token}` is not a valid {name} value"))),
            }
        };
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => {
                let first = value(a, start)?;
                let last = value(b, start + a.len() + 1)?;
                if first > last {
                    return Err(err(start, format!("range `{range}` runs backwards")));
                }
                (first, last)
            }
            None => {
                let v = value(range, start)?;
                (v, if step.is_some() { max } else { v })
            }
        };
        items.push(Item::Range {
            first,
            last,
            step: step.unwrap_or(1),
        });
    }
    Ok(Field {
        items,
        wildcard: lower.contains('*'),
    })
}

/// The eight compiled fields, with APScheduler's defaults applied.
pub(crate) fn compile_all(fields: &CronFields) -> Result<[Field; 8], Error> {
    let last_given = (0..8).rev().find(|i| fields.slot_ref(*i).is_some());
    let mut out: Vec<Field> = Vec::with_capacity(8);
    for (i, _) in FIELD_NAMES.iter().enumerate() {
        let expr = match (fields.slot_ref(i), last_given) {
            (Some(e), _) => e,
            (None, Some(last)) if i > last => DEFAULTS[i],
            _ => "*",
        };
        out.push(compile(i, expr)?);
    }
    out.try_into()
        .map_err(|_| Error::new(ErrorKind::Field, "", "internal: field count"))
}
