//! Server-sent events: the scheduler's events, live.
//!
//! Each event is `event: <type>` and `data: <the event as JSON>`; a client
//! that falls behind gets `event: lagged` with the number of events it
//! missed, and a comment line every 15 s keeps proxies from closing an idle
//! stream. The stream ends when the scheduler shuts down.
//!
//! One hub per scheduler serialises each event once for all clients and
//! sends them in batches gathered over 20 ms; each client writes every
//! batch ready in one chunk, so ten clients cost little more than one.
//! Batches carry sequence numbers, so a client that fell behind is told
//! exactly how many events it missed.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt;
use tokio::sync::broadcast;

use crate::event::Event;
use crate::handle::Scheduler;

const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Appends one event as an SSE message.
fn write_message(out: &mut Vec<u8>, event: &Event) {
    let json = serde_json::to_string(event)
        .unwrap_or_else(|e| format!(r#"{{"type":"error","error":"cannot encode event: {e}"}}"#));
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event_type(&json).as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(json.as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// The `type` tag at the start of an event's JSON.
fn event_type(json: &str) -> &str {
    json.strip_prefix(r#"{"type":""#)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("event")
}

/// How long the hub gathers events into one batch: the live view is this
/// much late at most, and ten clients cost a few writes per second, not
/// ten per event.
const WINDOW: Duration = Duration::from_millis(20);

/// A batch's first sequence number, its number of events, its bytes.
type Batch = (u64, u64, Bytes);

/// What a client holds: its receiver, the sequence number it expects next,
/// and whether it fell behind since its last chunk.
struct Client {
    rx: broadcast::Receiver<Batch>,
    next: u64,
    lagged: bool,
}

/// Takes a hub out of the scheduler's slot when its task ends, if the slot
/// still holds that hub (another may have replaced it).
struct HubGuard {
    owner: Scheduler,
    published: Arc<AtomicU64>,
}

impl Drop for HubGuard {
    fn drop(&mut self) {
        let mut hub = lock(&self.owner);
        if hub
            .as_ref()
            .is_some_and(|(_, p)| Arc::ptr_eq(p, &self.published))
        {
            *hub = None;
        }
    }
}

fn lock(sched: &Scheduler) -> std::sync::MutexGuard<'_, Option<crate::monitor::SseHub>> {
    sched
        .inner
        .monitor
        .sse_hub
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// A client of the scheduler's events, each serialised once: the first
/// client starts a task that reads the scheduler's events and sends them,
/// in batches, to every client; it ends with the last client or at shutdown.
fn subscribe(sched: &Scheduler) -> Client {
    let mut hub = lock(sched);
    if let Some((tx, published)) = hub.as_ref() {
        return Client {
            rx: tx.subscribe(),
            next: published.load(Ordering::SeqCst),
            lagged: false,
        };
    }
    // Batches, not events: a bounded number of them, so a client that never
    // reads pins at most this many batches (shared by all clients).
    let capacity = (sched.inner.monitor.event_capacity / 16).clamp(8, 256);
    let (tx, rx) = broadcast::channel(capacity);
    let published = Arc::new(AtomicU64::new(0));
    *hub = Some((tx.clone(), published.clone()));
    drop(hub);
    let mut events = sched.subscribe();
    let stopped = sched.stopped();
    let owner = sched.clone();
    // However the task ends (the last client gone, shutdown, or its worker
    // stopped under it), it takes its own hub out of the slot, and only its own.
    let guard = HubGuard {
        owner: sched.clone(),
        published: published.clone(),
    };
    actix_rt::spawn(async move {
        let _guard = guard;
        let forward = async {
            let mut seq = 0u64;
            let mut send = |buf: &mut Vec<u8>, count: &mut u64| -> bool {
                // Published before it is sent: a client subscribing between
                // the two gets the batch and expects no earlier one.
                published.store(seq + *count, Ordering::SeqCst);
                let batch = (seq, *count, Bytes::from(std::mem::take(buf)));
                seq += *count;
                *count = 0;
                if tx.send(batch).is_ok() {
                    return true;
                }
                // No client left: the hub goes, unless one came meanwhile.
                let mut hub = lock(&owner);
                if tx.receiver_count() == 0 {
                    if hub
                        .as_ref()
                        .is_some_and(|(_, p)| Arc::ptr_eq(p, &published))
                    {
                        *hub = None;
                    }
                    return false;
                }
                true
            };
            while let Some(first) = events.next().await {
                let mut buf = Vec::with_capacity(16 * 1024);
                write_message(&mut buf, &first);
                let mut count = 1;
                // Gather without polling the stream meanwhile: nothing wakes
                // this task per event, so the scheduler's thread pays
                // nothing for the clients but the channel's send.
                actix_rt::time::sleep(WINDOW).await;
                // Everything ready now, outside tokio's cooperative budget
                // (which would stop the drain after 128 events).
                let (ended, gone) = tokio::task::unconstrained(async {
                    loop {
                        match events.next().now_or_never() {
                            Some(Some(e)) => {
                                write_message(&mut buf, &e);
                                count += 1;
                                if buf.len() >= 256 * 1024 && !send(&mut buf, &mut count) {
                                    return (false, true);
                                }
                            }
                            Some(None) => return (true, false),
                            None => return (false, false),
                        }
                    }
                })
                .await;
                if gone {
                    return;
                }
                if count > 0 && !send(&mut buf, &mut count) {
                    return;
                }
                if ended {
                    return;
                }
            }
        };
        tokio::select! {
            _ = forward => {}
            _ = async {
                stopped.await;
                actix_rt::time::sleep(Duration::from_millis(100)).await;
            } => {}
        }
    });
    Client {
        rx,
        next: 0,
        lagged: false,
    }
}

/// The next chunk for a client: every batch ready now, in one write, after
/// a lag notice with the number of events it missed if it fell behind;
/// `None` at the end.
async fn next_chunk(mut c: Client) -> Option<(Result<Bytes, Infallible>, Client)> {
    let mut out: Vec<u8> = Vec::new();
    let take = |c: &mut Client, out: &mut Vec<u8>, (first, count, bytes): Batch| {
        if c.lagged || first > c.next {
            let missed = first.saturating_sub(c.next);
            write_message(out, &Event::Lagged { missed });
            c.lagged = false;
        }
        c.next = c.next.max(first + count);
        out.extend_from_slice(&bytes);
    };
    loop {
        match c.rx.recv().await {
            Ok(batch) => {
                take(&mut c, &mut out, batch);
                break;
            }
            Err(broadcast::error::RecvError::Lagged(_)) => c.lagged = true,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
    while out.len() < 64 * 1024 {
        match c.rx.try_recv() {
            Ok(batch) => take(&mut c, &mut out, batch),
            Err(broadcast::error::TryRecvError::Lagged(_)) => c.lagged = true,
            Err(_) => break,
        }
    }
    Some((Ok(Bytes::from(out)), c))
}

/// The scheduler's events as `text/event-stream`.
#[utoipa::path(get, path = "/events", tag = "events",
    responses((status = 200, content_type = "text/event-stream",
        description = "Server-sent events: `event: <type>`, `data: <the event as JSON>`; `event: lagged` when the client fell behind")))]
pub(crate) async fn events(sched: web::Data<Scheduler>) -> HttpResponse {
    let events = stream::unfold(subscribe(&sched), next_chunk);
    let stopped = sched.stopped();
    // The events of the shutdown itself still go out.
    let ended = async move {
        stopped.await;
        actix_rt::time::sleep(Duration::from_millis(200)).await;
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
