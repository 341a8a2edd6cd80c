//! Two job functions registered under one name: the scheduler refuses to
//! start and names both.

use std::sync::Arc;

use scheduler::__private::{inventory, BoxFuture};
use scheduler::{ErrorKind, JobContext, JobDescriptor, JobFn, JobResult, Scheduler};

fn first(_ctx: JobContext, _args: Arc<serde_json::Value>) -> BoxFuture<'static, JobResult> {
    Box::pin(async { Ok(()) })
}

fn second(_ctx: JobContext, _args: &serde_json::Value) -> JobResult {
    Ok(())
}

inventory::submit! { JobDescriptor::new("report", JobFn::Async(first)).path("billing::report") }
inventory::submit! { JobDescriptor::new("report", JobFn::Blocking(second)).path("inventory::report") }

#[test]
fn duplicate_names_are_an_error_at_start_naming_both_functions() {
    let err = Scheduler::builder()
        .start_background()
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::DuplicateRegistration);
    let text = err.to_string();
    assert!(
        text.contains("`report`")
            && text.contains("billing::report")
            && text.contains("inventory::report"),
        "{text}"
    );
}
