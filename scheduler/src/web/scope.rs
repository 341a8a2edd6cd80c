//! `scope("/scheduler")`: the REST API, the OpenAPI document, the event
//! stream, the dashboard and the metrics, mounted in an app.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::guard::Guard;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::web::access::{refusal, BearerToken, WriteGuard, Writes};
use crate::web::error::{ApiError, Refusal};
use crate::web::{api, dashboard, metrics, openapi, sse};

/// What the scope's handlers share.
pub(crate) struct ScopeState {
    pub(crate) writes: Writes,
}

/// The scheduler's web scope, to mount in an actix-web `App` with
/// `.service(..)`. Made by [`scope`]; read-only unless told who may write.
///
/// It serves, under its path:
/// - `/` the dashboard (jobs, recent runs, live updates, buttons, a schedule preview);
/// - `api/jobs`, `api/jobs/{id}`, `api/jobs/{id}/pause|resume|run|reschedule`,
///   `api/runs`, `api/preview`: the JSON API;
/// - `openapi.json`, `events` (server-sent events), `metrics` (Prometheus).
///
/// The handlers take the scheduler from the app's data, a
/// `web::Data<Scheduler>`: register it with `App::app_data`.
#[must_use = "mount the scope with App::service"]
pub struct SchedulerScope {
    path: String,
    writes: Writes,
}

/// The scheduler's web scope at `path` (for example `"/scheduler"`),
/// read-only: writes answer 403 until [`SchedulerScope::bearer_token`],
/// [`SchedulerScope::write_guard`] or [`SchedulerScope::allow_writes`].
///
/// ```
/// use actix_web::{test, web, App};
/// use scheduler::Scheduler;
///
/// # actix_rt::System::new().block_on(async {
/// let sched = Scheduler::builder().start()?;
/// let app = test::init_service(
///     App::new()
///         .app_data(web::Data::new(sched.clone()))
///         .service(scheduler::web::scope("/scheduler").bearer_token("s3cret")),
/// )
/// .await;
/// let req = test::TestRequest::get().uri("/scheduler/api/jobs").to_request();
/// let page: serde_json::Value = test::call_and_read_body_json(&app, req).await;
/// assert_eq!(page["total"], 0);
/// sched.shutdown(true).await
/// # })?;
/// # Ok::<(), scheduler::Error>(())
/// ```
pub fn scope(path: &str) -> SchedulerScope {
    SchedulerScope {
        path: path.trim_end_matches('/').to_owned(),
        writes: Writes::ReadOnly,
    }
}

impl SchedulerScope {
    /// Writes need `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.writes = Writes::Guarded(std::rc::Rc::new(BearerToken(token.into())));
        self
    }

    /// Writes need `guard` to accept the request: any actix guard (a
    /// header, a host, `guard::fn_guard` over your session).
    pub fn write_guard(mut self, guard: impl Guard + 'static) -> Self {
        self.writes = Writes::Guarded(std::rc::Rc::new(guard));
        self
    }

    /// Writes are allowed to whoever reaches the scope: only when the app's
    /// own middleware already protects it (wrap the scope in your auth).
    pub fn allow_writes(mut self) -> Self {
        self.writes = Writes::Open;
        self
    }

    fn build(self) -> actix_web::Scope {
        let writes = self.writes;
        let guard = || WriteGuard(writes.clone());
        let state = web::Data::new(ScopeState {
            writes: writes.clone(),
        });
        let write = |path: &str, route: actix_web::Route| {
            resource(path, "POST")
                .route(route.guard(guard()))
                .route(web::post().to(forbidden))
        };
        web::scope(&self.path)
            .app_data(state)
            .app_data(
                web::JsonConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|e, _| {
                        Refusal::bad_request(format!("bad JSON body: {e}")).into()
                    }),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| Refusal::bad_request(format!("bad query: {e}")).into()),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| Refusal::bad_request(format!("bad path: {e}")).into()),
            )
            .service(resource("", "GET").route(web::get().to(dashboard::redirect)))
            .service(resource("/", "GET").route(web::get().to(dashboard::page)))
            .service(resource("/assets/{name}", "GET").route(web::get().to(dashboard::asset)))
            .service(resource("/openapi.json", "GET").route(web::get().to(openapi::document)))
            .service(resource("/events", "GET").route(web::get().to(sse::events)))
            .service(resource("/metrics", "GET").route(web::get().to(metrics::metrics)))
            .service(resource("/api/jobs", "GET").route(web::get().to(api::list_jobs)))
            .service(resource("/api/runs", "GET").route(web::get().to(api::list_runs)))
            .service(resource("/api/preview", "POST").route(web::post().to(api::preview)))
            .service(
                resource("/api/jobs/{id}", "GET, DELETE")
                    .route(web::get().to(api::get_job))
                    .route(web::delete().guard(guard()).to(api::remove_job))
                    .route(web::delete().to(forbidden)),
            )
            .service(write(
                "/api/jobs/{id}/pause",
                web::post().to(api::pause_job),
            ))
            .service(write(
                "/api/jobs/{id}/resume",
                web::post().to(api::resume_job),
            ))
            .service(write("/api/jobs/{id}/run", web::post().to(api::run_job)))
            .service(write(
                "/api/jobs/{id}/reschedule",
                web::post().to(api::reschedule_job),
            ))
            .default_service(web::to(no_route))
    }
}

impl HttpServiceFactory for SchedulerScope {
    fn register(self, config: &mut AppService) {
        self.build().register(config)
    }
}

/// A resource that answers other methods with 405 and the `Allow` header.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        let mut r = Refusal {
            status: actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            body: ApiError::new(
                "method_not_allowed",
                format!(
                    "{} {} is not allowed; allowed: {allow}",
                    req.method(),
                    req.path()
                ),
            ),
        }
        .error_response();
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(allow) {
            r.headers_mut().insert(actix_web::http::header::ALLOW, v);
        }
        r
    }))
}

async fn forbidden(state: web::Data<ScopeState>) -> HttpResponse {
    refusal(&state.writes).error_response()
}

async fn no_route(req: HttpRequest) -> HttpResponse {
    Refusal {
        status: actix_web::http::StatusCode::NOT_FOUND,
        body: ApiError::new(
            "no_route",
            format!("no {} {} in the scheduler's API", req.method(), req.path()),
        ),
    }
    .error_response()
}
