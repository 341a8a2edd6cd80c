//! The scheduler and an actix-web server, started and stopped together.

use std::time::Duration;

use actix_web::dev::Server;

use crate::handle::Scheduler;

/// How long [`serve`] lets running jobs finish at shutdown before they are
/// cancelled.
pub const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// Runs `server` until SIGTERM / SIGINT or until it is stopped
/// (`ServerHandle::stop`), then drains the scheduler as
/// [`Scheduler::shutdown_with_deadline`] does with 30 s: no new runs,
/// running jobs finish (or are cancelled at the deadline),
/// `SchedulerShutdown` is emitted; the server stops gracefully meanwhile.
/// Returns when both are down, so `main` can return.
///
/// Why it is needed: when `HttpServer::run().await` returns, `main` returns
/// and the actix `System` stops, killing the scheduler's arbiters under
/// any job still running. Awaiting this instead keeps the System up until
/// the scheduler has drained. Build the server with `.disable_signals()`
/// so that this function, not actix-server, answers the signals; it works
/// without, too (the server then stops first, and the scheduler drains after).
///
/// To stop from the app rather than by a signal, shut the scheduler down
/// first (or together with `ServerHandle::stop`): the server's graceful
/// stop waits for open connections, and the dashboard's event streams end
/// only when the scheduler is down, so a server stopped alone waits its
/// `shutdown_timeout` (30 s by default) while a dashboard is open.
///
/// ```no_run
/// use actix_web::{web, App, HttpServer};
/// use scheduler::Scheduler;
///
/// #[actix_rt::main] // or #[actix_web::main] with actix-web's `macros` feature
/// async fn main() -> std::io::Result<()> {
///     let sched = Scheduler::builder().start().map_err(std::io::Error::other)?;
///     let app_sched = web::Data::new(sched.clone());
///     let server = HttpServer::new(move || {
///         App::new()
///             .app_data(app_sched.clone())
///             .service(scheduler::web::scope("/scheduler"))
///     })
///     .disable_signals()
///     .bind(("127.0.0.1", 8080))?
///     .run();
///     scheduler::web::serve(server, sched).await
/// }
/// ```
pub async fn serve(server: Server, sched: Scheduler) -> std::io::Result<()> {
    serve_with_deadline(server, sched, DEFAULT_DRAIN_DEADLINE).await
}

/// [`serve`] with another drain deadline for running jobs.
pub async fn serve_with_deadline(
    server: Server,
    sched: Scheduler,
    deadline: Duration,
) -> std::io::Result<()> {
    let handle = server.handle();
    let mut server = std::pin::pin!(server);
    let served = tokio::select! {
        r = &mut server => Some(r),
        _ = crate::handle::shutdown_signal() => None,
    };
    match served {
        Some(r) => {
            tracing::info!(target: "scheduler::lifecycle", "web server stopped; draining the scheduler");
            drain(&sched, deadline).await;
            r
        }
        None => {
            tracing::info!(target: "scheduler::lifecycle", "signal received; stopping the web server and draining the scheduler");
            // The event streams end when the scheduler is down, which lets
            // the server's graceful stop finish.
            // The server future runs the server: it must be polled while
            // the stop is on its way.
            let (_, (_, r)) = tokio::join!(
                drain(&sched, deadline),
                futures_util::future::join(handle.stop(true), server)
            );
            r
        }
    }
}

async fn drain(sched: &Scheduler, deadline: Duration) {
    if sched.is_shutdown() {
        return;
    }
    if let Err(e) = sched.shutdown_with_deadline(deadline).await {
        tracing::error!(target: "scheduler::lifecycle", error = %e, "the scheduler did not shut down cleanly");
    }
}
