use scheduler::Scheduler;

#[scheduler::main]
async fn main() -> Result<(), scheduler::Error> {
    let sched = Scheduler::builder().without_registered_jobs().start()?;
    sched.shutdown(true).await
}
