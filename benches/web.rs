//! The web feature under load, over real HTTP on loopback (issue 11):
//!
//! - `jobs-api`: `GET api/jobs?limit=50` and the dashboard page with 100 000
//!   jobs (memory store), p50 / p99 over 300 requests on one keep-alive
//!   connection;
//! - `metrics`: a scrape of `metrics` with 10 000 jobs that have each run once;
//! - `sse`: 5 000 jobs every second for 8 s (10 000 job events/s), the
//!   runs' lateness without and with 10 SSE clients reading every event,
//!   rounds alternated, and how many events each client read; then a burst
//!   (50 000 runs due at once) with and without the clients.
//!
//! `cargo bench -p benches --bench web` (all), or `-- jobs-api|metrics|sse`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use chrono::Utc;
use scheduler::{JobSpec, Scheduler, Target, Trigger};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A scheduler and an HTTP server with the scope, on a thread of their own.
struct Served {
    addr: String,
    sched: Scheduler,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn serve() -> Res<Served> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let sys = actix_rt::System::new();
        sys.block_on(async move {
            let sched = match Scheduler::builder()
                .without_registered_jobs()
                .event_capacity(1 << 16)
                .start()
            {
                Ok(s) => s,
                Err(e) => return drop(tx.send(Err(e.to_string()))),
            };
            let shared = web::Data::new(sched.clone());
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(shared.clone())
                    .service(scheduler::web::scope("/scheduler"))
            })
            .disable_signals()
            .workers(1)
            .bind(("127.0.0.1", 0));
            let server = match server {
                Ok(s) => s,
                Err(e) => return drop(tx.send(Err(e.to_string()))),
            };
            let addr = server.addrs()[0].to_string();
            let server = server.run();
            let _ = tx.send(Ok((addr, sched.clone(), server.handle())));
            let _ = server.await;
            let _ = sched.shutdown(false).await;
        });
    });
    let (addr, sched, server) = rx.recv()?.map_err(|e| e.to_string())?;
    Ok(Served {
        addr,
        sched,
        server,
        thread: Some(thread),
    })
}

impl Served {
    fn stop(mut self) {
        let server = self.server.clone();
        let _ = self.sched.blocking().shutdown(false);
        drop(
            std::thread::spawn(move || {
                let rt = actix_rt::System::new();
                rt.block_on(server.stop(false));
            })
            .join(),
        );
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    host: String,
}

impl Client {
    fn connect(addr: &str) -> Res<Client> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(s),
            host: addr.to_owned(),
        })
    }

    /// GETs `path`; returns the status and the body's length.
    fn get(&mut self, path: &str) -> Res<(u16, usize)> {
        write!(
            self.reader.get_mut(),
            "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.host
        )?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("no status")?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse()?;
                }
            }
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body)?;
        Ok((status, len))
    }
}

/// How often `needle` occurs in `hay` (each occurrence counted once even
/// when the carried tail is searched again: the tail, 10 bytes, is shorter
/// than the needle).
fn count(hay: &[u8], needle: &[u8]) -> u64 {
    hay.windows(needle.len()).filter(|w| *w == needle).count() as u64
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn latency(client: &mut Client, name: &str, path: &str, n: usize) -> Res {
    let mut ms = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        let (status, len) = client.get(path)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        if status != 200 {
            return Err(format!("{path}: status {status}").into());
        }
        bytes = len;
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<34} n {n:>4}  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({bytes} bytes)",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        percentile(&ms, 1.0)
    );
    Ok(())
}

fn add_jobs(sched: &Scheduler, n: usize, trigger: Trigger, target: &Target) -> Res {
    for chunk in (0..n).collect::<Vec<_>>().chunks(50_000) {
        let specs = chunk
            .iter()
            .map(|i| {
                JobSpec::new(target.clone())
                    .id(format!("job-{i}"))
                    .name(format!("sync shard {i}"))
                    .trigger(trigger.clone())
                    .misfire_grace_time(None)
            })
            .collect();
        sched.blocking().add_jobs(specs)?;
    }
    Ok(())
}

