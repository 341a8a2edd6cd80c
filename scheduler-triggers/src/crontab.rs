//! Crontab strings: validation with precise errors, matching by `croner`.

use chrono::NaiveDateTime;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use crate::error::{Error, ErrorKind};
use crate::wallclock::LocalMatcher;

/// A validated crontab string, matched on wall-clock time.
#[derive(Clone, Debug)]
pub(crate) struct Crontab {
    cron: Cron,
    fixed_time: bool,
}

struct FieldDef {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    expected: &'static str,
}

const SECOND: FieldDef = FieldDef {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
    expected: "`*`, a number 0-59, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these",
};
const MINUTE: FieldDef = FieldDef {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    expected: "`*`, a number 0-59, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these",
};
const HOUR: FieldDef = FieldDef {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    expected: "`*`, a number 0-23, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these",
};
const DAY_OF_MONTH: FieldDef = FieldDef {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
    expected: "`*`, `?`, a number 1-31, a range, a step, `L` (last day) or `nW` (nearest weekday)",
};
const MONTH: FieldDef = FieldDef {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    expected: "`*`, a number 1-12 or a name `jan`-`dec`, a range, a step, or a list of these",
};
const DAY_OF_WEEK: FieldDef = FieldDef {
    name: "day of week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    expected: "`*`, `?`, a number 0-7 (0 and 7 = Sunday) or a name `sun`-`sat`, a range, a step, `d#n` (n-th weekday d), `dL` (last weekday d), a list, or `+` before it to AND with the day of month",
};
const YEAR: FieldDef = FieldDef {
    name: "year",
    min: 1970,
    max: 4999,
    names: &[],
    expected: "`*`, a year 1970-4999, a range, a step, or a list of these",
};

const NICKNAMES: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

