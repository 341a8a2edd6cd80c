//! What a job runs: a registered function with serialised arguments, or a closure.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::Serialize;

use crate::context::{IntoJobResult, JobContext, JobResult};
use crate::error::{Error, ErrorKind};
use crate::registry::JobFn;

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
#[derive(Clone)]
pub struct Target {
    pub(crate) inner: Inner,
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
            })),
        })
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
