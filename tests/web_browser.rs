//! The dashboard in a real browser: headless Chromium driven through
//! WebDriver (chromedriver, with the `fantoccini` crate). The job list
//! renders, a run appears live after "Run now", "Pause" changes the row, a
//! refused action shows the refusal, and a job name with `<script>` is shown
//! as text. A screenshot goes to the test's output folder.
//!
//! Needs `chromedriver` and `chromium` (Debian's `chromium-driver` and
//! `chromium`): `.ci/run` installs them and sets `SCHEDULER_TEST_CHROMEDRIVER`.
//! Without that variable the test is skipped, loudly.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use fantoccini::{Client, ClientBuilder, Locator};
use scheduler::{JobContext, Scheduler, Target, Trigger};
use tests::net::{free_port, wait_listening};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `check` until it gives `Some`, for at most 20 s.
async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(c: &Client, css: &str) -> Option<String> {
    let el = c.find(Locator::Css(css)).await.ok()?;
    el.text().await.ok()
}

async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    let el = c.find(Locator::Css(css)).await.ok()?;
    el.attr(name).await.ok().flatten()
}

#[actix_rt::test]
async fn the_dashboard_works_in_a_real_browser() {
    let Some(driver_bin) = std::env::var_os("SCHEDULER_TEST_CHROMEDRIVER") else {
        eprintln!(
            "SKIPPED: set SCHEDULER_TEST_CHROMEDRIVER to chromedriver's path to run the browser test \
             (.ci/run installs Debian's chromium and chromium-driver and sets it)"
        );
        return;
    };
    let chromium =
        std::env::var("SCHEDULER_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let driver_port = free_port();
    let _driver = Driver(
        Command::new(&driver_bin)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    wait_listening(&format!("127.0.0.1:{driver_port}"), "chromedriver", 20);

    let sched = Scheduler::builder()
        .without_registered_jobs()
        .start()
        .expect("started");
    let hourly = || Trigger::interval(Duration::from_secs(3600)).expect("a valid interval");
    for (id, name) in [
        ("report", "Nightly report"),
        ("evil", "<script>window.pwned=1</script>"),
    ] {
        sched
            .add_job(Target::from_async(|_ctx: JobContext| async {}))
            .id(id)
            .name(name)
            .trigger(hourly())
            .await
            .expect("added");
    }
    let shared = web::Data::new(sched.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .service(scheduler::web::scope("/admin").allow_writes())
            .service(scheduler::web::scope("/ro"))
    })
    .disable_signals()
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("binds");
    let base = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);

    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,900"]
        }),
    );
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session");

    // The job list renders, live.
    c.goto(&format!("{base}/admin/"))
        .await
        .expect("the page opens");
    until("the live stream", || async {
        text(&c, "#live").await.filter(|t| t == "live")
    })
    .await;
    let rows = c
        .find_all(Locator::Css("#jobs tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2);

    // The <script> name is text, not markup, and never ran.
    let evil = text(&c, "#jobs tr[data-id='evil'] td.name").await;
    assert_eq!(evil.as_deref(), Some("<script>window.pwned=1</script>"));
    let pwned = c
        .execute("return window.pwned === undefined;", vec![])
        .await
        .expect("script runs");
    assert_eq!(
        pwned,
        serde_json::Value::Bool(true),
        "the job name was executed as a script"
    );

    // "Run now": the run appears in the recent runs without a reload.
    c.find(Locator::Css(
        "#jobs tr[data-id='report'] button[data-action='run']",
    ))
    .await
    .expect("the button")
    .click()
    .await
    .expect("clicked");
    until("the run in the recent runs", || async {
        text(&c, "#runs tbody tr td.outcome")
            .await
            .filter(|t| t == "success")
    })
    .await;
    until("the last outcome in the job row", || async {
        text(&c, "#jobs tr[data-id='report'] td.outcome")
            .await
            .filter(|t| t == "success")
    })
    .await;

    // "Pause" changes the row.
    c.find(Locator::Css(
        "#jobs tr[data-id='report'] button[data-action='pause']",
    ))
    .await
    .expect("the button")
    .click()
    .await
    .expect("clicked");
    until("the paused row", || async {
        attr(&c, "#jobs tr[data-id='report']", "data-paused")
            .await
            .filter(|p| p == "true")
    })
    .await;
    assert_eq!(
        text(&c, "#jobs tr[data-id='report'] td.next")
            .await
            .as_deref(),
        Some("paused")
    );
    assert!(sched
        .get_job("report")
        .await
        .expect("get")
        .is_some_and(|j| j.is_paused()));

    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let png = c.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join("dashboard.png"), png).expect("screenshot written");
    eprintln!("screenshot: {}", dir.join("dashboard.png").display());

    // On the read-only scope, an action is refused and the page says so.
    c.goto(&format!("{base}/ro/"))
        .await
        .expect("the page opens");
    c.find(Locator::Css(
        "#jobs tr[data-id='evil'] button[data-action='pause']",
    ))
    .await
    .expect("the button")
    .click()
    .await
    .expect("clicked");
    let message = until("the refusal", || async {
        text(&c, "#message")
            .await
            .filter(|t| t.contains("Refused (403)"))
    })
    .await;
    assert!(message.contains("read-only"), "{message}");
    assert!(sched
        .get_job("evil")
        .await
        .expect("get")
        .is_some_and(|j| !j.is_paused()));
    let png = c.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join("dashboard-refused.png"), png).expect("screenshot written");

    c.close().await.expect("the session closes");
    // The scheduler first: its shutdown ends the event streams, which the
    // server's graceful stop would otherwise wait for (what `serve` does).
    sched.shutdown(true).await.expect("shut down");
    handle.stop(true).await;
}
