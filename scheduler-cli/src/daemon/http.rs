//! `scheduler run --http ADDR`: `/healthz` (200 while the scheduler and its
//! state file answer, 503 otherwise), the read-only dashboard at `/`, the
//! JSON API under `/api`, and Prometheus metrics at `/metrics`.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use scheduler::Scheduler;

/// Starts the server on `addr`; its handle stops it.
pub(super) fn start(addr: &str, sched: &Scheduler) -> std::io::Result<ServerHandle> {
    let data = web::Data::new(sched.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/healthz", web::get().to(health))
            .service(scheduler::web::scope(""))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(addr)?
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok(handle)
}

/// Healthy while the scheduler answers and the state file can be read.
async fn health(sched: web::Data<Scheduler>) -> HttpResponse {
    if sched.is_shutdown() {
        return HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "stopping" }));
    }
    match sched.job_count().await {
        Ok(jobs) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "jobs": jobs })),
        Err(e) => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "unavailable", "error": e.to_string() })),
    }
}
