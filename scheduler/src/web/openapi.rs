//! The OpenAPI 3 document of the REST API, generated from the handlers
//! (utoipa) and served at `openapi.json` with the scope's own path as its server.

use actix_web::{HttpRequest, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi};

use crate::web::{api, dashboard, dto, metrics, sse};

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "scheduler",
        description = "The jobs of a scheduler: list, inspect, pause, resume, run now, reschedule, \
                       remove; recent runs; a schedule preview; live events; Prometheus metrics. \
                       Writes answer 403 unless the application configured who may write, and \
                       need the `X-Scheduler-Csrf` header."
    ),
    paths(
        api::list_jobs,
        api::get_job,
        api::pause_job,
        api::resume_job,
        api::run_job,
        api::reschedule_job,
        api::remove_job,
        api::list_runs,
        api::preview,
        sse::events,
        metrics::metrics,
        dashboard::page,
    ),
    components(schemas(
        dto::JobView,
        dto::JobPageView,
        dto::JobDetail,
        dto::RunStarted,
        dto::JobState,
        crate::monitor::Outcome,
        dto::PreviewRequest,
        dto::Preview,
        crate::monitor::RunView,
        crate::web::ApiError,
        crate::trigger::TriggerSpec,
    )),
    modifiers(&Security),
    tags(
        (name = "jobs", description = "The scheduler's jobs"),
        (name = "runs", description = "Recent runs"),
        (name = "triggers", description = "Schedule previews"),
        (name = "events", description = "Live events"),
        (name = "metrics", description = "Prometheus metrics"),
        (name = "dashboard", description = "The HTML dashboard"),
    )
)]
struct ApiDoc;

/// The OpenAPI 3 document of the scope's REST API (paths relative to where
/// the scope is mounted), to merge into an app's own document.
///
/// ```
/// let doc = scheduler::web::openapi();
/// assert!(doc.paths.paths.contains_key("/api/jobs"));
/// ```
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET openapi.json`: the document, its server the scope's path.
pub(crate) async fn document(req: HttpRequest) -> HttpResponse {
    let mut doc = openapi();
    let base = req.path().strip_suffix("/openapi.json").unwrap_or("");
    doc.servers = Some(vec![Server::new(if base.is_empty() { "/" } else { base })]);
    HttpResponse::Ok().json(doc)
}
