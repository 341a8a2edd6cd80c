//! Messages to the `SchedulerActor`, each next to its handler.

use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::actor::SchedulerActor;
use crate::error::Error;
use crate::event::{EventMask, Listener};
use crate::executor::tick::{DrainFinished, RunReleased};
use crate::job::{Job, JobChanges};
use crate::trigger::Trigger;

macro_rules! handler {
    ($msg:ty, $result:ty, |$act:ident, $m:ident, $ctx:ident| $body:expr) => {
        impl Handler<$msg> for SchedulerActor {
            type Result = $result;
            #[allow(unused_variables, clippy::unit_arg)]
            fn handle(&mut self, $m: $msg, $ctx: &mut Context<Self>) -> $result {
                let $act = self;
                let result = $body;
                $act.flush();
                if $act.is_stopped() {
                    $ctx.stop();
                }
                result
            }
        }
    };
}

/// Sent once by the builder when the handle exists: the actor starts its
/// work (static jobs, timer) only then, so a job can reach its scheduler.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Begin;
handler!(Begin, (), |act, m, ctx| act.begin(ctx));

/// Inserts jobs the handle admitted.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct CommitJobs(
    pub(crate) Vec<crate::actor::admission::Admitted>,
    pub(crate) u32,
);
handler!(CommitJobs, (), |act, m, ctx| {
    act.commit(m.0, ctx);
    act.admission.give_back(m.1);
});

#[derive(Message)]
#[rtype(result = "Result<Job, Error>")]
pub(crate) struct ModifyJob(pub(crate) String, pub(crate) JobChanges);
handler!(ModifyJob, Result<Job, Error>, |act, m, ctx| act.modify(&m.0, m.1, ctx));

#[derive(Message)]
#[rtype(result = "Result<Job, Error>")]
pub(crate) struct RescheduleJob(pub(crate) String, pub(crate) Trigger);
handler!(RescheduleJob, Result<Job, Error>, |act, m, ctx| act.reschedule(&m.0, m.1, ctx));

#[derive(Message)]
#[rtype(result = "Result<Job, Error>")]
pub(crate) struct PauseJob(pub(crate) String);
handler!(PauseJob, Result<Job, Error>, |act, m, ctx| act.pause_job(&m.0));

#[derive(Message)]
#[rtype(result = "Result<Option<Job>, Error>")]
pub(crate) struct ResumeJob(pub(crate) String);
handler!(ResumeJob, Result<Option<Job>, Error>, |act, m, ctx| act
    .resume_job(&m.0, ctx));

#[derive(Message)]
#[rtype(result = "Result<(), Error>")]
pub(crate) struct RemoveJob(pub(crate) String);
handler!(RemoveJob, Result<(), Error>, |act, m, ctx| act.remove_job(&m.0, ctx));

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct RemoveAllJobs;
handler!(RemoveAllJobs, (), |act, m, ctx| act.remove_all(ctx));

#[derive(Message)]
#[rtype(result = "Option<Job>")]
pub(crate) struct GetJob(pub(crate) String);
handler!(GetJob, Option<Job>, |act, m, ctx| act
    .slot_of(&m.0)
    .ok()
    .and_then(|s| act.job(s)));

#[derive(Message)]
#[rtype(result = "Vec<Job>")]
pub(crate) struct ListJobs;
handler!(ListJobs, Vec<Job>, |act, m, ctx| act.jobs());

#[derive(Message)]
#[rtype(result = "Result<crate::job::JobPage, Error>")]
pub(crate) struct ListJobsPage(pub(crate) crate::job::JobQuery);
handler!(ListJobsPage, Result<crate::job::JobPage, Error>, |act, m, ctx| Ok(act.jobs_page(&m.0)));

#[derive(Message)]
#[rtype(result = "usize")]
pub(crate) struct CountJobs;
handler!(CountJobs, usize, |act, m, ctx| act.len());

#[derive(Message)]
#[rtype(result = "Result<u64, Error>")]
pub(crate) struct RunNow(pub(crate) String);
handler!(RunNow, Result<u64, Error>, |act, m, ctx| act.run_now(&m.0));

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct SetPaused(pub(crate) bool);
handler!(SetPaused, (), |act, m, ctx| act.set_paused(m.0, ctx));

#[derive(Message)]
#[rtype(result = "Result<(), Error>")]
pub(crate) struct RestartExecutorNamed(pub(crate) String);
handler!(RestartExecutorNamed, Result<(), Error>, |act, m, ctx| act
    .restart_executor(&m.0));

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Wakeup;
handler!(Wakeup, (), |act, m, ctx| {
    act.wake(ctx);
    act.durable_acquire(ctx);
});

/// A handle changed the durable store: the events to emit, and whether
/// something may be due now.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct StoreChanged {
    pub(crate) events: Vec<crate::event::Event>,
    pub(crate) acquire: bool,
}
handler!(StoreChanged, (), |act, m, ctx| {
    act.durable_forget(&m.events, ctx);
    for e in m.events {
        act.emit(e);
    }
    if m.acquire {
        act.durable_changed(ctx);
    }
});

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Shutdown {
    pub(crate) wait: bool,
    pub(crate) deadline: Option<Duration>,
    pub(crate) done: oneshot::Sender<()>,
}
handler!(Shutdown, (), |act, m, ctx| act
    .shutdown(m.wait, m.deadline, m.done, ctx));

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct AddListener(pub(crate) EventMask, pub(crate) Listener);
handler!(AddListener, (), |act, m, ctx| act.add_listener(m.0, m.1));

handler!(DrainFinished, (), |act, m, ctx| act.drain_finished(ctx));
handler!(RunReleased, (), |act, m, ctx| act.run_released(m.run_id));
