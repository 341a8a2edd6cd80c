//! The job model: what users describe ([`JobSpec`], [`JobChanges`],
//! [`JobOptions`], [`Retry`], [`Target`]) and get back ([`Job`]), what a
//! running job sees ([`JobContext`], [`Data`]), the registry of job
//! functions and the static jobs of `#[scheduled]`, and the job table.
//!
//! Knows no engine, executor or store: uses only `error` / `event` /
//! `clock` and the triggers.

pub(crate) mod command;
pub(crate) mod context;
pub(crate) mod data;
pub(crate) mod options;
pub(crate) mod query;
pub(crate) mod registry;
pub(crate) mod snapshot;
pub(crate) mod spec;
pub(crate) mod static_jobs;
pub(crate) mod table;
pub(crate) mod target;

pub use command::{CommandSpec, Overlap};
pub use context::{FromJobContext, IntoJobResult, JobContext, JobError, JobResult};
pub use data::Data;
pub use options::{JobOptions, Retry};
pub use query::{JobPage, JobQuery};
pub use registry::{DataRequirement, JobDescriptor, JobFn, StaticSchedule, StaticTrigger};
pub use snapshot::Job;
pub use spec::{JobChanges, JobSpec};
pub use target::Target;
