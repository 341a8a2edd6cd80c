//! Who may change jobs through the scope, and cross-site request checks.
//!
//! Read-only by default: a write (pause, resume, run now, reschedule,
//! remove) answers 403 unless the app configured a guard (a bearer token,
//! or any actix guard) or said its own middleware protects the scope.
//! Every write must also carry the `X-Scheduler-Csrf` header, which a
//! cross-site form or image cannot send, and is refused when the browser
//! says it is cross-site (`Sec-Fetch-Site`) or its `Origin` is another host.

use std::rc::Rc;

use actix_web::guard::{Guard, GuardContext};
use actix_web::http::header;
use actix_web::HttpRequest;

use crate::web::error::Refusal;

/// The header every write must carry (any value); the dashboard sends it.
pub const CSRF_HEADER: &str = "x-scheduler-csrf";

/// Who may write.
#[derive(Clone)]
pub(crate) enum Writes {
    /// Nobody (the default).
    ReadOnly,
    /// Requests the guard accepts.
    Guarded(Rc<dyn Guard>),
    /// Everyone who reaches the scope: the app's middleware decides.
    Open,
}

impl Writes {
    pub(crate) fn enabled(&self) -> bool {
        !matches!(self, Writes::ReadOnly)
    }
}

/// A guard accepting `Authorization: Bearer <token>`.
pub(crate) struct BearerToken(pub(crate) String);

impl Guard for BearerToken {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        let Some(value) = ctx.head().headers().get(header::AUTHORIZATION) else {
            return false;
        };
        let Ok(value) = value.to_str() else {
            return false;
        };
        let Some(given) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return false;
        };
        // An empty token configured matches nothing.
        !self.0.is_empty() && constant_time_eq(given.trim().as_bytes(), self.0.as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The guard of the write routes: the configured access.
pub(crate) struct WriteGuard(pub(crate) Writes);

impl Guard for WriteGuard {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        match &self.0 {
            Writes::ReadOnly => false,
            Writes::Guarded(g) => g.check(ctx),
            Writes::Open => true,
        }
    }
}

/// Why a write that reached no guarded route is refused.
pub(crate) fn refusal(writes: &Writes) -> Refusal {
    match writes {
        Writes::ReadOnly => Refusal::forbidden(
            "this scheduler scope is read-only: the application has not configured who may change jobs \
             (scope(..).bearer_token(..), .write_guard(..) or .allow_writes())",
        ),
        _ => Refusal::forbidden("not authorised to change jobs (missing or wrong credentials)"),
    }
}

/// The cross-site checks of a write.
pub(crate) fn same_origin(req: &HttpRequest) -> Result<(), Refusal> {
    let headers = req.headers();
    if headers.get(CSRF_HEADER).is_none() {
        return Err(Refusal::forbidden(format!(
            "a write needs the `{CSRF_HEADER}` header (any value): it proves the request is not a cross-site form"
        )));
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site.eq_ignore_ascii_case("cross-site") {
            return Err(Refusal::forbidden("cross-site writes are refused"));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let host = req.connection_info().host().to_owned();
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'))
            .unwrap_or("null");
        if !origin_host.eq_ignore_ascii_case(&host) {
            return Err(Refusal::forbidden(format!(
                "a write from origin `{origin}` to host `{host}` is refused (cross-origin)"
            )));
        }
    }
    Ok(())
}
