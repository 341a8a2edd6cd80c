use scheduler::prelude::*;

struct Db;

#[scheduled(cron = "0 0 * * *", tz = "Europe/Berlin")]
async fn nightly(_db: Data<Db>) -> Result<(), std::io::Error> {
    Ok(())
}

#[scheduled(fields(day_of_week = "mon-fri", hour = "9-17", minute = "*/15"), jitter = "30s")]
fn business_hours() {}

#[scheduled(every = "1h30m", start = "2026-01-01T00:00:00Z", end = "2027-01-01T00:00:00Z", coalesce = false)]
async fn sync(ctx: JobContext) {
    let _ = ctx.job_id();
}

#[scheduled(date = "2026-12-31T23:00:00Z", misfire_grace_time = "none", retries = 3, timeout = "5m")]
async fn new_year() {}

#[scheduled(at_start, executor = "default", run_on_start, paused = false)]
fn warm_up() {}

fn main() {}
