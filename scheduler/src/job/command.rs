//! A program to run as a job: a shell command or an argument vector, with its
//! environment and working directory. A process-pool executor runs it in a
//! process group of its own; a durable store keeps it like a registered job.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The registry name a command target is stored under. Not a Rust path, so
/// no `#[job]` function can take it.
pub(crate) const COMMAND_FUNCTION: &str = "@command";

/// A program a job runs: `sh -c SCRIPT` ([`CommandSpec::shell`]) or a
/// program with its arguments ([`CommandSpec::new`]), run with
/// [`crate::Target::command`] on a process-pool executor.
///
/// Each run starts the program in a new process group with stdin from
/// `/dev/null`; its stdout and stderr are passed to `tracing` line by line
/// (target `scheduler::process`, inside the run's span with the job and run
/// ids). Exit code 0 is a success; another code or a signal is a failure
/// that quotes the end of stderr. At the job's timeout, or at the shutdown
/// deadline, the whole group gets SIGTERM and, after the executor's grace,
/// SIGKILL: grandchildren included.
///
/// ```
/// use scheduler::CommandSpec;
/// let backup = CommandSpec::shell("pg_dump shop > /var/backups/shop.sql")
///     .env("PGHOST", "localhost")
///     .current_dir("/var/backups");
/// assert_eq!(backup.to_string(), "pg_dump shop > /var/backups/shop.sql");
///
/// let sync = CommandSpec::new("rsync").arg("-a").arg("src/").arg("dst/");
/// assert_eq!(sync.to_string(), "rsync -a src/ dst/");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    program: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cwd: Option<PathBuf>,
    /// Set by `shell`: the script, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    script: Option<String>,
    #[serde(default, skip_serializing_if = "Overlap::is_parallel")]
    overlap: Overlap,
}

/// What a process pool does with a run of a command whose previous run
/// still runs ([`CommandSpec::on_overlap`]). How many runs may exist at once
/// is the job's `max_instances`: with 1, the engine skips a fire time while
/// a run lasts, whatever this says; with 2, `Queue` keeps one waiting and
/// `Replace` lets the new run stop the old one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Runs side by side (up to `max_instances`).
    #[default]
    Parallel,
    /// A run waits for the running one of the same job to end.
    Queue,
    /// A run stops the running one of the same job (SIGTERM to its group,
    /// SIGKILL after the grace; it fails as cancelled), then starts.
    Replace,
}

impl Overlap {
    fn is_parallel(&self) -> bool {
        *self == Overlap::Parallel
    }
}

impl CommandSpec {
    /// `program` with no arguments, looked up in `PATH` unless it has a `/`.
    pub fn new(program: impl Into<String>) -> CommandSpec {
        CommandSpec {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            script: None,
            overlap: Overlap::Parallel,
        }
    }

    /// `script` run by `/bin/sh -c`.
    pub fn shell(script: impl Into<String>) -> CommandSpec {
        CommandSpec::shell_with("/bin/sh", script)
    }

    /// `script` run by another shell (`SHELL -c SCRIPT`), such as `/bin/bash`.
    pub fn shell_with(shell: impl Into<String>, script: impl Into<String>) -> CommandSpec {
        let script = script.into();
        CommandSpec {
            args: vec!["-c".to_owned(), script.clone()],
            script: Some(script),
            ..CommandSpec::new(shell)
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> CommandSpec {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> CommandSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets a variable in the program's environment (on top of the scheduler's).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> CommandSpec {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Runs the program in `dir` (default: the scheduler's working directory).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> CommandSpec {
        self.cwd = Some(dir.into());
        self
    }

    /// What to do when a run comes while the previous one still runs.
    ///
    /// ```
    /// use scheduler::{CommandSpec, Overlap, Target};
    /// // A sync that must not run twice at once, and must not lose a request.
    /// let sync = CommandSpec::shell("rsync -a src/ dst/").on_overlap(Overlap::Queue);
    /// let target = Target::command(sync);
    /// // Added with `.max_instances(2)`: one run, and one waiting.
    /// # let _ = target;
    /// ```
    pub fn on_overlap(mut self, overlap: Overlap) -> CommandSpec {
        self.overlap = overlap;
        self
    }

    /// Its overlap policy.
    pub fn overlap(&self) -> Overlap {
        self.overlap
    }

    /// The program (the shell, for [`CommandSpec::shell`]).
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Its arguments (`-c SCRIPT`, for [`CommandSpec::shell`]).
    pub fn arguments(&self) -> &[String] {
        &self.args
    }

    /// The variables set for it.
    pub fn environment(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// Its working directory, if set.
    pub fn working_dir(&self) -> Option<&std::path::Path> {
        self.cwd.as_deref()
    }

    /// What is wrong with it, if anything (an empty program, a NUL byte).
    pub(crate) fn problem(&self) -> Option<String> {
        if self.program.is_empty() {
            return Some("the command's program is empty".to_owned());
        }
        let nul = std::iter::once(&self.program)
            .chain(&self.args)
            .chain(self.env.keys())
            .chain(self.env.values())
            .any(|s| s.contains('\0'));
        if nul {
            return Some("the command contains a NUL byte".to_owned());
        }
        if let Some(bad) = self.env.keys().find(|k| k.is_empty() || k.contains('=')) {
            return Some(format!(
                "`{bad}` is not an environment variable name (empty, or with `=`)"
            ));
        }
        None
    }
}

impl fmt::Display for CommandSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(script) = &self.script {
            return f.write_str(script);
        }
        f.write_str(&self.program)?;
        for a in &self.args {
            if a.is_empty() || a.contains(char::is_whitespace) {
                write!(f, " {a:?}")?;
            } else {
                write!(f, " {a}")?;
            }
        }
        Ok(())
    }
}
