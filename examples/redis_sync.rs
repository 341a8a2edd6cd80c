//! The seed's other scenario: a long-running service that copies its data to
//! Redis on an interval, with a `#[scheduled]` job. When Redis is down, the
//! run fails with a clear error (logged and counted, the scheduler goes
//! on); the next run after Redis is back succeeds.
//!
//! Run: `cargo run -p examples --example redis_sync` (Redis at
//! `redis://127.0.0.1:6379/`, or `$REDIS_URL`). It writes the hash
//! `inventory` and the key `inventory:synced_at` every 2 s; stop Redis to
//! see the failed runs, start it to see them succeed again. SIGTERM or
//! Ctrl-C stops it after the running sync.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use scheduler::prelude::*;
use scheduler::FailureKind;

/// The application's data: stock per item.
struct Inventory(Mutex<BTreeMap<String, i64>>);

/// Where it is copied.
struct Redis {
    client: redis::Client,
    url: String,
}

/// Sells a little of everything every second (the application at work).
#[scheduled(interval = "1s")]
async fn sell(inventory: Data<Inventory>) {
    if let Ok(mut stock) = inventory.0.lock() {
        for (i, n) in stock.values_mut().enumerate() {
            *n -= (i % 3) as i64;
            if *n < 0 {
                *n += 100; // restocked
            }
        }
    }
}

/// Copies the inventory to Redis in one atomic pipeline.
#[scheduled(interval = "2s", run_on_start = true, max_instances = 1)]
async fn sync_to_redis(
    inventory: Data<Inventory>,
    redis: Data<Redis>,
    ctx: JobContext,
) -> Result<(), String> {
    let items: Vec<(String, i64)> = match inventory.0.lock() {
        Ok(stock) => stock.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        Err(_) => return Err("the inventory lock is poisoned".into()),
    };
    let mut conn = tokio::time::timeout(
        Duration::from_secs(2),
        redis.client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| format!("connecting to Redis at {}: no answer within 2 s", redis.url))?
    .map_err(|e| format!("connecting to Redis at {}: {e}", redis.url))?;
    let synced_at = chrono::Utc::now().to_rfc3339();
    let mut pipe = redis::pipe();
    pipe.atomic()
        .del("inventory")
        .ignore()
        .hset_multiple("inventory", &items)
        .ignore()
        .set("inventory:synced_at", &synced_at)
        .ignore();
    tokio::time::timeout(Duration::from_secs(2), pipe.query_async::<()>(&mut conn))
        .await
        .map_err(|_| format!("writing to Redis at {}: no answer within 2 s", redis.url))?
        .map_err(|e| format!("writing to Redis at {}: {e}", redis.url))?;
    println!(
        "synced {} items to redis (run {})",
        items.len(),
        ctx.run_id()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let client =
        redis::Client::open(url.as_str()).map_err(|e| format!("REDIS_URL `{url}`: {e}"))?;
    let stock = (1..=20).map(|i| (format!("item-{i:02}"), 100)).collect();
    println!("syncing the inventory to {url} every 2 s; Ctrl-C to stop");
    Scheduler::builder()
        .data(Inventory(Mutex::new(stock)))
        .data(Redis { client, url })
        .listener(EventMask::JOB_ERROR, |e| {
            if let Event::JobError {
                job_id,
                kind: FailureKind::Error,
                error,
                ..
            } = e
            {
                println!("sync failed ({job_id}): {error}");
            }
        })
        .listener(EventMask::SCHEDULER_SHUTDOWN, |_| {
            println!("scheduler shut down")
        })
        .run_blocking()?;
    Ok(())
}
