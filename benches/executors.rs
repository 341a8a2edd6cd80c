//! Overhead per run of each executor kind, for a no-op registered job: the
//! async pool, a thread pool of 2 and a process pool of 2 (spawn, hand-over,
//! reap), measured side by side in one run.
//!
//! Run: `cargo bench -p benches --bench executors`. This binary is its own
//! process-pool worker (`#[scheduler::main]`).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use scheduler::{Event, EventMask, Executor, JobSpec, Scheduler};

type Res = Result<(), Box<dyn std::error::Error>>;

/// Does nothing, wherever it runs.
#[scheduler::job]
fn noop() {}

/// A scheduler whose `default` executor is `executor`; its runs' ends arrive on the channel.
fn start(
    executor: Executor,
) -> Result<(Scheduler, mpsc::Receiver<bool>), Box<dyn std::error::Error>> {
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .executor("default", executor)
        .start_background()?;
    let (tx, rx) = mpsc::channel();
    sched
        .blocking()
        .add_listener(EventMask::JOB_EXECUTED | EventMask::JOB_ERROR, move |e| {
            let _ = tx.send(matches!(e, Event::JobExecuted { .. }));
        })?;
    Ok((sched, rx))
}

fn wait(rx: &mpsc::Receiver<bool>, n: usize) -> Res {
    for _ in 0..n {
        if !rx.recv_timeout(Duration::from_secs(30))? {
            return Err("a run failed".into());
        }
    }
    Ok(())
}

/// Median latency of one run at a time: from `add_job` to its `JobExecuted`.
fn latency(executor: Executor, runs: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let (sched, rx) = start(executor)?;
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        sched
            .blocking()
            .add_job(noop::with())
            .id(format!("one-{i}"))
            .send_blocking()?;
        wait(&rx, 1)?;
        times.push(t.elapsed());
    }
    sched.blocking().shutdown(true)?;
    times.sort();
    Ok(times[times.len() / 2])
}

/// Wall time per run with `runs` runs due at once, as many in parallel as
/// the executor allows.
fn per_run(executor: Executor, runs: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let (sched, rx) = start(executor)?;
    let specs = (0..runs)
        .map(|i| JobSpec::new(noop::with()).id(format!("many-{i}")))
        .collect();
    let t = Instant::now();
    sched.blocking().add_jobs(specs)?;
    wait(&rx, runs)?;
    let elapsed = t.elapsed();
    sched.blocking().shutdown(true)?;
    Ok(elapsed / u32::try_from(runs)?)
}

/// An executor kind: its name, how to make one, and how many runs at once.
type Kind = (&'static str, fn() -> Executor, usize);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[scheduler::main]
fn main() -> Res {
    const ROUNDS: usize = 5;
    let kinds: [Kind; 3] = [
        ("async pool", Executor::async_pool, 2000),
        ("thread pool (2)", || Executor::thread_pool(2), 2000),
        ("process pool (2)", || Executor::process_pool(2), 200),
    ];
    println!(
        "{:<18} {:>22} {:>26}",
        "executor", "latency, one at a time", "wall time per run, n at once"
    );
    let mut rows: Vec<(Vec<Duration>, Vec<Duration>)> = vec![(Vec::new(), Vec::new()); 3];
    // Rounds alternate the kinds, so each sees the same machine.
    for _ in 0..ROUNDS {
        for (i, (_, make, many)) in kinds.iter().enumerate() {
            rows[i].0.push(latency(make(), 50)?);
            rows[i].1.push(per_run(make(), *many)?);
        }
    }
    for ((name, _, many), (lat, per)) in kinds.iter().zip(rows) {
        println!(
            "{name:<18} {:>19.3} ms {:>17.3} ms (n={many})",
            median(lat).as_secs_f64() * 1e3,
            median(per).as_secs_f64() * 1e3,
        );
    }
    println!("(medians of {ROUNDS} rounds; latency: median of 50 runs per round)");
    Ok(())
}
