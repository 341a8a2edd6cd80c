//! A problem in a config file, at a line and column, with what was expected.

use std::fmt;
use std::ops::Range;

/// One problem in a config file: `jobs.toml:12:8: error: ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub(crate) file: String,
    /// 1-based.
    pub(crate) line: usize,
    /// 1-based, in characters.
    pub(crate) column: usize,
    pub(crate) message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Turns byte offsets of one source text into diagnostics.
pub(crate) struct Source<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
    /// Where each line starts, found once (a job's line is asked for every
    /// job: counting from the top each time is quadratic in the file).
    lines: std::sync::OnceLock<Vec<usize>>,
}

impl<'a> Source<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Source<'a> {
        Source {
            file,
            text,
            lines: std::sync::OnceLock::new(),
        }
    }

    /// A diagnostic at byte `offset`.
    pub(crate) fn at(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        let offset = offset.min(self.text.len());
        let starts = self.lines.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        // The last line starting at or before `offset`.
        let index = starts.partition_point(|s| *s <= offset).saturating_sub(1);
        let line_start = starts.get(index).copied().unwrap_or(0);
        let line = index + 1;
        let column = self
            .text
            .get(line_start..offset)
            .map_or(1, |l| l.chars().count() + 1);
        Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A diagnostic at the start of `span`.
    pub(crate) fn span(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        self.at(span.start, message)
    }

    /// A diagnostic at character `position` inside the string value at
    /// `span`, when the value is written without escapes (else at its start).
    pub(crate) fn inside(
        &self,
        span: &Range<usize>,
        value: &str,
        position: Option<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let raw = self.text.get(span.clone()).unwrap_or("");
        let plain = raw.len() == value.len() + 2 && raw.get(1..raw.len() - 1) == Some(value);
        match position {
            Some(p) if plain => {
                let bytes: usize = value.chars().take(p).map(char::len_utf8).sum();
                self.at(span.start + 1 + bytes, message)
            }
            _ => self.at(span.start, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_from_one_in_characters() {
        let src = Source::new("jobs.toml", "a = 1\nbé = \"x y\"\n");
        assert_eq!(src.at(0, "m").to_string(), "jobs.toml:1:1: error: m");
        let d = src.at(6 + "bé = ".len(), "m");
        assert_eq!((d.line, d.column), (2, 6));
        let start = 6 + "bé = ".len();
        let d = src.inside(&(start..start + 5), "x y", Some(2), "m");
        assert_eq!((d.line, d.column), (2, 9));
    }
}
