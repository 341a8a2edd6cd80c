//! The web scope's REST API with `actix_web::test`: pages and filters,
//! every error status, access (read-only, bearer token, guard, CSRF), the
//! schedule preview, the OpenAPI document against the routes, the event
//! stream and its lag notice, the dashboard's escaping, the metrics, and
//! `web::Data` shared with jobs.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{test, web, App, ResponseError};
use scheduler::web::CSRF_HEADER;
use scheduler::{Data, Error, ErrorKind, Event, JobContext, Scheduler, Target, Trigger};
use serde_json::{json, Value};
use tokio_stream::StreamExt;

/// An app under test.
trait TestApp:
    Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>
{
}
impl<S> TestApp for S where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>
{
}

fn every_minute() -> Trigger {
    Trigger::interval(Duration::from_secs(60)).expect("a valid interval")
}

async fn add(sched: &Scheduler, id: &str, name: &str) {
    sched
        .add_job(Target::from_async(|_ctx: JobContext| async {}))
        .id(id)
        .name(name)
        .trigger(every_minute())
        .await
        .expect("job added");
}

async fn app(sched: &Scheduler, scope: scheduler::web::SchedulerScope) -> impl TestApp {
    test::init_service(
        App::new()
            .app_data(web::Data::new(sched.clone()))
            .service(scope),
    )
    .await
}

