//! The REST API's handlers: parse, call the `Scheduler` handle, map the
//! result. Errors are [`crate::Error`] (a `ResponseError`) or a refusal.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::SecondsFormat;

use crate::error::Error;
use crate::handle::Scheduler;
use crate::job::{JobPage, JobQuery};
use crate::monitor::{Outcome, RunView};
use crate::trigger::TriggerSpec;
use crate::web::access::same_origin;
use crate::web::dto::*;
use crate::web::error::{ApiError, Refusal};

type Sched = web::Data<Scheduler>;

fn not_found(id: &str) -> Error {
    Error::job_not_found(id)
}

/// The job views of a page, with the last outcomes this process saw.
pub(crate) fn views(sched: &Scheduler, page: &JobPage) -> Vec<JobView> {
    let runs = sched.inner.monitor.lock();
    page.jobs
        .iter()
        .map(|j| JobView::new(j, runs.last(j.id())))
        .collect()
}

/// The query of a jobs page, checked.
pub(crate) fn job_query(p: &JobsParams) -> Result<(JobQuery, usize, usize), Refusal> {
    let offset = p.offset.unwrap_or(0);
    let limit = p.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(Refusal::bad_request(format!(
            "`limit` must be between 1 and 1000, not {limit}"
        )));
    }
    let mut q = JobQuery::new().offset(offset).limit(limit);
    if let Some(text) = &p.q {
        q = q.search(text.clone());
    }
    if let Some(state) = p.state {
        q = q.paused(state == JobState::Paused);
    }
    Ok((q, offset, limit))
}

/// Lists jobs, paginated and filtered.
#[utoipa::path(get, path = "/api/jobs", tag = "jobs", params(JobsParams),
    responses((status = 200, body = JobPageView), (status = 400, body = ApiError)))]
pub(crate) async fn list_jobs(
    sched: Sched,
    params: web::Query<JobsParams>,
) -> Result<web::Json<JobPageView>, actix_web::Error> {
    let (query, offset, limit) = job_query(&params)?;
    let page = sched.jobs_page(query).await?;
    Ok(web::Json(JobPageView {
        total: page.total,
        offset,
        limit,
        jobs: views(&sched, &page),
    }))
}

/// The recent runs of a job (from the store's history where there is one).
pub(crate) async fn recent_runs(
    sched: &Scheduler,
    job: Option<&str>,
    outcome: Option<Outcome>,
    limit: usize,
) -> Result<Vec<RunView>, Error> {
    if sched.inner.durable.is_some() {
        // The store's history is the cluster's; filtered by outcome here.
        let fetch = if outcome.is_some() {
            limit.max(1000)
        } else {
            limit
        };
        let runs = sched.runs(job, fetch).await?;
        return Ok(runs
            .iter()
            .map(RunView::from)
            .filter(|r| outcome.is_none_or(|o| r.outcome == o))
            .take(limit)
            .collect());
    }
    Ok(sched.inner.monitor.lock().recent(job, outcome, limit))
}

/// One job with its recent runs.
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses((status = 200, body = JobDetail), (status = 404, body = ApiError)))]
pub(crate) async fn get_job(
    sched: Sched,
    id: web::Path<String>,
) -> Result<web::Json<JobDetail>, Error> {
    let job = sched.get_job(&id).await?.ok_or_else(|| not_found(&id))?;
    let last = sched.inner.monitor.lock().last(&id);
    let runs = recent_runs(&sched, Some(&id), None, 20).await?;
    Ok(web::Json(JobDetail {
        job: JobView::new(&job, last),
        runs,
    }))
}

fn view(sched: &Scheduler, job: &crate::job::Job) -> web::Json<JobView> {
    let last = sched.inner.monitor.lock().last(job.id());
    web::Json(JobView::new(job, last))
}

/// Pauses a job: it has no next run until resumed.
#[utoipa::path(post, path = "/api/jobs/{id}/pause", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses((status = 200, body = JobView), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn pause_job(
    req: HttpRequest,
    sched: Sched,
    id: web::Path<String>,
) -> Result<web::Json<JobView>, actix_web::Error> {
    same_origin(&req)?;
    let job = sched.pause_job(&id).await?;
    Ok(view(&sched, &job))
}

