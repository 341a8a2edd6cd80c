//! The REST API checked against its own OpenAPI document by an independent
//! tool: schemathesis (from PyPI) generates a few hundred requests from
//! `openapi.json` and checks every answer: no 5xx, status codes, content
//! types, headers and bodies as documented, 405 with `Allow` for methods
//! not documented, invalid data rejected.
//!
//! The server is the real actix-web orders example with a bearer token
//! (writes allowed), holding a few orders' jobs. `.ci/run` installs
//! schemathesis in a virtualenv and sets `SCHEDULER_TEST_SCHEMATHESIS` to
//! its `st`; without it the test is skipped, loudly.
//!
//! One check is left out: `positive_data_acceptance` expects every request
//! the schema allows to succeed, but a crontab string or a time zone name
//! is a string to the schema and can still be wrong (`{"cron": "61 * * * *"}`
//! is schema-valid and rightly a 400 naming the minute field).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use tests::net::{free_port, wait_listening};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connects");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("sent");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn the_api_conforms_to_its_openapi_document() {
    let Some(st) = std::env::var_os("SCHEDULER_TEST_SCHEMATHESIS") else {
        eprintln!(
            "SKIPPED: set SCHEDULER_TEST_SCHEMATHESIS to schemathesis' `st` to check the API against its \
             OpenAPI document (.ci/run installs it from PyPI and sets it)"
        );
        return;
    };
    let addr = format!("127.0.0.1:{}", free_port());
    let dir = std::env::temp_dir().join(format!("scheduler-web-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_actix_web_orders"))
            .env("ORDERS_DIR", &dir)
            .env("ORDERS_ADDR", &addr)
            .env("PAYMENT_WINDOW_SECS", "3600")
            .env("SCHEDULER_TOKEN", "schema-token")
            .stdout(Stdio::null())
            .spawn()
            .expect("the example starts"),
    );
    wait_listening(&addr, "the example", 30);
    for _ in 0..3 {
        assert!(post(&addr, "/orders").starts_with("HTTP/1.1 201"));
    }
    let report = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    let out = Command::new(st)
        .args([
            "run",
            &format!("http://{addr}/scheduler/openapi.json"),
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--exclude-path",
            "/events",
            "--max-examples",
            "25",
            "--seed",
            "20261202",
            "--generation-deterministic",
            "--request-timeout",
            "10",
            "--no-color",
            "-H",
            "Authorization: Bearer schema-token",
            "-H",
            "X-Scheduler-Csrf: 1",
            "--report",
            "junit",
            "--report-dir",
        ])
        .arg(&report)
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
    let summary = stdout.split("SUMMARY").nth(1).unwrap_or_default();
    eprintln!("schemathesis summary:{summary}");
    assert!(
        stdout.contains("Tested: 11"),
        "every operation but the event stream: {stdout}"
    );
}