fn days_in_month_max(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses and validates a crontab string. The error names the field, the
/// character position and what the field accepts.
pub(crate) fn parse(text: &str) -> Result<Crontab, Error> {
    let trimmed = text.trim_start();
    let lead = text.len() - trimmed.len();
    let expanded;
    let (body, body_offset): (&str, Option<usize>) = if trimmed.starts_with('@') {
        let word = trimmed.trim_end();
        match NICKNAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(word)) {
            Some((_, e)) => {
                expanded = (*e).to_owned();
                (expanded.as_str(), None)
            }
            None => return Err(Error::new(
                ErrorKind::Cron,
                text,
                format!("unknown nickname `{word}`"),
            )
            .at(lead)
            .expecting(
                "one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly",
            )),
        }
    } else {
        (text, Some(0))
    };

    // Fields with their character offsets.
    let mut fields: Vec<(usize, &str)> = Vec::with_capacity(7);
    let mut start = None;
    for (i, c) in body.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                fields.push((s, &body[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        fields.push((s, &body[s..]));
    }
    let defs: &[&FieldDef] = match fields.len() {
        5 => &[&MINUTE, &HOUR, &DAY_OF_MONTH, &MONTH, &DAY_OF_WEEK],
        6 => &[&SECOND, &MINUTE, &HOUR, &DAY_OF_MONTH, &MONTH, &DAY_OF_WEEK],
        7 => &[&SECOND, &MINUTE, &HOUR, &DAY_OF_MONTH, &MONTH, &DAY_OF_WEEK, &YEAR],
        0 => {
            return Err(Error::new(ErrorKind::Cron, text, "the expression is empty").expecting(
                "5 fields (`min hour dom month dow`), 6 with seconds first, 7 with a year last, or a nickname like @daily",
            ))
        }
        n => {
            return Err(Error::new(ErrorKind::Cron, text, format!("{n} fields"))
                .at(lead)
                .expecting("5 fields (`min hour dom month dow`), 6 with seconds first, or 7 with a year last"))
        }
    };
    let pos = |offset: usize| body_offset.map_or(lead, |b| b + offset);
    let mut dom_values: Option<Vec<u32>> = Some(Vec::new());
    let mut months: Vec<u32> = Vec::new();
    let mut dow_restricted = false;
    for (def, (offset, field)) in defs.iter().zip(&fields) {
        let summary = validate_field(def, field).map_err(|(rel, msg)| {
            Error::new(ErrorKind::Cron, text, msg)
                .in_field(def.name)
                .at(pos(offset + rel))
                .expecting(def.expected)
        })?;
        match def.name {
            "day of month" => dom_values = summary,
            "month" => months = summary.unwrap_or_else(|| (1..=12).collect()),
            "day of week" => dow_restricted = !(*field == "*" || *field == "?"),
            _ => {}
        }
    }
    let (minute, hour) = if fields.len() == 5 {
        (fields[0].1, fields[1].1)
    } else {
        (fields[1].1, fields[2].1)
    };
    let fixed_time = !minute.contains('*') && !hour.contains('*');

    // A day of month that no month in the set has, with an unrestricted day of week, never fires.
    if let (Some(doms), false) = (&dom_values, dow_restricted) {
        let longest = months
            .iter()
            .map(|m| days_in_month_max(*m))
            .max()
            .unwrap_or(31);
        if let Some(first) = doms.iter().min() {
            if *first > longest {
                let dom = fields[defs.len() - 3];
                return Err(Error::new(
                    ErrorKind::NeverFires,
                    text,
                    format!("no month in the month field has a day {first}"),
                )
                .in_field("day of month")
                .at(pos(dom.0))
                .expecting("a day that exists in one of the months"));
            }
        }
    }

    // Vixie cron and cronie: a day field that starts with `*` (such as `*/2`)
    // counts as unrestricted, so the two day fields are AND-ed instead of OR-ed.
    let dom = fields[defs.len() - 3].1;
    let dow = fields[defs.len() - 1].1;
    let starred = |f: &str| f.starts_with('*') && f != "*";
    let and_days =
        (starred(dom) && dow != "*" && dow != "?") || (starred(dow) && dom != "*" && dom != "?");
    let for_croner = if and_days && !dow.starts_with('+') {
        let dow_at = fields[defs.len() - 1].0;
        format!("{}+{}", &body[..dow_at], &body[dow_at..])
    } else {
        body.to_owned()
    };

    let parser = CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Optional)
        .dom_and_dow(false)
        .sloppy_ranges(true)
        .build();
    let cron = parser
        .parse(&for_croner)
        .map_err(|e| Error::new(ErrorKind::Cron, text, e.to_string()))?;
    Ok(Crontab { cron, fixed_time })
}

/// Checks one field. On success, for plain numeric fields, the values it
/// matches (None when it has `*`, `?` or a special such as `L`).
fn validate_field(def: &FieldDef, field: &str) -> Result<Option<Vec<u32>>, (usize, String)> {
    let mut values = Some(Vec::new());
    let (field_body, base) = match field.strip_prefix('+') {
        Some(rest) if def.name == "day of week" => (rest, 1),
        Some(_) => return Err((0, "`+` is only allowed in the day-of-week field".into())),
        None => (field, 0),
    };
    let mut offset = base;
    for item in field_body.split(',') {
        let at = offset;
        offset += item.len() + 1;
        if item.is_empty() {
            return Err((at, "empty list item".into()));
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step_at = at + r.len() + 1;
                let step: u32 = s
                    .parse()
                    .map_err(|_| (step_at, format!("step `{s}` is not a number")))?;
                if step == 0 {
                    return Err((step_at, "step must be at least 1".into()));
                }
                if step > def.max - def.min + 1 {
                    return Err((
                        step_at,
                        format!(
                            "step {step} is larger than the field's range {}-{}",
                            def.min, def.max
                        ),
                    ));
                }
                (r, step)
            }
            None => (item, 1),
        };
        let upper = range.to_ascii_uppercase();
        if range == "*" || (range == "?" && matches!(def.name, "day of month" | "day of week")) {
            values = None;
            continue;
        }
        if range.is_empty() {
            // `/10` alone, as croner's sloppy mode reads `*/10`.
            values = None;
            continue;
        }
        if def.name == "day of month" && (upper == "L" || upper == "LW") {
            values = None;
            continue;
        }
        if def.name == "day of month" && upper.ends_with('W') {
            let day = value(def, &upper[..upper.len() - 1], at)?;
            if day == 0 {
                return Err((at, "day 0 does not exist".into()));
            }
            values = None;
            continue;
        }
        if def.name == "day of week" {
            if let Some((d, n)) = upper.split_once('#') {
                value(def, d, at)?;
                if !(n == "L" || matches!(n.parse::<u32>(), Ok(1..=5))) {
                    return Err((
                        at + d.len() + 1,
                        format!("`#{n}`: the occurrence must be 1-5 or L"),
                    ));
                }
                values = None;
                continue;
            }
            if let Some(d) = upper.strip_suffix('L') {
                value(def, d, at)?;
                values = None;
                continue;
            }
        }
        let (first, last) = match upper.split_once('-') {
            Some((a, b)) => {
                let first = value(def, a, at)?;
                let last = value(def, b, at + a.len() + 1)?;
                if first > last {
                    return Err((at, format!("range `{range}` runs backwards")));
                }
                (first, last)
            }
            None => {
                let v = value(def, &upper, at)?;
                (v, if step > 1 { def.max } else { v })
            }
        };
        if let Some(vs) = values.as_mut() {
            vs.extend((first..=last).step_by(step as usize));
        }
    }
    Ok(values)
}

fn value(def: &FieldDef, token: &str, at: usize) -> Result<u32, (usize, String)> {
    if let Some(i) = def.names.iter().position(|n| *n == token) {
        return Ok(i as u32 + if def.name == "month" { 1 } else { 0 });
    }
    match token.parse::<u32>() {
        Ok(v) if (def.min..=def.max).contains(&v) => Ok(v),
        Ok(v) => Err((at, format!("{v} is out of range {}-{}", def.min, def.max))),
        Err(_) if token.is_empty() => Err((at, "missing value".into())),
        Err(_) => Err((
            at,
            format!(
                "`{}` is not a valid {}",
                token.to_ascii_lowercase(),
                def.name
            ),
        )),
    }
}

impl Crontab {
    pub(crate) fn fixed_time(&self) -> bool {
        self.fixed_time
    }
}

impl LocalMatcher for Crontab {
    fn next_local(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        self.cron
            .find_next_occurrence(&from.and_utc(), true)
            .ok()
            .map(|t| t.naive_utc())
    }
}