fn jobs_api() -> Res {
    let s = serve()?;
    let every = Trigger::interval(Duration::from_secs(3600))?;
    add_jobs(
        &s.sched,
        100_000,
        every,
        &Target::from_async(|_ctx| async {}),
    )?;
    let mut c = Client::connect(&s.addr)?;
    for _ in 0..20 {
        c.get("/scheduler/api/jobs?limit=50")?;
    }
    latency(
        &mut c,
        "jobs API, 100k jobs, page of 50",
        "/scheduler/api/jobs?limit=50",
        300,
    )?;
    latency(
        &mut c,
        "jobs API, 100k jobs, page 1000",
        "/scheduler/api/jobs?limit=50&offset=50000",
        300,
    )?;
    latency(
        &mut c,
        "jobs API, 100k jobs, search",
        "/scheduler/api/jobs?limit=50&q=shard%20999",
        300,
    )?;
    latency(&mut c, "dashboard page, 100k jobs", "/scheduler/", 300)?;
    s.stop();
    Ok(())
}

fn metrics() -> Res {
    let s = serve()?;
    let done = Arc::new(AtomicU64::new(0));
    let d = done.clone();
    let target = Target::from_async(move |_ctx| {
        d.fetch_add(1, Ordering::Relaxed);
        async {}
    });
    let at = Utc::now() + chrono::TimeDelta::seconds(1);
    add_jobs(&s.sched, 10_000, Trigger::at(at), &target)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.load(Ordering::Relaxed) < 10_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    // 10 000 jobs in the scheduler as well as 10 000 runs counted.
    let every = Trigger::interval(Duration::from_secs(3600))?;
    let idle = Target::from_async(|_ctx| async {});
    let specs = (0..10_000)
        .map(|i| {
            JobSpec::new(idle.clone())
                .id(format!("idle-{i}"))
                .trigger(every.clone())
        })
        .collect();
    s.sched.blocking().add_jobs(specs)?;
    let mut c = Client::connect(&s.addr)?;
    latency(
        &mut c,
        "metrics scrape, 10k jobs, 10k runs",
        "/scheduler/metrics",
        300,
    )?;
    s.stop();
    Ok(())
}

