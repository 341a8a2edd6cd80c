//! Load benchmarks of the runtime, side by side with a baseline (one tokio task
//! with a binary heap and `sleep_until`, dispatching over a channel) and with
//! tokio-cron-scheduler.
//!
//! Run: `cargo bench -p benches --bench runtime` (all scenarios, each in a fresh
//! process), or `cargo bench -p benches --bench runtime -- SCENARIO`.
//! Scenarios: lateness-1, lateness-10k (interval triggers), lateness-10k-cron
//! (crontab `* * * * * *`, what most users write), dispatch, add, memory,
//! dispatch-pending.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use scheduler::{JobSpec, Scheduler, Target, Trigger};

type Res = Result<(), Box<dyn std::error::Error>>;

const SCENARIOS: &[&str] = &[
    "lateness-1",
    "lateness-10k",
    "lateness-10k-cron",
    "dispatch",
    "add",
    "memory",
    "dispatch-pending",
];

fn main() -> Res {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some(s) if SCENARIOS.contains(&s) => run(s),
        // For profiling: our side alone.
        Some("lateness-10k-ours") => {
            report("ours", lateness_ours(10_000, 10, Kind::Interval)?, 100_000);
            Ok(())
        }
        Some("lateness-10k-cron-ours") => {
            report("ours", lateness_ours(10_000, 10, Kind::Cron)?, 100_000);
            Ok(())
        }
        Some("dispatch-ours") => {
            println!("ours {:.0} jobs/s", ours_dispatch(100_000, 0)?);
            Ok(())
        }
        Some(other) => Err(format!("unknown scenario {other}; one of {SCENARIOS:?}").into()),
        None => {
            let exe = std::env::current_exe()?;
            for s in SCENARIOS {
                let status = std::process::Command::new(&exe).arg(s).status()?;
                if !status.success() {
                    return Err(format!("scenario {s} failed").into());
                }
            }
            Ok(())
        }
    }
}

fn run(scenario: &str) -> Res {
    println!("== {scenario}");
    match scenario {
        "lateness-1" => lateness(1, 10, 1, Kind::Interval),
        "lateness-10k" => lateness(10_000, 10, 3, Kind::Interval),
        "lateness-10k-cron" => lateness(10_000, 10, 3, Kind::Cron),
        "dispatch" => dispatch(),
        "add" => add(),
        "memory" => memory(),
        "dispatch-pending" => dispatch_pending(),
        _ => Ok(()),
    }
}

fn rt() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1e6
}

/// Prints the lateness figures; returns the p99 in ms.
fn report(name: &str, mut ns: Vec<i64>, expected: usize) -> f64 {
    ns.sort_unstable();
    println!(
        "{name:<24} runs {:>7}/{expected:<7} lateness p50 {:>9.3} ms  p99 {:>9.3} ms  max {:>9.3} ms",
        ns.len(),
        percentile(&ns, 0.5),
        percentile(&ns, 0.99),
        percentile(&ns, 1.0),
    );
    percentile(&ns, 0.99)
}

/// The next whole second, at least 2 s away.
fn next_second() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp() + 3, 0).unwrap_or(now)
}

// ===== lateness =====

/// The trigger every job of a lateness scenario has: fires every second.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `IntervalTrigger` of 1 s.
    Interval,
    /// The crontab string `* * * * * *`, each job parsing its own.
    Cron,
}

