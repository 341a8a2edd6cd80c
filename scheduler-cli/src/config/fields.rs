//! Typed reads of one TOML table with positions: every key known, every
//! value of the right type, and every problem collected, not just the first.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::config::diagnostic::{Diagnostic, Source};

/// The entries of one table, checked against the keys it may have.
pub(crate) struct Fields<'t, 'i> {
    pub(crate) src: &'t Source<'t>,
    entries: BTreeMap<&'t str, (&'t Spanned<DeValue<'i>>, Range<usize>)>,
    pub(crate) errors: Vec<Diagnostic>,
}

impl<'t, 'i> Fields<'t, 'i> {
    /// Reads `table` (`what`: "job `backup`"); a key not in `known` is an error.
    pub(crate) fn new(
        src: &'t Source<'t>,
        table: &'t DeTable<'i>,
        what: &str,
        known: &[&str],
    ) -> Fields<'t, 'i> {
        let mut entries = BTreeMap::new();
        let mut errors = Vec::new();
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                entries.insert(name, (value, key.span()));
            } else {
                errors.push(src.span(
                    &key.span(),
                    format!(
                        "unknown key `{name}` in {what}; expected one of: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Fields {
            src,
            entries,
            errors,
        }
    }

    /// The problems found so far.
    pub(crate) fn into_errors(self) -> Vec<Diagnostic> {
        self.errors
    }

    /// Whether the table has `key`.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The span of `key`'s value.
    pub(crate) fn span_of(&self, key: &str) -> Option<Range<usize>> {
        self.entries.get(key).map(|(v, _)| v.span())
    }

    /// The span of `key` itself.
    pub(crate) fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.entries.get(key).map(|(_, k)| k.clone())
    }

    fn value(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.entries.get(key).map(|(v, _)| *v)
    }

    fn wrong_type(&mut self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        let d = self.src.span(
            &value.span(),
            format!(
                "`{key}` must be {expected}, not {}",
                value.get_ref().type_str()
            ),
        );
        self.errors.push(d);
    }

    /// A string, with its span.
    pub(crate) fn string(&mut self, key: &str) -> Option<(String, Range<usize>)> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some((s.to_string(), value.span())),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    /// A string that must not be empty.
    pub(crate) fn text(&mut self, key: &str) -> Option<(String, Range<usize>)> {
        let (s, span) = self.string(key)?;
        if s.trim().is_empty() {
            let d = self.src.span(&span, format!("`{key}` is empty"));
            self.errors.push(d);
            return None;
        }
        Some((s, span))
    }

    /// A boolean.
    pub(crate) fn boolean(&mut self, key: &str) -> Option<bool> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, value, "true or false");
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    pub(crate) fn uint(&mut self, key: &str, min: u64, max: u64) -> Option<u64> {
        let value = self.value(key)?;
        let DeValue::Integer(i) = value.get_ref() else {
            self.wrong_type(key, value, "a whole number");
            return None;
        };
        let digits = i.as_str().replace('_', "");
        match i64::from_str_radix(&digits, i.radix()) {
            Ok(n) if n >= 0 && (min..=max).contains(&n.unsigned_abs()) => Some(n.unsigned_abs()),
            _ => {
                let d = self.src.span(
                    &value.span(),
                    format!("`{key}` must be a whole number from {min} to {max}"),
                );
                self.errors.push(d);
                None
            }
        }
    }

    /// A duration such as `90s`, `15m` or `1h30m`.
    pub(crate) fn duration(&mut self, key: &str) -> Option<Duration> {
        let value = self.value(key)?;
        if !matches!(value.get_ref(), DeValue::String(_)) {
            self.wrong_type(
                key,
                value,
                "a duration in quotes, such as \"90s\" or \"1h30m\"",
            );
            return None;
        }
        let (text, span) = self.string(key)?;
        match scheduler::trigger::parse_duration(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                let d = self.src.inside(
                    &span,
                    &text,
                    e.position(),
                    format!(
                        "`{key}`: {}; expected a duration such as 90s, 15m, 1h30m or 2d",
                        e.message()
                    ),
                );
                self.errors.push(d);
                None
            }
        }
    }

    /// One of `choices`.
    pub(crate) fn choice(&mut self, key: &str, choices: &[&'static str]) -> Option<&'static str> {
        let (text, span) = self.string(key)?;
        if let Some(c) = choices.iter().find(|c| **c == text) {
            return Some(c);
        }
        let d = self.src.span(
            &span,
            format!(
                "`{key}` = \"{text}\" is not one of: {}",
                choices
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        self.errors.push(d);
        None
    }

    /// An array of strings (non-empty).
    pub(crate) fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let value = self.value(key)?;
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(key, value, "an array of strings");
            return None;
        };
        if items.is_empty() {
            let d = self.src.span(
                &value.span(),
                format!("`{key}` is empty; expected the program and its arguments"),
            );
            self.errors.push(d);
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                other => {
                    let d = self.src.span(
                        &item.span(),
                        format!(
                            "`{key}` must hold only strings; this is {}",
                            other.type_str()
                        ),
                    );
                    self.errors.push(d);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// A table of strings (`env = { A = "1" }`), each with its value's span.
    pub(crate) fn string_table(
        &mut self,
        key: &str,
    ) -> Option<Vec<(String, String, Range<usize>)>> {
        let value = self.value(key)?;
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(key, value, "a table of strings");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (k, v) in table.iter() {
            match v.get_ref() {
                DeValue::String(s) => out.push((k.get_ref().to_string(), s.to_string(), v.span())),
                other => {
                    ok = false;
                    let d = self.src.span(
                        &v.span(),
                        format!(
                            "`{key}.{}` must be a string, not {}",
                            k.get_ref(),
                            other.type_str()
                        ),
                    );
                    self.errors.push(d);
                }
            }
        }
        ok.then_some(out)
    }

    /// The table under `key`, if it is one.
    pub(crate) fn table(&mut self, key: &str) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Table(t) => Some((t, value.span())),
            _ => {
                self.wrong_type(key, value, "a table");
                None
            }
        }
    }
}
