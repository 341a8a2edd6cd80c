//! What a job runs: a registered function with serialised arguments, or a closure.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::job::command::{CommandSpec, COMMAND_FUNCTION};
use crate::job::context::{IntoJobResult, JobContext, JobResult};
use crate::job::registry::JobFn;

// Thin (one-word) pointers: a job holds one, and a million jobs add up.
pub(crate) type AsyncFn =
    Arc<Box<dyn Fn(JobContext) -> BoxFuture<'static, JobResult> + Send + Sync>>;
pub(crate) type BlockingFn = Arc<Box<dyn Fn(JobContext) -> JobResult + Send + Sync>>;

/// What a job runs.
///
/// - [`Target::registered`]: a function registered with `#[job]` / `#[scheduled]`
///   (or by hand with a [`crate::JobDescriptor`]), found by name, with arguments
///   serialised as JSON. This is what persistent stores can keep.
/// - [`Target::from_async`] / [`Target::from_blocking`]: a closure, for jobs that
///   live in memory only.
///
/// ```
/// use scheduler::{JobContext, Target};
/// let t = Target::from_async(|ctx: JobContext| async move {
///     println!("running {}", ctx.job_id());
/// });
/// assert!(t.to_string().contains("async closure"));
/// ```
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(into = "Stored", try_from = "Stored")]
pub struct Target {
    pub(crate) inner: Inner,
}

/// A target as serde sees it: a registered function by name with its
/// arguments, or a closure, which can be written but not read back.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stored {
    Registered {
        function: String,
        args: serde_json::Value,
    },
    AsyncClosure,
    BlockingClosure,
}

impl From<Target> for Stored {
    fn from(t: Target) -> Stored {
        match t.inner {
            Inner::Registered(r) => Stored::Registered {
                function: r.name.to_string(),
                args: (*r.args).clone(),
            },
            Inner::Async(_) => Stored::AsyncClosure,
            Inner::Blocking(_) => Stored::BlockingClosure,
        }
    }
}

impl TryFrom<Stored> for Target {
    type Error = Error;
    fn try_from(s: Stored) -> Result<Target, Error> {
        match s {
            Stored::Registered { function, args } if function == COMMAND_FUNCTION => {
                let command = serde_json::from_value(args)
                    .map_err(|e| Error::new(ErrorKind::Args, format!("a stored command: {e}")))?;
                Ok(Target::command(command))
            }
            Stored::Registered { function, args } => Target::registered(function, args),
            Stored::AsyncClosure | Stored::BlockingClosure => Err(Error::new(
                ErrorKind::Unsupported,
                "a closure target cannot be read back: only registered job functions \
                 (`#[job]`, `#[scheduled]`) can be stored",
            )),
        }
    }
}

#[derive(Clone)]
pub(crate) enum Inner {
    /// Behind an `Arc`, so a target is two words wide.
    Registered(Arc<Registered>),
    Async(AsyncFn),
    Blocking(BlockingFn),
}

/// A registered function by name, with its arguments.
#[derive(Clone)]
pub(crate) struct Registered {
    pub(crate) name: Cow<'static, str>,
    pub(crate) args: Arc<serde_json::Value>,
    /// Resolved from the registry when the job is added.
    pub(crate) func: Option<JobFn>,
    /// The arguments could not be serialised: `add_job` reports this.
    pub(crate) invalid: Option<String>,
}

/// How the executor must call a target.
#[derive(Clone)]
pub(crate) enum Runnable {
    Async(AsyncFn),
    Blocking(BlockingFn),
    RegisteredAsync(
        fn(JobContext, Arc<serde_json::Value>) -> BoxFuture<'static, JobResult>,
        Arc<serde_json::Value>,
    ),
    RegisteredBlocking(
        fn(JobContext, &serde_json::Value) -> JobResult,
        Arc<serde_json::Value>,
    ),
    /// A registered function by name, for a worker process.
    Process(Arc<str>, Arc<serde_json::Value>),
}

impl Target {
    /// The registered job function `name`, called with `args` (serialised to JSON).
    pub fn registered(
        name: impl Into<Cow<'static, str>>,
        args: impl Serialize,
    ) -> Result<Target, Error> {
        let name = name.into();
        let args = serde_json::to_value(args).map_err(|e| {
            Error::new(
                ErrorKind::Args,
                format!("arguments of job function `{name}`: {e}"),
            )
        })?;
        Ok(Target {
            inner: Inner::Registered(Arc::new(Registered {
                name,
                args: Arc::new(args),
                func: None,
                invalid: None,
            })),
        })
    }

