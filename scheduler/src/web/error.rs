//! Errors as HTTP answers: `scheduler::Error` is an actix-web
//! `ResponseError`, and every refusal has the same JSON body, [`ApiError`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::error::{Error, ErrorKind};

/// The JSON body of every error answer of the scope (and of a handler of
/// yours that returns a [`crate::Error`]).
///
/// ```
/// use actix_web::ResponseError;
/// use scheduler::{Error, ErrorKind};
///
/// let e = Error::new(ErrorKind::JobNotFound, "no job with id `x`");
/// assert_eq!(e.status_code(), actix_web::http::StatusCode::NOT_FOUND);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ApiError {
    /// A stable code: `job_not_found`, `duplicate_id`, `trigger`,
    /// `bad_request`, `forbidden`, `not_running`, `store`, ...
    pub error: String,
    /// What is wrong, for a person.
    pub message: String,
    /// For a bad trigger: the field or option it is in (`minute`, `tz`, `interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a bad trigger: the character offset in the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// For a bad trigger: what was expected there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(error: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            error: error.to_owned(),
            message: message.into(),
            field: None,
            position: None,
            expected: None,
        }
    }

    /// The answer with this body and `status`.
    pub(crate) fn respond(&self, status: StatusCode) -> HttpResponse {
        HttpResponse::build(status)
            .insert_header(("cache-control", "no-store"))
            .json(self)
    }
}

/// The code of an error kind in [`ApiError::error`].
fn code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::DuplicateId => "duplicate_id",
        ErrorKind::JobNotFound => "job_not_found",
        ErrorKind::Trigger => "trigger",
        ErrorKind::UnknownExecutor => "unknown_executor",
        ErrorKind::MissingData => "missing_data",
        ErrorKind::UnknownJob => "unknown_job",
        ErrorKind::DuplicateRegistration => "duplicate_registration",
        ErrorKind::Args => "args",
        ErrorKind::InvalidOption => "invalid_option",
        ErrorKind::MaxInstances => "max_instances",
        ErrorKind::NotRunning => "not_running",
        ErrorKind::BlockingInAsync => "blocking_in_async",
        ErrorKind::Start => "start",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::Aborted => "aborted",
        ErrorKind::Store => "store",
    }
}

/// The status of an error kind: what the caller did wrong is 4xx, a
/// scheduler that cannot serve is 503, a broken program 500.
fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::JobNotFound => StatusCode::NOT_FOUND,
        ErrorKind::DuplicateId | ErrorKind::MaxInstances => StatusCode::CONFLICT,
        ErrorKind::Trigger
        | ErrorKind::UnknownExecutor
        | ErrorKind::MissingData
        | ErrorKind::UnknownJob
        | ErrorKind::Args
        | ErrorKind::InvalidOption
        | ErrorKind::Unsupported => StatusCode::BAD_REQUEST,
        ErrorKind::NotRunning | ErrorKind::Aborted | ErrorKind::Store => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<&Error> for ApiError {
    fn from(e: &Error) -> ApiError {
        let mut body = ApiError::new(code(e.kind()), e.to_string());
        if let Some(t) = e.trigger_error() {
            body.field = t.field().map(str::to_owned);
            body.position = t.position();
            body.expected = t.expected().map(str::to_owned);
        }
        body
    }
}

impl From<&scheduler_triggers::Error> for ApiError {
    fn from(t: &scheduler_triggers::Error) -> ApiError {
        ApiError::from(&Error::from(t.clone()))
    }
}

/// `404 job_not_found`, `409 duplicate_id`, `400` for bad input (a bad
/// trigger names its field and position), `503` for a scheduler that is
/// shut down or a store that cannot be reached; the body is an [`ApiError`].
impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        status(self.kind())
    }

    fn error_response(&self) -> HttpResponse {
        ApiError::from(self).respond(self.status_code())
    }
}

/// A request the scope refuses before it reaches the scheduler: bad JSON,
/// an unknown field, a bad query, a forbidden write.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) body: ApiError,
}

impl Refusal {
    pub(crate) fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            body: ApiError::new("bad_request", message),
        }
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            body: ApiError::new("forbidden", message),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.body.message)
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.body.respond(self.status)
    }
}
