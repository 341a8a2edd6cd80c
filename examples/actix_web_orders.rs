//! The seed's order scenario as a real actix-web app: an order is cancelled
//! unless it is paid within the payment window, and the pending
//! cancellations live in SQLite, so they survive a restart.
//!
//! Run: `cargo run -p examples --example actix_web_orders`, then
//!
//! ```text
//! curl -X POST localhost:8080/orders                 # {"id":1,"status":"pending",...}
//! curl -X POST localhost:8080/orders/1/pay           # paid: its cancellation is removed
//! curl localhost:8080/orders/1                       # {"id":1,"status":"paid"}
//! open http://localhost:8080/scheduler/              # the dashboard
//! ```
//!
//! Settings (environment):
//! - `ORDERS_ADDR`: where to listen (default `127.0.0.1:8080`);
//! - `ORDERS_DIR`: the folder of `orders.db` and `jobs.db` (default: a
//!   folder in the system's temporary folder);
//! - `PAYMENT_WINDOW_SECS`: the payment window (default 1800, 30 minutes);
//! - `CANCEL_WORK_MS`: how long a cancellation takes (the refund call it
//!   stands for; default 200);
//! - `SCHEDULER_TOKEN`: a bearer token that may pause, run or remove jobs
//!   on the dashboard (without it the dashboard is read-only).
//!
//! SIGTERM or Ctrl-C stops the server and lets running cancellations finish
//! before the process exits (`scheduler::web::serve`).

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use scheduler::prelude::*;
use scheduler::SqliteStore;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// The cancellation of one order: a named job, stored with its argument.
#[job]
async fn cancel_order(order_id: u64, db: Data<SqlitePool>) -> Result<(), sqlx::Error> {
    println!("cancelling order {order_id}");
    let work = std::env::var("CANCEL_WORK_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    actix_rt::time::sleep(Duration::from_millis(work)).await;
    // Only a pending order: one paid meanwhile stays paid.
    let done =
        sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = ? AND status = 'pending'")
            .bind(order_id as i64)
            .execute(&*db)
            .await?;
    if done.rows_affected() == 1 {
        println!("order {order_id} cancelled: not paid in time");
    } else {
        println!("order {order_id} was paid meanwhile: nothing to cancel");
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Order {
    id: i64,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancel_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn window() -> Duration {
    let secs = std::env::var("PAYMENT_WINDOW_SECS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .unwrap_or(1800.0);
    Duration::from_secs_f64(secs)
}

fn internal(e: impl std::fmt::Display) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(e.to_string())
}

/// `POST /orders`: a new pending order, cancelled unless paid in time.
async fn place(
    db: web::Data<SqlitePool>,
    sched: web::Data<Scheduler>,
) -> actix_web::Result<HttpResponse> {
    let id: i64 = sqlx::query_scalar("INSERT INTO orders (status) VALUES ('pending') RETURNING id")
        .fetch_one(&**db)
        .await
        .map_err(internal)?;
    let order_id = u64::try_from(id).map_err(internal)?;
    sched
        .add_job(cancel_order::with(order_id))
        .id(format!("cancel-{order_id}"))
        .trigger(Trigger::after(window()))
        // Cancel even if the app was down at the time.
        .misfire_grace_time(None)
        .await?;
    let job = sched.get_job(&format!("cancel-{order_id}")).await?;
    Ok(HttpResponse::Created().json(Order {
        id,
        status: "pending".into(),
        cancel_at: job.and_then(|j| j.next_run_time()),
    }))
}

/// `POST /orders/{id}/pay`: paid in time; its cancellation is removed.
async fn pay(
    id: web::Path<i64>,
    db: web::Data<SqlitePool>,
    sched: web::Data<Scheduler>,
) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let paid = sqlx::query("UPDATE orders SET status = 'paid' WHERE id = ? AND status = 'pending'")
        .bind(id)
        .execute(&**db)
        .await
        .map_err(internal)?;
    if paid.rows_affected() == 0 {
        return status(db, id).await.map(|mut r| {
            *r.status_mut() = actix_web::http::StatusCode::CONFLICT;
            r
        });
    }
    match sched.remove_job(&format!("cancel-{id}")).await {
        // Already running: it finds the order paid and leaves it.
        Ok(()) | Err(_) => {}
    }
    status(db, id).await
}

/// `GET /orders/{id}`.
async fn get(id: web::Path<i64>, db: web::Data<SqlitePool>) -> actix_web::Result<HttpResponse> {
    status(db, id.into_inner()).await
}

async fn status(db: web::Data<SqlitePool>, id: i64) -> actix_web::Result<HttpResponse> {
    let row: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = ?")
        .bind(id)
        .fetch_optional(&**db)
        .await
        .map_err(internal)?;
    Ok(match row {
        Some(status) => HttpResponse::Ok().json(Order {
            id,
            status,
            cancel_at: None,
        }),
        None => {
            HttpResponse::NotFound().json(serde_json::json!({"error": "no such order", "id": id}))
        }
    })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let dir = std::env::var_os("ORDERS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("scheduler-actix-web-orders"));
    std::fs::create_dir_all(&dir)?;
    let addr = std::env::var("ORDERS_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());

    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(dir.join("orders.db"))
            .create_if_missing(true),
    )
    .await
    .map_err(std::io::Error::other)?;
    sqlx::query("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT, status TEXT NOT NULL)")
        .execute(&pool)
        .await
        .map_err(std::io::Error::other)?;
    let db = web::Data::new(pool);

    let sched = Scheduler::builder()
        .store(SqliteStore::open(dir.join("jobs.db")))
        .web_data(db.clone()) // the handlers' pool is the jobs' Data<SqlitePool>
        .listener(EventMask::SCHEDULER_SHUTDOWN, |_| {
            println!("scheduler shut down")
        })
        .start()
        .map_err(std::io::Error::other)?;

    let token = std::env::var("SCHEDULER_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let shared = web::Data::new(sched.clone());
    let server = HttpServer::new(move || {
        let mut dashboard = scheduler::web::scope("/scheduler");
        if let Some(t) = &token {
            dashboard = dashboard.bearer_token(t.clone());
        }
        App::new()
            .app_data(shared.clone())
            .app_data(db.clone())
            .route("/orders", web::post().to(place))
            .route("/orders/{id}", web::get().to(get))
            .route("/orders/{id}/pay", web::post().to(pay))
            .service(dashboard)
    })
    .disable_signals() // `serve` answers SIGTERM / SIGINT and drains the scheduler
    .workers(2)
    .bind(&addr)?
    .run();
    let pending = sched.job_count().await.map_err(std::io::Error::other)?;
    println!(
        "listening on http://{addr}; dashboard at http://{addr}/scheduler/; {pending} pending cancellation(s) in {}",
        dir.display()
    );
    scheduler::web::serve(server, sched).await
}