/// Resumes a paused job; 204 when its trigger has no fire time left (the job is removed).
#[utoipa::path(post, path = "/api/jobs/{id}/resume", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses((status = 200, body = JobView), (status = 204, description = "The job had no fire time left and was removed"),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn resume_job(
    req: HttpRequest,
    sched: Sched,
    id: web::Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    same_origin(&req)?;
    Ok(match sched.resume_job(&id).await? {
        Some(job) => HttpResponse::Ok().json(view(&sched, &job).0),
        None => HttpResponse::NoContent().finish(),
    })
}

/// Runs a job now, outside its schedule (respecting `max_instances`).
#[utoipa::path(post, path = "/api/jobs/{id}/run", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses((status = 200, body = RunStarted), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "max_instances runs are running")))]
pub(crate) async fn run_job(
    req: HttpRequest,
    sched: Sched,
    id: web::Path<String>,
) -> Result<web::Json<RunStarted>, actix_web::Error> {
    same_origin(&req)?;
    let run_id = sched.run_job_now(&id).await?;
    Ok(web::Json(RunStarted { run_id }))
}

/// Gives a job another trigger (crontab string, fields, interval or date).
#[utoipa::path(post, path = "/api/jobs/{id}/reschedule", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    request_body = TriggerSpec,
    responses((status = 200, body = JobView), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub(crate) async fn reschedule_job(
    req: HttpRequest,
    sched: Sched,
    id: web::Path<String>,
    body: web::Json<TriggerSpec>,
) -> Result<web::Json<JobView>, actix_web::Error> {
    same_origin(&req)?;
    let now = sched.inner.admission.clock.now();
    let trigger = body.build(now).map_err(Error::from)?;
    let job = sched.reschedule_job(&id, trigger).await?;
    Ok(view(&sched, &job))
}

/// Removes a job.
#[utoipa::path(delete, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses((status = 204, description = "Removed"), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn remove_job(
    req: HttpRequest,
    sched: Sched,
    id: web::Path<String>,
) -> Result<HttpResponse, actix_web::Error> {
    same_origin(&req)?;
    sched.remove_job(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Recent runs, newest first, by job and outcome.
#[utoipa::path(get, path = "/api/runs", tag = "runs", params(RunsParams),
    responses((status = 200, body = Vec<RunView>), (status = 400, body = ApiError)))]
pub(crate) async fn list_runs(
    sched: Sched,
    params: web::Query<RunsParams>,
) -> Result<web::Json<Vec<RunView>>, actix_web::Error> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Refusal::bad_request(format!(
            "`limit` must be between 1 and 1000, not {limit}"
        ))
        .into());
    }
    let runs = recent_runs(&sched, params.job.as_deref(), params.outcome, limit).await?;
    Ok(web::Json(runs))
}

/// The next fire times of a trigger typed in (read-only).
#[utoipa::path(post, path = "/api/preview", tag = "triggers", request_body = PreviewRequest,
    responses((status = 200, body = Preview), (status = 400, body = ApiError)))]
pub(crate) async fn preview(
    sched: Sched,
    body: web::Json<PreviewRequest>,
) -> Result<web::Json<Preview>, actix_web::Error> {
    let count = body.count.unwrap_or(10);
    if !(1..=100).contains(&count) {
        return Err(Refusal::bad_request(format!(
            "`count` must be between 1 and 100, not {count}"
        ))
        .into());
    }
    let after = match &body.after {
        Some(text) => crate::trigger::parse_instant(text).map_err(|e| {
            let mut api = ApiError::from(&e);
            api.field = Some("after".to_owned());
            Refusal {
                status: actix_web::http::StatusCode::BAD_REQUEST,
                body: api,
            }
        })?,
        None => sched.inner.admission.clock.now(),
    };
    let trigger = body.trigger.build(after).map_err(Error::from)?;
    let zone = trigger.zone();
    let times = trigger
        .iter_after(after)
        .take(count)
        .map(|t| {
            zone.localize(t)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false)
        })
        .collect();
    Ok(web::Json(Preview {
        trigger: crate::job::table::describe(&trigger),
        times,
    }))
}
