//! The HTML dashboard: one server-rendered page (maud escapes everything
//! it prints), a small script and a style sheet served by the scope. No
//! build step, no CDN. The script refreshes the tables from the event
//! stream and drives the buttons and the schedule preview.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup, DOCTYPE};

use crate::handle::Scheduler;
use crate::monitor::{Outcome, RunView};
use crate::web::api::{job_query, recent_runs, views};
use crate::web::dto::{JobState, JobView, JobsParams};
use crate::web::error::Refusal;
use crate::web::scope::ScopeState;

const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");

/// `GET` the scope without a trailing slash: to the page with one, so its
/// relative links work wherever the scope is mounted.
pub(crate) async fn redirect(req: HttpRequest) -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, format!("{}/", req.path())))
        .finish()
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1} ms")).unwrap_or_default()
}

fn job_row(j: &JobView) -> Markup {
    html! {
        tr data-id=(j.id) data-paused=(j.paused) {
            td.id { (j.id) }
            td.name { (j.name) }
            td.trigger { (j.trigger) }
            td.next { @if j.paused { "paused" } @else { (time(j.next_run_time)) } }
            td.outcome data-outcome=[j.last_outcome.map(Outcome::as_str)] { (j.last_outcome.map_or("", Outcome::as_str)) }
            td.actions {
                @if j.paused {
                    button type="button" data-action="resume" { "Resume" }
                } @else {
                    button type="button" data-action="pause" { "Pause" }
                }
                " "
                button type="button" data-action="run" { "Run now" }
                " "
                button type="button" data-action="remove" { "Remove" }
            }
        }
    }
}

fn run_row(r: &RunView) -> Markup {
    html! {
        tr data-run=(r.run_id) {
            td { (r.job_id) }
            td { (r.run_id) }
            td { (time(Some(r.scheduled_at))) }
            td { (ms(r.lateness_ms)) }
            td { (ms(r.duration_ms)) }
            td.outcome data-outcome=(r.outcome.as_str()) { (r.outcome.as_str()) }
            td.error { (r.error.as_deref().unwrap_or("")) }
        }
    }
}

/// The dashboard page.
#[utoipa::path(get, path = "/", tag = "dashboard", params(JobsParams),
    responses((status = 200, content_type = "text/html", description = "The dashboard"),
        (status = 400, body = crate::web::ApiError)))]
pub(crate) async fn page(
    sched: web::Data<Scheduler>,
    state: web::Data<ScopeState>,
    params: web::Query<JobsParams>,
) -> Result<HttpResponse, actix_web::Error> {
    let (query, offset, limit) = job_query(&params)?;
    let jobs = sched.jobs_page(query).await?;
    let rows = views(&sched, &jobs);
    let runs = recent_runs(&sched, None, None, 50).await?;
    let writes = state.writes.enabled();
    let q = params.q.clone().unwrap_or_default();
    let paged = |offset: usize| -> String {
        let mut url = format!("?offset={offset}&limit={limit}");
        if !q.is_empty() {
            url.push_str("&q=");
            url.push_str(&encode(&q));
        }
        if let Some(s) = params.state {
            url.push_str(if s == JobState::Paused {
                "&state=paused"
            } else {
                "&state=scheduled"
            });
        }
        url
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Scheduler" }
                link rel="stylesheet" href="assets/dashboard.css";
            }
            body data-writes=(writes) data-offset=(offset) data-limit=(limit) {
                header {
                    h1 { "Scheduler" }
                    span #live { "connecting…" }
                    label { "Token " input #token type="password" autocomplete="off" placeholder="bearer token"; }
                }
                @if !writes {
                    p.note { "Read-only: the application has not configured who may change jobs." }
                }
                p #message role="status" aria-live="polite" {}
                section {
                    h2 { "Jobs " small { "(" span #total { (jobs.total) } ")" } }
                    form #filter method="get" {
                        input name="q" value=(q) placeholder="id or name";
                        select name="state" {
                            option value="" { "all" }
                            option value="scheduled" selected[params.state == Some(JobState::Scheduled)] { "scheduled" }
                            option value="paused" selected[params.state == Some(JobState::Paused)] { "paused" }
                        }
                        input type="hidden" name="limit" value=(limit);
                        button type="submit" { "Filter" }
                    }
                    table #jobs {
                        thead { tr { th { "Id" } th { "Name" } th { "Trigger" } th { "Next run" } th { "Last outcome" } th { "Actions" } } }
                        tbody { @for j in &rows { (job_row(j)) } }
                    }
                    nav.pages {
                        @if offset > 0 { a #prev href=(paged(offset.saturating_sub(limit))) { "← previous" } " " }
                        span { (if rows.is_empty() { offset.min(jobs.total) } else { offset.saturating_add(1) }) "–" (offset.saturating_add(rows.len()).min(jobs.total)) " of " (jobs.total) }
                        @if offset.saturating_add(rows.len()) < jobs.total { " " a #next href=(paged(offset.saturating_add(limit))) { "next →" } }
                    }
                }
                section {
                    h2 { "Recent runs" }
                    table #runs {
                        thead { tr { th { "Job" } th { "Run" } th { "Scheduled" } th { "Lateness" } th { "Duration" } th { "Outcome" } th { "Error" } } }
                        tbody { @for r in &runs { (run_row(r)) } }
                    }
                }
                section {
                    h2 { "Schedule preview" }
                    form #preview {
                        select name="kind" {
                            option value="cron" { "crontab" }
                            option value="interval" { "interval" }
                            option value="date" { "date" }
                        }
                        input name="expr" placeholder="*/5 * * * *" required;
                        input name="tz" placeholder="time zone (UTC)";
                        button type="submit" { "Next 10 fire times" }
                    }
                    ol #times {}
                }
                script src="assets/dashboard.js" {}
            }
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "same-origin"))
        .insert_header(("cache-control", "no-store"))
        .body(markup.into_string()))
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET assets/{name}`: the script and the style sheet.
pub(crate) async fn asset(name: web::Path<String>) -> Result<HttpResponse, Refusal> {
    let (body, kind) = match name.as_str() {
        "dashboard.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "dashboard.css" => (STYLE, "text/css; charset=utf-8"),
        other => {
            return Err(Refusal {
                status: actix_web::http::StatusCode::NOT_FOUND,
                body: crate::web::ApiError::new("not_found", format!("no asset `{other}`")),
            })
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(kind)
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("cache-control", "public, max-age=300"))
        .body(body))
}
