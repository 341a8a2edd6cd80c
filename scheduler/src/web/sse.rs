//! Server-sent events: the scheduler's events, live.
//!
//! Each event is `event: <type>` and `data: <the event as JSON>`; a client
//! that falls behind gets `event: lagged` with the number of events it
//! missed, and a comment line every 15 s keeps proxies from closing an idle
//! stream. The stream ends when the scheduler shuts down.

use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use futures_util::stream::{self, StreamExt};

use crate::event::Event;
use crate::handle::Scheduler;

const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One event as an SSE message.
pub(crate) fn message(event: &Event) -> Bytes {
    let json = serde_json::to_string(event)
        .unwrap_or_else(|e| format!(r#"{{"type":"error","error":"cannot encode event: {e}"}}"#));
    let kind = event_type(&json);
    Bytes::from(format!("event: {kind}\ndata: {json}\n\n"))
}

/// The `type` tag at the start of an event's JSON.
fn event_type(json: &str) -> &str {
    json.strip_prefix(r#"{"type":""#)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("event")
}

/// The scheduler's events as `text/event-stream`.
#[utoipa::path(get, path = "/events", tag = "events",
    responses((status = 200, content_type = "text/event-stream",
        description = "Server-sent events: `event: <type>`, `data: <the event as JSON>`; `event: lagged` when the client fell behind")))]
pub(crate) async fn events(sched: web::Data<Scheduler>) -> HttpResponse {
    let events = sched
        .subscribe()
        .map(|e| Ok::<_, std::convert::Infallible>(message(&e)));
    let stopped = sched.stopped();
    // The events of the shutdown itself still go out.
    let ended = async move {
        stopped.await;
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    };
    let pings = stream::unfold((), |()| async {
        actix_rt::time::sleep(KEEP_ALIVE).await;
        Some((Ok(Bytes::from_static(b": keep-alive\n\n")), ()))
    });
    let hello = stream::once(async { Ok(Bytes::from_static(b": connected\n\n")) });
    // Pings stop with the event stream, which ends at shutdown.
    let body = hello.chain(stream::select(events, pings).take_until(ended));
    HttpResponse::Ok()
        .insert_header(("content-type", "text/event-stream"))
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}
