//! The one error type of the trigger engine.

use std::fmt;

/// What kind of input was wrong. Returned by [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A crontab string is malformed (wrong number of fields, bad token, value out of range).
    Cron,
    /// An APScheduler-style field expression is malformed or out of range.
    Field,
    /// A field name that APScheduler's cron trigger does not have.
    UnknownField,
    /// A time zone name that is not in the IANA database.
    UnknownZone,
    /// A duration such as `90s` or `1h30m` is malformed, zero where that is not allowed, or too large.
    Duration,
    /// An instant is not RFC 3339 with a UTC offset.
    Instant,
    /// `start` / `end` bounds that exclude every fire time (`end` before `start`).
    Bounds,
    /// The trigger can never fire (`0 0 30 2 *`), or its combinators never agree.
    NeverFires,
    /// A combinator (`any` / `all`) without any trigger.
    Empty,
}

/// A typed error naming what is wrong in the input: the kind, the field or
/// option, the position (a character offset into the text), and what was expected.
///
/// ```
/// use scheduler_triggers::{CronTrigger, ErrorKind};
///
/// let err = CronTrigger::parse("0 25 * * *").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Cron);
/// assert_eq!(err.field(), Some("hour"));
/// assert_eq!(err.position(), Some(2));
/// assert!(err.to_string().contains("0-23"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    input: String,
    field: Option<String>,
    position: Option<usize>,
    message: String,
    expected: Option<String>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, input: &str, message: impl Into<String>) -> Self {
        Error {
            kind,
            input: input.to_owned(),
            field: None,
            position: None,
            message: message.into(),
            expected: None,
        }
    }

    pub(crate) fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn at(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    pub(crate) fn expecting(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The field or option the error is about (`"hour"`, `"day_of_week"`, `"tz"`), if any.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Character offset of the offending token in [`Error::input`], if known.
    pub fn position(&self) -> Option<usize> {
        self.position
    }

    /// The text that was rejected.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What would have been valid, if there is a short answer.
    pub fn expected(&self) -> Option<&str> {
        self.expected.as_deref()
    }

    /// The problem, without the input, field and position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Cron => "invalid cron expression",
            ErrorKind::Field => "invalid field expression",
            ErrorKind::UnknownField => "unknown cron field",
            ErrorKind::UnknownZone => "unknown time zone",
            ErrorKind::Duration => "invalid duration",
            ErrorKind::Instant => "invalid instant",
            ErrorKind::Bounds => "invalid start/end",
            ErrorKind::NeverFires => "trigger never fires",
            ErrorKind::Empty => "empty combinator",
        };
        write!(f, "{what} `{}`", self.input)?;
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        if let Some(pos) = self.position {
            write!(f, " at position {pos}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(expected) = &self.expected {
            write!(f, "; expected {expected}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