async fn get(app: &impl TestApp, uri: &str) -> (StatusCode, Value) {
    let resp = app
        .call(test::TestRequest::get().uri(uri).to_request())
        .await
        .expect("a response");
    let status = resp.status();
    let body = test::read_body(resp).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn send(app: &impl TestApp, req: test::TestRequest) -> (StatusCode, Value) {
    let resp = app.call(req.to_request()).await.expect("a response");
    let status = resp.status();
    let body = test::read_body(resp).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn write(method: &str, uri: &str) -> test::TestRequest {
    let req = match method {
        "DELETE" => test::TestRequest::delete(),
        _ => test::TestRequest::post(),
    };
    req.uri(uri)
        .insert_header((CSRF_HEADER, "1"))
        .insert_header(("authorization", "Bearer s3cret"))
}

#[actix_rt::test]
async fn jobs_are_listed_in_pages_and_filtered() {
    let sched = Scheduler::builder().start().expect("started");
    for i in 0..5 {
        add(&sched, &format!("sync-{i}"), "redis sync").await;
    }
    add(&sched, "report", "Nightly Report").await;
    sched.pause_job("sync-4").await.expect("paused");
    let app = app(&sched, scheduler::web::scope("/scheduler")).await;

    let (status, page) = get(&app, "/scheduler/api/jobs?limit=2&offset=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 6);
    assert_eq!(page["jobs"].as_array().map(Vec::len), Some(2));
    let job = &page["jobs"][0];
    assert!(
        job["trigger"]
            .as_str()
            .is_some_and(|t| t.starts_with("interval[1m")),
        "{job}"
    );
    assert!(job["next_run_time"].is_string());

    let (_, page) = get(&app, "/scheduler/api/jobs?q=NIGHTLY").await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["jobs"][0]["id"], "report");
    let (_, page) = get(&app, "/scheduler/api/jobs?state=paused").await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["jobs"][0]["id"], "sync-4");
    assert_eq!(page["jobs"][0]["paused"], true);
    // Paused jobs come last.
    let (_, page) = get(&app, "/scheduler/api/jobs?limit=1000").await;
    assert_eq!(page["jobs"][5]["id"], "sync-4");

    for bad in [
        "/scheduler/api/jobs?limit=0",
        "/scheduler/api/jobs?limit=abc",
        "/scheduler/api/jobs?limit=1001",
        "/scheduler/api/jobs?state=sleeping",
        "/scheduler/api/jobs?bogus=1",
        "/scheduler/api/runs?outcome=bogus",
        "/scheduler/api/runs?limit=-3",
    ] {
        let (status, body) = get(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request", "{bad}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    sched.shutdown(true).await.expect("shut down");
}

#[actix_rt::test]
async fn one_job_with_its_runs_and_unknown_ids_are_404() {
    let sched = Scheduler::builder().start().expect("started");
    let mut events = sched.subscribe();
    add(&sched, "a", "a").await;
    sched.run_job_now("a").await.expect("run");
    while !matches!(events.next().await, Some(Event::JobExecuted { .. })) {}
    let app = app(&sched, scheduler::web::scope("/s")).await;
    let (status, detail) = get(&app, "/s/api/jobs/a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["job"]["id"], "a");
    assert_eq!(detail["job"]["last_outcome"], "success");
    assert_eq!(detail["runs"][0]["outcome"], "success");
    assert!(detail["runs"][0]["duration_ms"].is_number());

    let (status, body) = get(&app, "/s/api/jobs/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "job_not_found");
    let (status, body) = get(&app, "/s/api/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "no_route");

    let (status, runs) = get(&app, "/s/api/runs?job=a&outcome=success").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(runs.as_array().map(Vec::len), Some(1));
    let (_, runs) = get(&app, "/s/api/runs?outcome=error").await;
    assert_eq!(runs.as_array().map(Vec::len), Some(0));
    sched.shutdown(true).await.expect("shut down");
}

#[actix_rt::test]
async fn writes_are_forbidden_unless_the_app_says_who_may_write() {
    let sched = Scheduler::builder().start().expect("started");
    add(&sched, "a", "a").await;
    let read_only = app(&sched, scheduler::web::scope("/s")).await;
    for (method, uri) in [
        ("POST", "/s/api/jobs/a/pause"),
        ("POST", "/s/api/jobs/a/resume"),
        ("POST", "/s/api/jobs/a/run"),
        ("POST", "/s/api/jobs/a/reschedule"),
        ("DELETE", "/s/api/jobs/a"),
    ] {
        let (status, body) = send(&read_only, write(method, uri)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(body["error"], "forbidden");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("read-only")),
            "{body}"
        );
    }
    assert!(sched
        .get_job("a")
        .await
        .expect("get")
        .is_some_and(|j| !j.is_paused()));

    let guarded = app(&sched, scheduler::web::scope("/s").bearer_token("s3cret")).await;
    let no_token = test::TestRequest::post()
        .uri("/s/api/jobs/a/pause")
        .insert_header((CSRF_HEADER, "1"));
    assert_eq!(send(&guarded, no_token).await.0, StatusCode::FORBIDDEN);
    let wrong = test::TestRequest::post()
        .uri("/s/api/jobs/a/pause")
        .insert_header((CSRF_HEADER, "1"))
        .insert_header(("authorization", "Bearer guess"));
    assert_eq!(send(&guarded, wrong).await.0, StatusCode::FORBIDDEN);
    // The right token without the CSRF header: a cross-site form.
    let forged = test::TestRequest::post()
        .uri("/s/api/jobs/a/pause")
        .insert_header(("authorization", "Bearer s3cret"));
    let (status, body) = send(&guarded, forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(CSRF_HEADER)),
        "{body}"
    );
    let cross_origin =
        write("POST", "/s/api/jobs/a/pause").insert_header(("origin", "https://evil.example"));
    assert_eq!(send(&guarded, cross_origin).await.0, StatusCode::FORBIDDEN);
    let cross_site =
        write("POST", "/s/api/jobs/a/pause").insert_header(("sec-fetch-site", "cross-site"));
    assert_eq!(send(&guarded, cross_site).await.0, StatusCode::FORBIDDEN);
    assert!(sched
        .get_job("a")
        .await
        .expect("get")
        .is_some_and(|j| !j.is_paused()));

    // An empty token configured lets nobody in.
    let empty = app(&sched, scheduler::web::scope("/s").bearer_token("")).await;
    let blank = test::TestRequest::post()
        .uri("/s/api/jobs/a/pause")
        .insert_header((CSRF_HEADER, "1"))
        .insert_header(("authorization", "Bearer "));
    assert_eq!(send(&empty, blank).await.0, StatusCode::FORBIDDEN);

    // An actix guard of the app's own.
    let header_guard = app(
        &sched,
        scheduler::web::scope("/s").write_guard(actix_web::guard::Header("x-admin", "yes")),
    )
    .await;
    let admin = test::TestRequest::post()
        .uri("/s/api/jobs/a/pause")
        .insert_header((CSRF_HEADER, "1"))
        .insert_header(("x-admin", "yes"));
    assert_eq!(send(&header_guard, admin).await.0, StatusCode::OK);
    sched.shutdown(true).await.expect("shut down");
}

#[actix_rt::test]
async fn pause_resume_run_reschedule_remove() {
    let sched = Scheduler::builder().start().expect("started");
    let mut events = sched.subscribe();
    add(&sched, "a", "a").await;
    let app = app(&sched, scheduler::web::scope("/s").bearer_token("s3cret")).await;
    let same_origin =
        write("POST", "/s/api/jobs/a/pause").insert_header(("origin", "http://localhost:8080"));
    let (status, job) = send(&app, same_origin).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["paused"], true);
    assert!(job["next_run_time"].is_null());
    let (status, job) = send(&app, write("POST", "/s/api/jobs/a/resume")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(job["paused"], false);

    let (status, run) = send(&app, write("POST", "/s/api/jobs/a/run")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(run["run_id"].as_u64().is_some());
    while !matches!(events.next().await, Some(Event::JobExecuted { .. })) {}

    let (status, job) = send(
        &app,
        write("POST", "/s/api/jobs/a/reschedule")
            .set_json(json!({"cron": "30 2 * * *", "tz": "Europe/Berlin"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["trigger"], "cron[30 2 * * *] Europe/Berlin");

    let (status, body) = send(
        &app,
        write("POST", "/s/api/jobs/a/reschedule").set_json(json!({"cron": "61 * * * *"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "trigger");
    assert_eq!(body["field"], "minute");
    assert_eq!(body["position"], 0);
    for bad in [
        json!({"cron": "* * * * *", "color": "red"}),
        json!({}),
        json!({"cron": "* * * * *", "interval": "5m"}),
        json!({"interval": "soon"}),
        json!({"cron": "* * * * *", "tz": "Mars/Olympus"}),
        json!({"date": "tomorrow"}),
        json!({"fields": {"weekday": "mon"}}),
    ] {
        let (status, body) = send(
            &app,
            write("POST", "/s/api/jobs/a/reschedule").set_json(&bad),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let not_json = write("POST", "/s/api/jobs/a/reschedule")
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json");
    let (status, body) = send(&app, not_json).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("JSON")),
        "{body}"
    );
    let (status, _) = send(
        &app,
        write("POST", "/s/api/jobs/nope/reschedule").set_json(json!({"interval": "5m"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = send(&app, write("DELETE", "/s/api/jobs/a")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(&app, write("DELETE", "/s/api/jobs/a")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "job_not_found");
    for uri in [
        "/s/api/jobs/a/pause",
        "/s/api/jobs/a/resume",
        "/s/api/jobs/a/run",
    ] {
        assert_eq!(
            send(&app, write("POST", uri)).await.0,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    sched.shutdown(true).await.expect("shut down");
    // A scheduler that is down is 503, not 500.
    let (status, body) = get(&app, "/s/api/jobs").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

#[actix_rt::test]
async fn the_preview_gives_the_next_fire_times_of_a_trigger_typed_in() {
    let sched = Scheduler::builder().start().expect("started");
    let app = app(&sched, scheduler::web::scope("/s")).await;
    let req = test::TestRequest::post()
        .uri("/s/api/preview")
        .set_json(json!({
            "trigger": {"cron": "30 2 * * *", "tz": "Europe/Berlin"},
            "after": "2026-03-27T00:00:00Z",
            "count": 3
        }));
    let (status, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The DST rule: 02:30 does not exist on 29 March; it fires at 03:00.
    assert_eq!(
        body["times"],
        json!([
            "2026-03-27T02:30:00+01:00",
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:00:00+02:00"
        ])
    );
    let (_, body) = send(
        &app,
        test::TestRequest::post()
            .uri("/s/api/preview")
            .set_json(json!({"trigger": {"interval": "90s"}})),
    )
    .await;
    assert_eq!(body["times"].as_array().map(Vec::len), Some(10));
    for bad in [
        json!({"trigger": {"cron": "0 25 * * *"}}),
        json!({"trigger": {"cron": "* * * * *"}, "count": 0}),
        json!({"trigger": {"cron": "* * * * *"}, "count": 101}),
        json!({"trigger": {"cron": "* * * * *"}, "after": "yesterday"}),
        json!({"trigger": {"cron": "0 0 30 2 *"}}),
        json!({"cron": "* * * * *"}),
    ] {
        let (status, body) = send(
            &app,
            test::TestRequest::post()
                .uri("/s/api/preview")
                .set_json(&bad),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    sched.shutdown(true).await.expect("shut down");
}

#[actix_rt::test]
async fn every_documented_route_is_served() {
    let sched = Scheduler::builder().start().expect("started");
    add(&sched, "a", "a").await;
    let app = app(&sched, scheduler::web::scope("/s").allow_writes()).await;
    let (status, doc) = get(&app, "/s/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["servers"][0]["url"], "/s");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "post", "delete"] {
            if item.get(method).is_none() || path == "/events" {
                continue;
            }
            let uri = format!("/s{}", path.replace("{id}", "a"));
            let req = match method {
                "get" => test::TestRequest::get(),
                "post" => test::TestRequest::post().insert_header((CSRF_HEADER, "1")),
                _ => test::TestRequest::delete().insert_header((CSRF_HEADER, "1")),
            };
            let resp = app
                .call(req.uri(&uri).to_request())
                .await
                .expect("a response");
            let status = resp.status();
            let body = test::read_body(resp).await;
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            assert_ne!(
                body["error"], "no_route",
                "{method} {path} is documented but not served"
            );
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            checked += 1;
        }
    }
    // jobs, job (get, delete), pause, resume, run, reschedule, runs, preview, metrics, dashboard.
    assert_eq!(checked, 11, "the document lists the routes of the scope");
    sched.shutdown(true).await.expect("shut down");
}

async fn next_chunk(body: &mut (impl MessageBody + Unpin)) -> String {
    let next = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::future::poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)),
    )
    .await
    .expect("an event within 10 s");
    match next {
        Some(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Some(Err(_)) => panic!("the stream failed"),
        None => String::new(),
    }
}

#[actix_rt::test]
async fn a_client_after_the_last_one_left_still_gets_events() {
    let sched = Scheduler::builder().start().expect("started");
    add(&sched, "a", "a").await;
    sched.job_count().await.expect("count");
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(sched.clone()))
            .service(scheduler::web::scope("/s")),
    )
    .await;
    for round in 0..3 {
        let resp =
            test::call_service(&app, test::TestRequest::get().uri("/s/events").to_request()).await;
        let mut body = resp.into_body();
        let mut text = String::new();
        read_until(&mut body, &mut text, ": connected").await;
        sched.run_job_now("a").await.expect("run");
        read_until(&mut body, &mut text, "event: job_executed").await;
        drop(body);
        // Events with no client left: the hub goes away.
        add(&sched, &format!("x{round}"), "x").await;
        sched
            .remove_job(&format!("x{round}"))
            .await
            .expect("removed");
        actix_rt::time::sleep(Duration::from_millis(60)).await;
    }
    sched.shutdown(true).await.expect("shut down");
}

/// Reads the stream into `text` until it contains `needle`.
async fn read_until(body: &mut (impl MessageBody + Unpin), text: &mut String, needle: &str) {
    while !text.contains(needle) {
        let chunk = next_chunk(body).await;
        assert!(
            !chunk.is_empty(),
            "the stream ended before `{needle}`: {text}"
        );
        text.push_str(&chunk);
    }
}

#[actix_rt::test]
async fn events_stream_live_and_a_client_that_falls_behind_is_told() {
    let sched = Scheduler::builder()
        .event_capacity(8)
        .start()
        .expect("started");
    add(&sched, "a", "a").await;
    // A round trip: the start's own events are out before the stream opens.
    sched.job_count().await.expect("count");
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(sched.clone()))
            .service(scheduler::web::scope("/s")),
    )
    .await;
    let resp =
        test::call_service(&app, test::TestRequest::get().uri("/s/events").to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut body = resp.into_body();
    let mut text = String::new();
    read_until(&mut body, &mut text, ": connected").await;
    sched.run_job_now("a").await.expect("run");
    read_until(&mut body, &mut text, "event: job_executed").await;
    let submitted = text
        .find("event: job_submitted\ndata: {")
        .expect("job_submitted");
    assert!(
        submitted < text.find("event: job_executed").unwrap_or(0),
        "{text}"
    );
    let data: Value = serde_json::from_str(
        text[submitted..]
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("data: "))
            .expect("data"),
    )
    .expect("JSON");
    assert_eq!(data["job_id"], "a");

    // 100 events 30 ms apart (each its own batch, or a few together on a
    // loaded machine: far more batches than the 8 kept) while the client
    // reads nothing: it hears how many it missed.
    for i in 0..100 {
        add(&sched, &format!("b{i}"), "b").await;
        actix_rt::time::sleep(Duration::from_millis(30)).await;
    }
    text.clear();
    read_until(&mut body, &mut text, "event: lagged").await;
    let lagged = &text[text.find("event: lagged").unwrap_or(0)..];
    let data: Value = serde_json::from_str(
        lagged
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("data: "))
            .expect("data"),
    )
    .expect("JSON");
    assert_eq!(data["type"], "lagged");
    let missed = data["missed"].as_u64().expect("a count");
    assert!((1..=100).contains(&missed), "{lagged}");
    // The events after the gap still come, the last one included.
    read_until(&mut body, &mut text, r#""job_id":"b99""#).await;
    // At shutdown the stream says so and ends.
    sched.shutdown(true).await.expect("shut down");
    let mut rest = String::new();
    loop {
        let chunk = next_chunk(&mut body).await;
        if chunk.is_empty() {
            break;
        }
        rest.push_str(&chunk);
    }
    assert!(rest.contains("event: scheduler_shutdown"), "{rest}");
}

#[actix_rt::test]
async fn the_dashboard_escapes_what_users_wrote() {
    let sched = Scheduler::builder().start().expect("started");
    add(
        &sched,
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
    )
    .await;
    let app = app(&sched, scheduler::web::scope("/s")).await;
    let resp = app
        .call(test::TestRequest::get().uri("/s/").to_request())
        .await
        .expect("a response");
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains(r#"<script src="assets/dashboard.js">"#));
    // An offset at the end of the numbers is an empty page, not a panic.
    let resp = app
        .call(
            test::TestRequest::get()
                .uri(&format!("/s/?offset={}", usize::MAX))
                .to_request(),
        )
        .await
        .expect("a response");
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, page) = get(&app, &format!("/s/api/jobs?offset={}", usize::MAX)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["jobs"].as_array().map(Vec::len), Some(0));
    let resp = app
        .call(test::TestRequest::get().uri("/s").to_request())
        .await
        .expect("a response");
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    let resp = app
        .call(
            test::TestRequest::get()
                .uri("/s/assets/dashboard.js")
                .to_request(),
        )
        .await
        .expect("a response");
    assert_eq!(resp.status(), StatusCode::OK);
    let js = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
    assert!(
        !js.contains("innerHTML"),
        "the script never parses data as HTML"
    );
    sched.shutdown(true).await.expect("shut down");
}

#[actix_rt::test]
async fn metrics_count_runs_by_job_and_outcome() {
    let sched = Scheduler::builder().start().expect("started");
    let mut events = sched.subscribe();
    add(&sched, "ok", "ok").await;
    sched
        .add_job(Target::from_async(|_ctx: JobContext| async {
            Err::<(), _>("boom")
        }))
        .id("bad")
        .trigger(every_minute())
        .await
        .expect("added");
    sched.pause_job("ok").await.expect("paused");
    sched.run_job_now("ok").await.expect("run");
    sched.run_job_now("bad").await.expect("run");
    let mut finished = 0;
    while finished < 2 {
        if matches!(
            events.next().await,
            Some(Event::JobExecuted { .. } | Event::JobError { .. })
        ) {
            finished += 1;
        }
    }
    let app = app(&sched, scheduler::web::scope("/s")).await;
    let resp = app
        .call(test::TestRequest::get().uri("/s/metrics").to_request())
        .await
        .expect("a response");
    assert!(resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/plain")));
    let text = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
    for line in [
        r#"scheduler_runs_total{job="ok",outcome="success"} 1"#,
        r#"scheduler_runs_total{job="bad",outcome="error"} 1"#,
        r#"scheduler_jobs{state="scheduled"} 1"#,
        r#"scheduler_jobs{state="paused"} 1"#,
        "scheduler_run_lateness_seconds_count 2",
        "scheduler_run_duration_seconds_count 2",
        "scheduler_runs_running 0",
        "scheduler_store_errors_total 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    sched.shutdown(true).await.expect("shut down");
}

struct Counter(std::sync::atomic::AtomicU32);

#[actix_rt::test]
async fn web_data_is_the_jobs_data_the_same_arc() {
    let shared = web::Data::new(Counter(Default::default()));
    let sched = Scheduler::builder()
        .web_data(shared.clone())
        .start()
        .expect("started");
    let mut events = sched.subscribe();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sched
        .add_job(Target::from_async(move |ctx: JobContext| {
            let tx = tx.clone();
            async move {
                let data: Data<Counter> = ctx.data().expect("registered");
                data.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = tx.send(data.into_inner());
            }
        }))
        .id("count")
        .trigger(every_minute())
        .await
        .expect("added");
    sched.run_job_now("count").await.expect("run");
    let seen = rx.recv().await.expect("the job ran");
    assert!(Arc::ptr_eq(&seen, &shared.clone().into_inner()));
    assert_eq!(shared.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    while !matches!(events.next().await, Some(Event::JobExecuted { .. })) {}
    sched.shutdown(true).await.expect("shut down");
}

#[actix_rt::test]
async fn errors_answer_with_their_status() {
    for (kind, status) in [
        (ErrorKind::JobNotFound, 404),
        (ErrorKind::DuplicateId, 409),
        (ErrorKind::MaxInstances, 409),
        (ErrorKind::Trigger, 400),
        (ErrorKind::Args, 400),
        (ErrorKind::UnknownJob, 400),
        (ErrorKind::NotRunning, 503),
        (ErrorKind::Store, 503),
        (ErrorKind::Aborted, 503),
        (ErrorKind::Start, 500),
    ] {
        assert_eq!(
            Error::new(kind, "x").status_code().as_u16(),
            status,
            "{kind:?}"
        );
    }
}
