//! The Redis example (examples/redis_sync.rs) against a real Redis server:
//! it syncs, Redis stops and the runs fail with a clear error while the
//! program goes on, Redis starts again and the next run succeeds.
//!
//! The test runs its own `redis-server` (the machine's binary) on a free
//! port, so stopping it disturbs nothing else. Without `redis-server` it is
//! skipped, loudly, unless `SCHEDULER_TEST_REDIS` is set (CI sets it), then
//! it fails.

use std::process::{Child, Command, Stdio};

use tests::net::{free_port, wait_listening, Lines};

fn redis_server(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    wait_listening(&format!("127.0.0.1:{port}"), "redis-server", 20);
    child
}

fn stop(mut child: Child) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a pid");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let _ = child.wait();
}

fn inventory(port: u16) -> usize {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("client");
    let mut conn = client.get_connection().expect("connects");
    let n: usize = redis::cmd("HLEN")
        .arg("inventory")
        .query(&mut conn)
        .expect("HLEN");
    n
}

#[test]
fn syncs_fails_clearly_while_redis_is_down_and_recovers() {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("SCHEDULER_TEST_REDIS").is_none(),
            "SCHEDULER_TEST_REDIS is set but redis-server is not installed"
        );
        eprintln!(
            "SKIPPED: redis-server is not installed (CI installs it and sets SCHEDULER_TEST_REDIS)"
        );
        return;
    }
    let port = free_port();
    let redis = redis_server(port);
    let mut app = Command::new(env!("CARGO_BIN_EXE_redis_sync"))
        .env("REDIS_URL", format!("redis://127.0.0.1:{port}/"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let mut lines = Lines::new(app.stdout.take().expect("stdout"));
    let first = lines.wait_for("synced 20 items to redis", 0);
    assert_eq!(inventory(port), 20);

    stop(redis);
    let failed = lines.wait_for("sync failed", first + 1);
    let error = lines.seen[failed].clone();
    assert!(
        error.contains("sync_to_redis") && error.contains(&format!("127.0.0.1:{port}")),
        "the error names the job and the server: {error}"
    );

    let redis = redis_server(port);
    lines.wait_for("synced 20 items to redis", failed + 1);
    assert_eq!(inventory(port), 20);

    let pid = rustix::process::Pid::from_raw(app.id() as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let status = app.wait().expect("exits");
    assert!(status.success(), "{status}");
    stop(redis);
}
