//! Job functions for the process-pool tests: registered in the test binaries
//! (so `add_job` finds them) and in the `process_worker` binary that runs them.
//! Each misbehaves in its own way. The file is a module of two crates, so
//! each job has a `key` of its own (the default, the module path, starts
//! with the crate's name).

#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::time::Duration;

use scheduler::{job, Data, JobContext};

/// Succeeds.
#[job(key = "proc_ok")]
pub fn proc_ok() {}

/// Returns an error with `message`.
#[job(key = "proc_error")]
pub fn proc_error(message: String) -> Result<(), String> {
    Err(message)
}

/// Panics with `message`.
#[job(key = "proc_panic")]
pub fn proc_panic(message: String) {
    panic!("{message}");
}

/// Aborts the process.
#[job(key = "proc_abort")]
pub fn proc_abort() {
    eprintln!("about to abort");
    std::process::abort();
}

/// Dies of SIGSEGV, as a segmentation fault does. (Rust's own SIGSEGV
/// handler lets the first one pass, as it is no stack overflow, and restores
/// the default action; the second one kills.)
#[job(key = "proc_segv")]
pub fn proc_segv() {
    let me = rustix::process::getpid();
    for _ in 0..10 {
        let _ = rustix::process::kill_process(me, rustix::process::Signal::SEGV);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Dies of SIGKILL, as a process the OOM killer picked does.
#[job(key = "proc_killed")]
pub fn proc_killed() {
    let me = rustix::process::getpid();
    let _ = rustix::process::kill_process(me, rustix::process::Signal::KILL);
    std::thread::sleep(Duration::from_secs(5));
}

/// Writes a line to stderr, then exits with `code` (no result).
#[job(key = "proc_exit")]
pub fn proc_exit(code: i32) {
    eprintln!("giving up with code {code}");
    std::process::exit(code);
}

/// Writes `megabytes` of text to stdout, in lines of 1 KiB and one long line.
#[job(key = "proc_spam")]
pub fn proc_spam(megabytes: usize) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    let line = "x".repeat(1023);
    for _ in 0..megabytes * 1024 {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    out.write_all(&vec![b'y'; 100_000])
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Prints a line on each stream.
#[job(key = "proc_say")]
pub fn proc_say(text: String) {
    println!("stdout says {text}");
    eprintln!("stderr says {text}");
}

/// Writes its pid to `path`, then sleeps `ms` ignoring cancellation.
#[job(key = "proc_sleep")]
pub fn proc_sleep(path: String, ms: u64) {
    let _ = std::fs::write(&path, std::process::id().to_string());
    std::thread::sleep(Duration::from_millis(ms));
}

/// Writes its pid to `path`, then waits until cancelled (SIGTERM) and
/// returns an error saying so.
#[job(key = "proc_cooperative")]
pub async fn proc_cooperative(path: String, ctx: JobContext) -> Result<(), String> {
    let _ = std::fs::write(&path, std::process::id().to_string());
    ctx.cancelled().await;
    Err("stopped when asked".into())
}

/// Appends its pid to `path`; the first attempt crashes, the next succeeds.
#[job(key = "proc_flaky")]
pub fn proc_flaky(path: String, ctx: JobContext) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = writeln!(f, "{}", std::process::id());
    }
    if ctx.attempt() == 1 {
        std::process::exit(9);
    }
}

/// Holds a place in `dir` for `ms`; fails if more than `limit` were held at once.
#[job(key = "proc_exclusive")]
pub fn proc_exclusive(dir: String, limit: usize, ms: u64) -> Result<(), String> {
    let mine = format!("{dir}/{}", std::process::id());
    std::fs::write(&mine, b"").map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(ms));
    let held = std::fs::read_dir(&dir).map_err(|e| e.to_string())?.count();
    let _ = std::fs::remove_file(&mine);
    if held > limit {
        return Err(format!("{held} runs at once, more than {limit}"));
    }
    Ok(())
}

/// Needs data, which a worker does not have.
#[job(key = "proc_needs_data")]
pub fn proc_needs_data(_config: Data<String>) {}

/// Starts a child that outlives this worker and holds its stdout and stderr.
#[job(key = "proc_leaves_a_child")]
pub fn proc_leaves_a_child() -> Result<(), String> {
    std::process::Command::new("sleep")
        .arg("20")
        .spawn()
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Writes its process group to `path`.
#[job(key = "proc_pgid")]
pub fn proc_pgid(path: String) -> Result<(), String> {
    let pgid = rustix::process::getpgrp().as_raw_nonzero().get();
    std::fs::write(path, pgid.to_string()).map_err(|e| e.to_string())
}

/// Fails with what `ctx.scheduler()` says in a worker.
#[job(key = "proc_asks_scheduler")]
pub fn proc_asks_scheduler(ctx: JobContext) -> Result<(), String> {
    match ctx.scheduler() {
        Ok(_) => Err("a worker has a scheduler handle".into()),
        Err(e) => Err(format!("{:?}: {e}", e.kind())),
    }
}

/// `worker_main` leaves the environment alone, and a child of the job that
/// inherits it (this very binary) runs its own `main`, not a worker's.
#[job(key = "proc_child_is_no_worker")]
pub fn proc_child_is_no_worker() -> Result<(), String> {
    if std::env::var_os("SCHEDULER_PROCESS_WORKER").is_none() {
        return Err("the worker's environment was changed".into());
    }
    let out = std::process::Command::new("/proc/self/exe")
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(1) && stderr.contains("usage: process_worker") {
        Ok(())
    } else {
        Err(format!("the child ran as {:?}: {stderr}", out.status))
    }
}