fn every_second(
    kind: Kind,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Trigger, Box<dyn std::error::Error>> {
    Ok(match kind {
        Kind::Interval => scheduler::trigger::IntervalTrigger::builder(Duration::from_secs(1))
            .start(Some(start))
            .end(Some(end))
            .build()?
            .into(),
        Kind::Cron => scheduler::trigger::CronTrigger::builder("* * * * * *")
            .start(Some(start))
            .end(Some(end))
            .build()?
            .into(),
    })
}

fn lateness_ours(
    jobs: usize,
    secs: u64,
    kind: Kind,
) -> Result<Vec<i64>, Box<dyn std::error::Error>> {
    let expected = jobs * secs as usize;
    {
        let samples = Arc::new(Mutex::new(Vec::with_capacity(expected)));
        let sched = Scheduler::builder()
            .without_registered_jobs()
            .start_background()?;
        let s = samples.clone();
        let target = Target::from_async(move |ctx: scheduler::JobContext| {
            let late = (Utc::now() - ctx.scheduled_at())
                .num_nanoseconds()
                .unwrap_or(i64::MAX);
            if let Ok(mut v) = s.lock() {
                v.push(late);
            }
            std::future::ready(())
        });
        let start = next_second();
        let end = start + chrono::TimeDelta::seconds(secs as i64 - 1);
        let specs: Vec<JobSpec> = (0..jobs)
            .map(|i| {
                every_second(kind, start, end)
                    .map(|t| JobSpec::new(target.clone()).id(format!("j{i}")).trigger(t))
            })
            .collect::<Result<_, _>>()?;
        sched.blocking().add_jobs(specs)?;
        std::thread::sleep(
            (end - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(1500),
        );
        sched.blocking().shutdown(false)?;
        let ns = samples.lock().map(|v| v.clone()).unwrap_or_default();
        Ok(ns)
    }
}

fn lateness(jobs: usize, secs: u64, rounds: usize, kind: Kind) -> Res {
    let expected = jobs * secs as usize;
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        if rounds > 1 {
            println!("round {round}");
        }
        let ours = report("ours", lateness_ours(jobs, secs, kind)?, expected);
        let base = report(
            "baseline (heap+channel)",
            lateness_baseline(jobs, secs)?,
            expected,
        );
        ratios.push(ours / base);
    }
    if rounds > 1 {
        println!(
            "p99 ours / baseline: median {:.2} of {rounds} rounds ({ratios:.2?})",
            median(ratios.clone())
        );
    }
    if kind == Kind::Cron {
        // tokio-cron-scheduler's figures are in the interval scenario.
        return Ok(());
    }
    lateness_tcs(jobs, secs)
}

fn lateness_baseline(jobs: usize, secs: u64) -> Result<Vec<i64>, Box<dyn std::error::Error>> {
    let expected = jobs * secs as usize;
    {
        let rt = rt()?;
        let ns = rt.block_on(async move {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
            let consumer = tokio::spawn(async move {
                let mut v = Vec::with_capacity(expected);
                while let Some(due) = rx.recv().await {
                    v.push(Instant::now().saturating_duration_since(due).as_nanos() as i64);
                }
                v
            });
            let first = Instant::now() + (next_second() - Utc::now()).to_std().unwrap_or_default();
            let mut heap: BinaryHeap<Reverse<(Instant, usize, u64)>> =
                (0..jobs).map(|i| Reverse((first, i, 0))).collect();
            while let Some(&Reverse((due, _, _))) = heap.peek() {
                tokio::time::sleep_until(due.into()).await;
                while let Some(&Reverse((d, id, n))) = heap.peek() {
                    if d > Instant::now() {
                        break;
                    }
                    heap.pop();
                    let _ = tx.send(d);
                    if n + 1 < secs {
                        heap.push(Reverse((d + Duration::from_secs(1), id, n + 1)));
                    }
                }
            }
            drop(tx);
            consumer.await.unwrap_or_default()
        });
        Ok(ns)
    }
}

fn lateness_tcs(jobs: usize, secs: u64) -> Res {
    let expected = jobs * secs as usize;
    {
        let rt = rt()?;
        let ns = rt.block_on(async move {
            let samples = Arc::new(Mutex::new(Vec::with_capacity(expected)));
            let sched = tokio_cron_scheduler::JobScheduler::new().await?;
            for _ in 0..jobs {
                let s = samples.clone();
                let job = tokio_cron_scheduler::Job::new_async("* * * * * *", move |_id, _l| {
                    let late = i64::from(Utc::now().timestamp_subsec_nanos());
                    if let Ok(mut v) = s.lock() {
                        v.push(late);
                    }
                    Box::pin(async {})
                })?;
                sched.add(job).await?;
            }
            sched.start().await?;
            tokio::time::sleep(Duration::from_secs(secs)).await;
            let ns = samples.lock().map(|v| v.clone()).unwrap_or_default();
            Ok::<_, Box<dyn std::error::Error>>(ns)
        })?;
        report("tokio-cron-scheduler", ns, expected);
    }
    Ok(())
}

// ===== dispatch throughput =====

/// Runs `n` no-op one-shot jobs due at one instant with `pending` more far in the
/// future; returns jobs per second from the due instant to the last run.
fn ours_dispatch(n: usize, pending: usize) -> Result<f64, Box<dyn std::error::Error>> {
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .start_background()?;
    let done = Arc::new(AtomicU64::new(0));
    let finished_at = Arc::new(Mutex::new(None::<Instant>));
    let (d, f) = (done.clone(), finished_at.clone());
    let target = Target::from_async(move |_ctx| {
        if d.fetch_add(1, Ordering::Relaxed) + 1 == n as u64 {
            if let Ok(mut t) = f.lock() {
                *t = Some(Instant::now());
            }
        }
        std::future::ready(())
    });
    let far = Utc::now() + chrono::TimeDelta::days(365);
    let idle = Target::from_async(|_ctx| async {});
    for chunk in (0..pending).collect::<Vec<_>>().chunks(100_000) {
        let specs = chunk
            .iter()
            .map(|i| {
                JobSpec::new(idle.clone())
                    .id(format!("p{i}"))
                    .trigger(Trigger::at(far))
            })
            .collect();
        sched.blocking().add_jobs(specs)?;
    }
    let at = Utc::now() + chrono::TimeDelta::seconds(3);
    let specs = (0..n)
        .map(|i| {
            JobSpec::new(target.clone())
                .id(format!("d{i}"))
                .trigger(Trigger::at(at))
                .misfire_grace_time(None)
        })
        .collect();
    sched.blocking().add_jobs(specs)?;
    let due = Instant::now() + (at - Utc::now()).to_std().unwrap_or_default();
    let deadline = due + Duration::from_secs(60);
    while done.load(Ordering::Relaxed) < n as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let end = finished_at.lock().ok().and_then(|t| *t);
    sched.blocking().shutdown(false)?;
    Ok(end.map_or(0.0, |e| {
        n as f64 / e.saturating_duration_since(due).as_secs_f64()
    }))
}

fn baseline_dispatch(n: usize) -> Result<f64, Box<dyn std::error::Error>> {
    let rt = rt()?;
    Ok(rt.block_on(async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
        let consumer = tokio::spawn(async move {
            let mut count = 0;
            while rx.recv().await.is_some() {
                count += 1;
                if count == n {
                    return Some(Instant::now());
                }
            }
            None
        });
        let due = Instant::now() + Duration::from_millis(500);
        let mut heap: BinaryHeap<Reverse<(Instant, usize)>> =
            (0..n).map(|i| Reverse((due, i))).collect();
        tokio::time::sleep_until(due.into()).await;
        while let Some(Reverse((_, id))) = heap.pop() {
            let _ = tx.send(id);
        }
        let end = consumer.await.ok().flatten();
        end.map_or(0.0, |e| {
            n as f64 / e.saturating_duration_since(due).as_secs_f64()
        })
    }))
}

