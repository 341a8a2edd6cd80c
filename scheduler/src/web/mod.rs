//! (feature `web`) The scheduler inside an actix-web application.
//!
//! - **Part of the app.** Start the scheduler in the app's actix `System`
//!   ([`crate::SchedulerBuilder::start`]) and share it as
//!   `web::Data<Scheduler>`. Shared state is registered once:
//!   [`crate::SchedulerBuilder::web_data`] takes the app's `web::Data<T>`
//!   and jobs get it as their `Data<T>`, the same `Arc`.
//!   [`crate::Error`] is a `ResponseError` (404 for an unknown job, 409 for a
//!   duplicate id, 400 for bad input, 503 for a scheduler that is down).
//! - **Stopped with the server.** [`serve`] runs the server and, on SIGTERM /
//!   SIGINT or `ServerHandle::stop`, drains the scheduler as
//!   `shutdown_with_deadline` does before `main` returns: running jobs finish.
//! - **A scope to mount**, [`scope`]`("/scheduler")`: a JSON REST API
//!   (described by [`openapi`], served at `openapi.json`), server-sent
//!   events, an HTML dashboard and Prometheus metrics. Read-only unless the
//!   app says who may write ([`SchedulerScope::bearer_token`],
//!   [`SchedulerScope::write_guard`], [`SchedulerScope::allow_writes`]);
//!   writes also need the [`CSRF_HEADER`] header.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use scheduler::prelude::*;
//!
//! #[actix_rt::main] // or #[actix_web::main] with actix-web's `macros` feature
//! async fn main() -> std::io::Result<()> {
//!     let cache = web::Data::new(std::sync::Mutex::new(Vec::<String>::new()));
//!     let sched = Scheduler::builder()
//!         .web_data(cache.clone())
//!         .start()
//!         .map_err(std::io::Error::other)?;
//!     let shared = web::Data::new(sched.clone());
//!     let server = HttpServer::new(move || {
//!         App::new()
//!             .app_data(shared.clone())
//!             .app_data(cache.clone())
//!             .service(scheduler::web::scope("/scheduler").bearer_token("s3cret"))
//!     })
//!     .disable_signals()
//!     .bind(("127.0.0.1", 8080))?
//!     .run();
//!     scheduler::web::serve(server, sched).await
//! }
//! ```
//!
//! The rooms: `serve` (server and scheduler together), `data`, `error`
//! (HTTP statuses), `scope` (the routes), `access` (who may write, CSRF),
//! `api` + `dto` (the REST API), `openapi`, `sse`, `dashboard` (+ `assets/`),
//! `metrics`. What they show comes from the handle and from the monitor
//! (`crate::monitor`), a listener the builder installs before start.

mod access;
mod api;
mod dashboard;
mod data;
mod dto;
mod error;
mod metrics;
mod openapi;
mod scope;
mod serve;
mod sse;

pub use crate::monitor::{Outcome, RunView};
pub use access::CSRF_HEADER;
pub use dto::{
    JobDetail, JobPageView, JobState, JobView, JobsParams, Preview, PreviewRequest, RunStarted,
    RunsParams,
};
pub use error::ApiError;
pub use openapi::openapi;
pub use scope::{scope, SchedulerScope};
pub use serve::{serve, serve_with_deadline, DEFAULT_DRAIN_DEADLINE};
