//! `jobs.toml`: the daemon's jobs, read with positions so that every
//! problem is reported at its line and column (`scheduler check`).
//!
//! ```toml
//! [defaults]                 # optional: any job key but the command and trigger
//! tz = "Europe/Berlin"
//!
//! [daemon]                   # optional
//! max_parallel = 32          # commands running at once
//! grace = "30s"              # SIGTERM drain: how long running commands get
//!
//! [jobs.backup]
//! command = "pg_dump shop > /var/backups/shop.sql"   # or argv = ["pg_dump", "shop"]
//! cron = "0 3 * * *"                                 # or interval, fields, date
//! timeout = "1h"
//! retries = 2
//! catch_up = "once"
//! ```

mod diagnostic;
mod fields;
mod job;

use std::time::Duration;

use toml::de::DeTable;

pub(crate) use diagnostic::Diagnostic;
use diagnostic::Source;
use fields::Fields;
use job::Policies;
pub(crate) use job::{CatchUp, JobConfig, Overlap};

/// A whole config file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Config {
    /// In the order of the file.
    pub(crate) jobs: Vec<JobConfig>,
    pub(crate) daemon: DaemonConfig,
}

/// The `[daemon]` table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DaemonConfig {
    /// Commands running at once (the process pool's size).
    pub(crate) max_parallel: usize,
    /// At SIGTERM: how long running commands get before they are stopped.
    pub(crate) grace: Duration,
    /// How long the run history is kept.
    pub(crate) history: Duration,
}

impl Default for DaemonConfig {
    fn default() -> DaemonConfig {
        DaemonConfig {
            max_parallel: 64,
            grace: Duration::from_secs(30),
            history: Duration::from_secs(30 * 86_400),
        }
    }
}

const TOP_KEYS: &[&str] = &["defaults", "daemon", "jobs"];
const DAEMON_KEYS: &[&str] = &["max_parallel", "grace", "history"];

/// Reads the config file at `path`.
pub(crate) fn load(path: &std::path::Path) -> Result<Config, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic {
            file: file.clone(),
            line: 1,
            column: 1,
            message: format!("cannot read the file: {e}"),
        }]
    })?;
    parse(&file, &text)
}

/// Reads a config from `text` (`file` names it in diagnostics).
pub(crate) fn parse(file: &str, text: &str) -> Result<Config, Vec<Diagnostic>> {
    let src = Source::new(file, text);
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        return Err(syntax
            .iter()
            .map(|e| {
                let at = e.span().map_or(0, |s| s.start);
                src.at(at, format!("invalid TOML: {}", e.message().trim()))
            })
            .collect());
    }
    let mut errors = Vec::new();
    let doc = doc.get_ref();
    let mut top = Fields::new(&src, doc, "the file", TOP_KEYS);
    let defaults = top.table("defaults").map(|(t, _)| t);
    let daemon_table = top.table("daemon").map(|(t, _)| t);
    let jobs_table = top.table("jobs");
    let jobs_key = top.key_span("jobs");
    errors.extend(top.into_errors());
    let daemon = match daemon_table {
        Some(t) => daemon_config(&src, t, &mut errors),
        None => DaemonConfig::default(),
    };
    let defaults = match defaults {
        Some(t) => {
            let mut f = Fields::new(&src, t, "[defaults]", job::POLICY_KEYS);
            let p = Policies::read(&mut f);
            errors.extend(f.into_errors());
            p
        }
        None => Policies::default(),
    };
    let mut jobs = Vec::new();
    let mut triggers = job::Triggers::new();
    match jobs_table {
        Some((table, _)) => {
            let mut entries: Vec<_> = table.iter().collect();
            entries.sort_by_key(|(k, _)| k.span().start);
            for (key, value) in entries {
                let id: &str = key.get_ref();
                let Some(job) = value.get_ref().as_table() else {
                    errors.push(src.span(
                        &value.span(),
                        format!(
                            "`jobs.{id}` must be a table (`[jobs.{id}]` with its keys), not {}",
                            value.get_ref().type_str()
                        ),
                    ));
                    continue;
                };
                if let Some(j) = job::read(
                    &src,
                    id,
                    &key.span(),
                    job,
                    &defaults,
                    &mut errors,
                    &mut triggers,
                ) {
                    jobs.push(j);
                }
            }
        }
        None if jobs_key.is_none() => {
            errors.push(src.at(
                text.len(),
                "no jobs: add a `[jobs.NAME]` table with a `command` and a trigger",
            ));
        }
        None => {}
    }
    if errors.is_empty() {
        Ok(Config { jobs, daemon })
    } else {
        errors.sort_by_key(|d| (d.line, d.column));
        Err(errors)
    }
}

fn daemon_config(
    src: &Source<'_>,
    table: &DeTable<'_>,
    errors: &mut Vec<Diagnostic>,
) -> DaemonConfig {
    let mut f = Fields::new(src, table, "[daemon]", DAEMON_KEYS);
    let mut d = DaemonConfig::default();
    if let Some(n) = f.uint("max_parallel", 1, 100_000) {
        d.max_parallel = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(g) = f.duration("grace") {
        d.grace = g;
    }
    if let Some(h) = f.duration("history") {
        d.history = h;
    }
    errors.extend(f.into_errors());
    d
}
