//! `GET metrics`: the Prometheus text format.

use actix_web::{web, HttpResponse};

use crate::handle::Scheduler;
use crate::job::JobQuery;

/// The scheduler's metrics, in the Prometheus text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "metrics",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format")))]
pub(crate) async fn metrics(sched: web::Data<Scheduler>) -> Result<HttpResponse, actix_web::Error> {
    let total = sched.job_count().await?;
    let paused = sched
        .jobs_page(JobQuery::new().paused(true).limit(0))
        .await?
        .total;
    let monitor = &sched.inner.monitor;
    let running = monitor.lock().running();
    let text = monitor
        .metrics
        .encode(total.saturating_sub(paused), paused, running)
        .map_err(|e| {
            actix_web::error::ErrorInternalServerError(format!("cannot encode the metrics: {e}"))
        })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