    /// Like [`Target::registered`], but a serialisation failure is reported
    /// when the job is added (`ErrorKind::Args`), not here. What the typed
    /// constructors generated by `#[job]` (`name::with(...)`) return.
    pub fn registered_deferred(name: &'static str, args: impl Serialize) -> Target {
        let (args, invalid) = match serde_json::to_value(args) {
            Ok(v) => (v, None),
            Err(e) => (
                serde_json::Value::Null,
                Some(format!("arguments of job function `{name}`: {e}")),
            ),
        };
        Target {
            inner: Inner::Registered(Arc::new(Registered {
                name: Cow::Borrowed(name),
                args: Arc::new(args),
                func: None,
                invalid,
            })),
        }
    }

    /// An async closure; its output is `()` or `Result<(), E: Display>`.
    pub fn from_async<F, Fut, R>(f: F) -> Target
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoJobResult + 'static,
    {
        Target {
            inner: Inner::Async(Arc::new(Box::new(move |ctx| {
                f(ctx).map(IntoJobResult::into_job_result).boxed()
            }))),
        }
    }

    /// A program run in its own process group on a process-pool executor
    /// (see [`CommandSpec`]); a durable store keeps it like a registered job.
    ///
    /// ```
    /// use scheduler::{CommandSpec, Target};
    /// let t = Target::command(CommandSpec::shell("echo hello"));
    /// assert_eq!(t.to_string(), "command(echo hello)");
    /// assert!(t.is_persistable());
    /// ```
    pub fn command(command: CommandSpec) -> Target {
        let (args, invalid) = match serde_json::to_value(&command) {
            Ok(v) => (v, command.problem()),
            Err(e) => (serde_json::Value::Null, Some(format!("the command: {e}"))),
        };
        Target {
            inner: Inner::Registered(Arc::new(Registered {
                name: Cow::Borrowed(COMMAND_FUNCTION),
                args: Arc::new(args),
                func: None,
                invalid,
            })),
        }
    }

    /// The command, if this target is one ([`Target::command`]).
    pub fn command_spec(&self) -> Option<CommandSpec> {
        match &self.inner {
            Inner::Registered(r) if r.name == COMMAND_FUNCTION => {
                CommandSpec::deserialize(&*r.args).ok()
            }
            _ => None,
        }
    }

    /// Whether this target is a command ([`Target::command`]).
    pub(crate) fn is_command(&self) -> bool {
        matches!(&self.inner, Inner::Registered(r) if r.name == COMMAND_FUNCTION)
    }

    /// A blocking closure, run on a thread (a thread-pool executor, or tokio's
    /// blocking pool when the job's executor is async).
    pub fn from_blocking<F, R>(f: F) -> Target
    where
        F: Fn(JobContext) -> R + Send + Sync + 'static,
        R: IntoJobResult,
    {
        Target {
            inner: Inner::Blocking(Arc::new(Box::new(move |ctx| f(ctx).into_job_result()))),
        }
    }

    /// The registered function's name, if this target is one.
    pub fn function_name(&self) -> Option<&str> {
        match &self.inner {
            Inner::Registered(r) => Some(&r.name),
            _ => None,
        }
    }

    /// The serialised arguments of a registered function.
    pub fn args(&self) -> Option<&serde_json::Value> {
        match &self.inner {
            Inner::Registered(r) => Some(&r.args),
            _ => None,
        }
    }

    /// Whether this target can be persisted (a registered function).
    pub fn is_persistable(&self) -> bool {
        matches!(self.inner, Inner::Registered(_))
    }

    /// How a process pool runs it: by name (only a registered function).
    pub(crate) fn process_runnable(&self) -> Option<Runnable> {
        match &self.inner {
            Inner::Registered(r) => Some(Runnable::Process(Arc::from(&*r.name), r.args.clone())),
            _ => None,
        }
    }

    pub(crate) fn runnable(&self) -> Option<Runnable> {
        Some(match &self.inner {
            Inner::Async(f) => Runnable::Async(f.clone()),
            Inner::Blocking(f) => Runnable::Blocking(f.clone()),
            Inner::Registered(r) => match r.func? {
                JobFn::Async(f) => Runnable::RegisteredAsync(f, r.args.clone()),
                JobFn::Blocking(f) => Runnable::RegisteredBlocking(f, r.args.clone()),
            },
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.command_spec() {
            return write!(f, "command({c})");
        }
        match &self.inner {
            Inner::Registered(r) if r.args.is_null() => write!(f, "{}()", r.name),
            Inner::Registered(r) => write!(f, "{}({})", r.name, r.args),
            Inner::Async(_) => f.write_str("<async closure>"),
            Inner::Blocking(_) => f.write_str("<blocking closure>"),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
