//! The web feature under load, over real HTTP on loopback (issue 11):
//!
//! - `jobs-api`: `GET api/jobs?limit=50` and the dashboard page with 100 000
//!   jobs (memory store), p50 / p99 over 300 requests on one keep-alive
//!   connection;
//! - `metrics`: a scrape of `metrics` with 10 000 jobs that have each run once;
//! - `sse`: dispatch throughput (50 000 one-shot jobs due at one instant,
//!   each run is 2 events plus the removal) without and with 10 SSE clients
//!   reading every event, rounds alternated; the events per second each
//!   client received.
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
            let sched = match Scheduler::builder().without_registered_jobs().event_capacity(1 << 16).start() {
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
        drop(std::thread::spawn(move || {
            let rt = actix_rt::System::new();
            rt.block_on(server.stop(false));
        })
        .join());
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
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
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
    add_jobs(&s.sched, 100_000, every, &Target::from_async(|_ctx| async {}))?;
    let mut c = Client::connect(&s.addr)?;
    for _ in 0..20 {
        c.get("/scheduler/api/jobs?limit=50")?;
    }
    latency(&mut c, "jobs API, 100k jobs, page of 50", "/scheduler/api/jobs?limit=50", 300)?;
    latency(&mut c, "jobs API, 100k jobs, page 1000", "/scheduler/api/jobs?limit=50&offset=50000", 300)?;
    latency(&mut c, "jobs API, 100k jobs, search", "/scheduler/api/jobs?limit=50&q=shard%20999", 300)?;
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
        .map(|i| JobSpec::new(idle.clone()).id(format!("idle-{i}")).trigger(every.clone()))
        .collect();
    s.sched.blocking().add_jobs(specs)?;
    let mut c = Client::connect(&s.addr)?;
    latency(&mut c, "metrics scrape, 10k jobs, 10k runs", "/scheduler/metrics", 300)?;
    s.stop();
    Ok(())
}

/// One round: 50 000 jobs due at one instant; jobs/s, and each SSE
/// client's events/s (none without clients).
fn sse_round(clients: usize) -> Res<(f64, Vec<f64>)> {
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
    let mut readers = Vec::new();
    let start = Arc::new(Mutex::new(None::<Instant>));
    for _ in 0..clients {
        let mut stream = TcpStream::connect(&s.addr)?;
        write!(stream, "GET /scheduler/events HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let start = start.clone();
        readers.push(std::thread::spawn(move || {
            let mut r = BufReader::new(stream);
            let mut line = String::new();
            let (mut events, mut first, mut last) = (0u64, None, None);
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if line.starts_with("event: job_") {
                    events += 1;
                    first.get_or_insert_with(Instant::now);
                    last = Some(Instant::now());
                }
                line.clear();
            }
            let _ = start;
            (events, first, last)
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let at = Utc::now() + chrono::TimeDelta::seconds(3);
    add_jobs(&s.sched, n, Trigger::at(at), &target)?;
    let due = Instant::now() + (at - Utc::now()).to_std().unwrap_or_default();
    let deadline = due + Duration::from_secs(60);
    while done.load(Ordering::Relaxed) < n as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let end = finished.lock().ok().and_then(|t| *t).ok_or("the runs did not finish")?;
    let rate = n as f64 / end.saturating_duration_since(due).as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    s.stop();
    let mut per_client = Vec::new();
    for r in readers {
        let (events, first, last) = r.join().map_err(|_| "reader panicked")?;
        if let (Some(a), Some(b)) = (first, last) {
            per_client.push(events as f64 / b.duration_since(a).as_secs_f64().max(1e-3));
        }
        if events < 3 * n as u64 {
            println!("  a client saw {events} job events (of at least {}): it lagged", 3 * n);
        }
    }
    Ok((rate, per_client))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn sse() -> Res {
    let (mut without, mut with, mut ev) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        let (a, _) = sse_round(0)?;
        let (b, per) = sse_round(10)?;
        let e = if per.is_empty() { 0.0 } else { median(per.clone()) };
        println!(
            "round {round}: dispatch without clients {a:>9.0} jobs/s, with 10 SSE clients {b:>9.0} jobs/s \
             ({:.2}); events/s per client (median) {e:.0}",
            b / a
        );
        without.push(a);
        with.push(b);
        ev.push(e);
    }
    let (a, b) = (median(without), median(with));
    println!(
        "sse: dispatch median without {a:.0} jobs/s, with 10 clients {b:.0} jobs/s, ratio {:.2}; events/s per client median {:.0}",
        b / a,
        median(ev)
    );
    Ok(())
}

fn main() -> Res {
    let which: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
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