fn tcs_dispatch(n: usize) -> Result<(f64, u64), Box<dyn std::error::Error>> {
    let rt = rt()?;
    rt.block_on(async move {
        let sched = tokio_cron_scheduler::JobScheduler::new().await?;
        let done = Arc::new(AtomicU64::new(0));
        let due = Instant::now() + Duration::from_secs(20);
        for _ in 0..n {
            let d = done.clone();
            let job =
                tokio_cron_scheduler::Job::new_one_shot_at_instant_async(due, move |_id, _l| {
                    d.fetch_add(1, Ordering::Relaxed);
                    Box::pin(async {})
                })?;
            sched.add(job).await?;
        }
        sched.start().await?;
        tokio::time::sleep_until((due + Duration::from_secs(10)).into()).await;
        let ran = done.load(Ordering::Relaxed);
        Ok::<_, Box<dyn std::error::Error>>((ran as f64 / 10.0, ran))
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Rounds of each side, alternating, so both see the same machine.
const ROUNDS: usize = 5;

fn dispatch() -> Res {
    let n = 100_000;
    let (mut base, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let b = baseline_dispatch(n)?;
        let o = ours_dispatch(n, 0)?;
        base.push(b);
        ours.push(o);
        ratios.push(o / b);
    }
    let (base, ours, ratio) = (median(base), median(ours), median(ratios));
    println!("baseline (heap+channel)  {base:>12.0} jobs/s  (median of {ROUNDS})");
    println!("ours                     {ours:>12.0} jobs/s  (median of {ROUNDS}; median ratio {ratio:.2} of baseline)");
    match tcs_dispatch(n) {
        Ok((_, ran)) => {
            println!("tokio-cron-scheduler     ran {ran} of {n} within 10 s of the due instant")
        }
        Err(e) => println!("tokio-cron-scheduler     failed: {e}"),
    }
    Ok(())
}

fn dispatch_pending() -> Res {
    let n = 100_000;
    let (mut small, mut large) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        small.push(ours_dispatch(n, 1_000)?);
        large.push(ours_dispatch(n, 1_000_000)?);
    }
    let (small, large) = (median(small), median(large));
    println!("ours, 1 000 pending      {small:>12.0} jobs/s  (median of 3)");
    println!("ours, 1 000 000 pending  {large:>12.0} jobs/s  (median of 3; {:.2} of the rate with 1 000)", large / small);
    Ok(())
}

// ===== add throughput =====

fn add() -> Res {
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .start_background()?;
    let rt = rt()?;
    let far = Utc::now() + chrono::TimeDelta::days(365);
    let target = Target::from_async(|_ctx| async {});
    let n = 200_000;
    let (t, s) = (target.clone(), sched.clone());
    let elapsed = rt.block_on(async move {
        let start = Instant::now();
        for i in 0..n {
            s.add_job(t.clone())
                .id(format!("one-{i}"))
                .trigger(Trigger::at(far))
                .await?;
        }
        Ok::<_, scheduler::Error>(start.elapsed())
    })?;
    println!(
        "add_job one by one, one task: {n} jobs in {:.3} s = {:>9.0} jobs/s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    let m = 1_000_000;
    let build = Instant::now();
    let specs: Vec<JobSpec> = (0..m)
        .map(|i| {
            JobSpec::new(target.clone())
                .id(format!("batch-{i}"))
                .trigger(Trigger::at(far))
        })
        .collect();
    let built = build.elapsed();
    let start = Instant::now();
    sched.blocking().add_jobs(specs)?;
    let held = sched.blocking().job_count()?;
    let added = start.elapsed();
    assert_eq!(held, n + m);
    println!(
        "add_jobs batch of {m}: {:.3} s (+ {:.3} s building the specs) = {:>9.0} jobs/s",
        added.as_secs_f64(),
        built.as_secs_f64(),
        m as f64 / added.as_secs_f64()
    );
    sched.blocking().shutdown(false)?;
    Ok(())
}

// ===== memory and idle CPU =====

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit(')').next()?.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn memory() -> Res {
    let n = 1_000_000;
    let sched = Scheduler::builder()
        .without_registered_jobs()
        .start_background()?;
    let target = Target::from_async(|_ctx| async {});
    let far = Utc::now() + chrono::TimeDelta::days(365);
    std::thread::sleep(Duration::from_millis(200));
    let before = status_kb("VmRSS:");
    // Jobs are sent in batches of 10 000 so the specs in flight stay small.
    for chunk in 0..n / 10_000 {
        let specs = (chunk * 10_000..(chunk + 1) * 10_000)
            .map(|i| {
                JobSpec::new(target.clone())
                    .id(format!("order-{i}"))
                    .trigger(Trigger::at(far + chrono::TimeDelta::seconds(i as i64)))
            })
            .collect();
        sched.blocking().add_jobs(specs)?;
    }
    // Until the scheduler holds them all.
    assert_eq!(sched.blocking().job_count()?, n);
    let after = status_kb("VmRSS:");
    let peak = status_kb("VmHWM:");
    println!(
        "{n} pending one-shot jobs: RSS +{} MiB, {:.0} bytes/job (RSS delta); peak RSS {} MiB, {:.0} bytes/job (peak - start)",
        (after - before) / 1024,
        (after - before) as f64 * 1024.0 / n as f64,
        peak / 1024,
        (peak - before) as f64 * 1024.0 / n as f64
    );
    let hz = 100.0; // USER_HZ on Linux
    let t0 = cpu_ticks();
    std::thread::sleep(Duration::from_secs(5));
    let used = (cpu_ticks() - t0) as f64 / hz;
    println!(
        "idle with {n} pending: {:.3} s CPU in 5 s = {:.2} % of one core",
        used,
        used / 5.0 * 100.0
    );
    sched.blocking().shutdown(false)?;
    Ok(())
}
