//! Attribute macros of the scheduler. Use them through `scheduler`
//! (`scheduler::scheduled`), which re-exports them.
//!
//! The crate is thin: [`attr`] parses the attribute, [`valid`] checks it with
//! the runtime's own trigger parser (so a bad cron string, zone or duration is
//! a compile error pointing at the literal), [`expand`] writes the code. On
//! error the user's function is still emitted, so IDEs keep working.

mod attr;
mod expand;
mod valid;

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
/// Options: `id`, `name`, `tz`, `start`, `end`, `jitter`, `misfire_grace_time`
/// (a duration or `"none"`), `coalesce`, `max_instances`, `executor`, `timeout`,
/// `retries`, `run_on_start`, `paused`, `crate = "path"`.
/// Parameters: `JobContext` and `Data<T>`. Returns `()` or `Result<(), E: Display>`.
#[proc_macro_attribute]
pub fn scheduled(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::scheduled(args.into(), item.into()).into()
}