/// 10 SSE clients, each counting the job events it reads; joined at the end.
fn sse_clients(addr: &str, clients: usize) -> Res<Vec<std::thread::JoinHandle<u64>>> {
    let mut readers = Vec::new();
    for _ in 0..clients {
        let mut stream = TcpStream::connect(addr)?;
        write!(
            stream,
            "GET /scheduler/events HTTP/1.1\r\nHost: {addr}\r\n\r\n"
        )?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        readers.push(std::thread::spawn(move || {
            // Bulk reads and a byte search: a client as light as a browser
            // on another machine would be, not a line parser competing
            // with the server for these 2 cores.
            let mut stream = stream;
            let mut buf = vec![0u8; 1 << 16];
            let mut carry: Vec<u8> = Vec::new();
            let mut events = 0u64;
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                carry.extend_from_slice(&buf[..n]);
                events += count(&carry, b"event: job_");
                if count(&carry, b"event: lagged") > 0 {
                    println!("  a client lagged");
                }
                let keep = carry.len().saturating_sub(10);
                carry.drain(..keep);
            }
            events
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    Ok(readers)
}

/// Steady load: 5 000 jobs every second for 8 s (10 000 job events/s:
/// submitted and executed); the runs' lateness p50 / p99 in ms, and the
/// job events each client read.
fn steady_round(clients: usize) -> Res<(f64, f64, Vec<u64>)> {
    let (jobs, secs) = (5_000usize, 8i64);
    let s = serve()?;
    let lateness = Arc::new(Mutex::new(Vec::with_capacity(jobs * secs as usize)));
    let l = lateness.clone();
    let target = Target::from_async(move |ctx: scheduler::JobContext| {
        let late = (Utc::now() - ctx.scheduled_at())
            .num_microseconds()
            .unwrap_or(0);
        if let Ok(mut v) = l.lock() {
            v.push(late as f64 / 1e3);
        }
        std::future::ready(())
    });
    let readers = sse_clients(&s.addr, clients)?;
    let now = Utc::now();
    let start = now + chrono::TimeDelta::seconds(2)
        - chrono::TimeDelta::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
    let every = scheduler::trigger::IntervalTrigger::builder(Duration::from_secs(1))
        .start(start)
        .end(start + chrono::TimeDelta::seconds(secs - 1))
        .build()?;
    add_jobs(&s.sched, jobs, every.into(), &target)?;
    let end = start + chrono::TimeDelta::seconds(secs + 1);
    std::thread::sleep((end - Utc::now()).to_std().unwrap_or_default());
    s.stop();
    let mut per_client = Vec::new();
    for r in readers {
        per_client.push(r.join().map_err(|_| "reader panicked")?);
    }
    let mut v = lateness.lock().map_err(|_| "poisoned")?.clone();
    v.sort_by(f64::total_cmp);
    if v.len() < jobs * secs as usize {
        println!("  only {} of {} runs", v.len(), jobs * secs as usize);
    }
    Ok((percentile(&v, 0.5), percentile(&v, 0.99), per_client))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn sse() -> Res {
    let (mut p50s, mut p99s) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for round in 0..3 {
        let (a50, a99, _) = steady_round(0)?;
        let (b50, b99, seen) = steady_round(10)?;
        let least = seen.iter().min().copied().unwrap_or(0);
        println!(
            "round {round}: 10k job events/s; lateness without clients p50 {a50:.2} ms p99 {a99:.2} ms; \
             with 10 SSE clients p50 {b50:.2} ms p99 {b99:.2} ms; fewest job events a client read {least}"
        );
        p50s.0.push(a50);
        p50s.1.push(b50);
        p99s.0.push(a99);
        p99s.1.push(b99);
    }
    println!(
        "sse steady: lateness median of rounds without clients p50 {:.2} / p99 {:.2} ms, with 10 clients p50 {:.2} / p99 {:.2} ms",
        median(p50s.0),
        median(p99s.0),
        median(p50s.1),
        median(p99s.1)
    );
    // A burst far beyond 10k events/s: throughput with and without clients.
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        without.push(burst_round(0)?);
        with.push(burst_round(10)?);
    }
    let (a, b) = (median(without), median(with));
    println!("sse burst: 50 000 runs due at once, dispatch median without {a:.0} jobs/s, with 10 clients {b:.0} jobs/s, ratio {:.2}", b / a);
    Ok(())
}

/// 50 000 jobs due at one instant: jobs per second.
fn burst_round(clients: usize) -> Res<f64> {
    let n = 50_000usize;
    let s = serve()?;
    let done = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(Mutex::new(None::<Instant>));
    let (d, f) = (done.clone(), finished.clone());
    let target = Target::from_async(move |_ctx| {
        if d.fetch_add(1, Ordering::Relaxed) + 1 == n as u64 {
            if let Ok(mut t) = f.lock() {
                *t = Some(Instant::now());
            }
        }
        std::future::ready(())
    });
    let readers = sse_clients(&s.addr, clients)?;
    let at = Utc::now() + chrono::TimeDelta::seconds(3);
    add_jobs(&s.sched, n, Trigger::at(at), &target)?;
    let due = Instant::now() + (at - Utc::now()).to_std().unwrap_or_default();
    let deadline = due + Duration::from_secs(60);
    while done.load(Ordering::Relaxed) < n as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let end = finished
        .lock()
        .ok()
        .and_then(|t| *t)
        .ok_or("the runs did not finish")?;
    s.stop();
    for r in readers {
        let _ = r.join();
    }
    Ok(n as f64 / end.saturating_duration_since(due).as_secs_f64())
}

fn main() -> Res {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let all = which.is_empty();
    let wants = |s: &str| all || which.iter().any(|w| w == s);
    if wants("jobs-api") {
        jobs_api()?;
    }
    if wants("metrics") {
        metrics()?;
    }
    if wants("sse") {
        sse()?;
    }
    Ok(())
}
