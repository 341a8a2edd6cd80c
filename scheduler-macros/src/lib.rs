//! Attribute macros of the scheduler. Use them through `scheduler`
//! (`scheduler::scheduled`), which re-exports them.
//!
//! The crate is thin: [`attr`] parses the attribute, [`valid`] checks it with
//! the runtime's own trigger parser (so a bad cron string, zone or duration is
//! a compile error pointing at the literal), [`expand`] writes the code. On
//! error the user's function is still emitted, so IDEs keep working.

mod attr;
mod entry;
mod expand;
mod job;
mod valid;
mod wrapper;

use proc_macro::TokenStream;

/// Declares a job that runs on a schedule; it is added when the scheduler starts.
///
/// ```ignore
/// #[scheduled(cron = "0 0 * * *", tz = "Europe/Berlin")]
/// async fn nightly_report(db: Data<PgPool>) -> anyhow::Result<()> { Ok(()) }
/// ```
///
/// Triggers (exactly one): `cron = "..."`, `fields(hour = "3", ...)`,
/// `interval = "30s"` (or `every`), `date = "RFC 3339"`, `at_start`.
/// Options: `id` (default: the registry key), `name` (the display name;
/// default: the function's), `key` (the registry key, stable across
/// refactorings; default: the function's path, `module::function`), `tz`,
/// `start`, `end`, `jitter`, `misfire_grace_time`
/// (a duration or `"none"`), `coalesce`, `max_instances`, `executor`, `timeout`,
/// `retries`, `run_on_start`, `paused`, `crate = "path"`.
/// Parameters: `JobContext` and `Data<T>`. Returns `()` or `Result<(), E: Display>`.
#[proc_macro_attribute]
pub fn scheduled(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::scheduled(args.into(), item.into()).into()
}

/// Declares a named job function, scheduled at run time with typed arguments:
/// `name::with(args)` builds its target, checked by the compiler and serialised
/// with serde (so stores can keep it).
///
/// ```ignore
/// #[job]
/// async fn cancel_order(order_id: u64, db: Data<PgPool>) -> anyhow::Result<()> { Ok(()) }
///
/// sched.add_job(cancel_order::with(order_id)).trigger(Trigger::after(thirty_minutes)).await?;
/// ```
///
/// Parameters other than `JobContext` and `Data<T>` are the job's arguments
/// and must implement `Serialize` and `Deserialize`. Options: `name = "..."`
/// (the display name of the jobs it runs; default: the function's),
/// `key = "..."` (the registry key a store keeps; default: the function's
/// path, `module::function`, so two functions of one name in different
/// modules do not collide; set it to keep stored jobs working when the
/// function moves), `crate = "..."`.
#[proc_macro_attribute]
pub fn job(args: TokenStream, item: TokenStream) -> TokenStream {
    job::job(args.into(), item.into()).into()
}

/// Marks the program's `main`: it first calls `scheduler::worker_main()`, so
/// the binary can serve as its own process-pool worker, and an `async fn
/// main` runs in an actix `System` (like `#[actix::main]`).
///
/// ```ignore
/// #[scheduler::main]
/// fn main() -> Result<(), scheduler::Error> {
///     Scheduler::builder()
///         .executor("cpu", Executor::process_pool(4))
///         .run_blocking()
/// }
/// ```
///
/// The function takes no parameters and no generics. Option: `crate = "..."`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::main(args.into(), item.into()).into()
}
