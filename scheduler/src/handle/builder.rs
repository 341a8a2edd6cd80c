//! `SchedulerBuilder`: executors, shared data, clock; and the three run modes.

use std::future::Future;
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::{broadcast, watch};

use std::sync::atomic::AtomicUsize;

use crate::actor::admission::Admission;
use crate::actor::durable::{Durable, DurableConfig};
use crate::actor::lifecycle::Lifecycle;
use crate::actor::messages::Begin;
use crate::actor::{ExecutorKind, ExecutorRef, SchedulerActor};
use crate::clock::{Clock, SharedClock, SystemClock};
use crate::error::{Error, ErrorKind};
use crate::event::{Event, EventMask, EventStream, Listener};
use crate::executor::async_pool::AsyncExecutor;
use crate::executor::control::{RestartExecutor, StopExecutor};
#[cfg(unix)]
use crate::executor::process::pool::ProcessExecutor;
use crate::executor::thread_pool::ThreadPoolExecutor;
use crate::executor::tick::RunEnv;
use crate::executor::Executor;
use crate::handle::scheduler::{Inner, Scheduler};
use crate::job::context::JobShared;
use crate::job::data::{Data, DataMap};
use crate::job::registry::Registry;
use crate::store::link::StoreLink;
use crate::store::{JobRecord, MemoryStore, Store};
use std::time::Duration;

/// Configures and starts a [`Scheduler`].
///
/// ```
/// use scheduler::{Executor, Scheduler};
///
/// let sched = Scheduler::builder()
///     .executor("blocking", Executor::thread_pool(4))
///     .data(String::from("shared state"))
///     .start_background()?;
/// sched.blocking().shutdown(true)?;
/// # Ok::<(), scheduler::Error>(())
/// ```
#[must_use]
pub struct SchedulerBuilder {
    executors: Vec<(Arc<str>, Executor)>,
    data: DataMap,
    clock: SharedClock,
    registered_jobs: bool,
    event_capacity: usize,
    stop_grace: Duration,
    /// Made by the first [`SchedulerBuilder::subscribe`], or at start.
    events: Option<broadcast::Sender<Event>>,
    subscribers: Arc<AtomicUsize>,
    listeners: Vec<(EventMask, Listener)>,
    store: Store,
    durable: DurableConfig,
}

impl Default for SchedulerBuilder {
    fn default() -> Self {
        SchedulerBuilder {
            executors: vec![(Arc::from("default"), Executor::async_pool())],
            data: DataMap::default(),
            clock: Arc::new(SystemClock),
            registered_jobs: true,
            event_capacity: 4096,
            stop_grace: crate::actor::CANCEL_GRACE,
            events: None,
            subscribers: Arc::default(),
            listeners: Vec::new(),
            store: Store::from(MemoryStore),
            durable: DurableConfig {
                node: Arc::from(default_node_id()),
                lease: Duration::from_secs(30),
                poll: Duration::from_secs(1),
                history: Some(Duration::from_secs(7 * 24 * 3600)),
                claim_ahead: None,
            },
        }
    }
}

impl SchedulerBuilder {
    /// Adds (or replaces) the executor `name`. `"default"` is an async pool unless replaced.
    pub fn executor(mut self, name: &str, executor: Executor) -> Self {
        self.executors.retain(|(n, _)| &**n != name);
        self.executors.push((Arc::from(name), executor));
        self
    }

    /// Registers shared state, handed to jobs as `Data<T>`.
    pub fn data<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.data.insert(Arc::new(value));
        self
    }

    /// Registers shared state that is already a `Data<T>`.
    pub fn app_data<T: Send + Sync + 'static>(mut self, value: Data<T>) -> Self {
        self.data.insert(value.into_inner());
        self
    }

    /// Where jobs are kept: [`MemoryStore`] (the default, nothing persisted)
    /// or a durable store such as [`crate::SqliteStore`], which jobs survive
    /// restarts in. With a durable store every job is a registered function
    /// (`#[job]`, `#[scheduled]`) with serialisable arguments: a closure is
    /// refused when added. Its schema is created or migrated at start.
    ///
    /// ```
    /// use scheduler::{MemoryStore, Scheduler};
    /// let sched = Scheduler::builder().store(MemoryStore).start_background()?;
    /// # sched.blocking().shutdown(true)?;
    /// # Ok::<(), scheduler::Error>(())
    /// ```
    pub fn store(mut self, store: impl Into<Store>) -> Self {
        self.store = store.into();
        self
    }

    /// This scheduler's name among those sharing a durable store: the
    /// holder of the runs it claims, in the run history (default: host name,
    /// process id and a random suffix; unique per start).
    pub fn node_id(mut self, id: impl Into<String>) -> Self {
        self.durable.node = Arc::from(id.into());
        self
    }

    /// How long a claimed run of a durable store is held before another
    /// node may take it over (default 30 s). Renewed every third of it while
    /// the run runs; a node that dies loses its runs this long after.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.durable.lease = lease.max(Duration::from_millis(300));
        self
    }

    /// The longest time between two looks at a durable store (default 1 s):
    /// what another process changes without telling this one is seen this
    /// late at most. Changes made through this scheduler are seen at once.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.durable.poll = every.max(Duration::from_millis(10));
        self
    }

    /// How far ahead of a fire time a durable store's runs are claimed, to
    /// start them on time (default 300 ms for a store with a clock of its
    /// own, PostgreSQL; none on SQLite). A job's last fire time is never
    /// claimed ahead; removing, pausing or rescheduling a job drops its runs
    /// claimed ahead (another change through this scheduler gives them back
    /// to the store, to be claimed again).
    ///
    /// The scheduler claims when the next fire time is half the window
    /// away, every fire time inside the window at once: with many jobs due
    /// close together (a thousand a second) this turns a store transaction
    /// per fire time into a few per second. A fire time looked at while its
    /// job already runs `max_instances` times waits rather than being
    /// skipped; it is skipped only if those runs still go when it is due.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use scheduler::{Scheduler, SqliteStore};
    /// let sched = Scheduler::builder()
    ///     .store(SqliteStore::open("jobs.db"))
    ///     .claim_ahead(Duration::from_millis(250))
    ///     .start_background()?;
    /// # Ok::<(), scheduler::Error>(())
    /// ```
    pub fn claim_ahead(mut self, ahead: Duration) -> Self {
        self.durable.claim_ahead = Some(ahead);
        self
    }

    /// How long finished runs stay in a durable store's run history
    /// (default 7 days; `None`: forever).
    pub fn run_history(mut self, keep: Option<Duration>) -> Self {
        self.durable.history = keep;
        self
    }

    /// Uses another clock (a [`crate::TestClock`] in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a stopped run gets before it is forced (default 1 s): between
    /// SIGTERM and SIGKILL for a process-pool run at its timeout or the
    /// shutdown deadline, and before a cancelled async run is dropped.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scheduler::{Executor, Scheduler};
    /// // Commands get SIGTERM at the deadline and 30 s more before SIGKILL.
    /// let builder = Scheduler::builder()
    ///     .executor("default", Executor::process_pool(8))
    ///     .stop_grace(Duration::from_secs(30));
    /// # let _ = builder;
    /// ```
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// Does not add the `#[scheduled]` jobs of this binary at start.
    pub fn without_registered_jobs(mut self) -> Self {
        self.registered_jobs = false;
        self
    }

    /// How many events a slow subscriber may fall behind (default 4096)
    /// before it is told how many it missed ([`Event::Lagged`]). Set it
    /// before [`SchedulerBuilder::subscribe`]: the streams share one channel,
    /// made by the first subscription.
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n.max(1);
        if self.events.as_ref().is_some_and(|e| e.receiver_count() > 0) {
            tracing::warn!(
                target: "scheduler::lifecycle",
                "event_capacity set after subscribe(): the streams taken already keep the capacity they were made with"
            );
        } else {
            self.events = None;
        }
        self
    }

    /// A stream of every event from the start on: nothing that happens when
    /// the scheduler starts (`SchedulerStarted`, the first runs of
    /// `at_start` jobs) is missed, as it can be by a stream taken from the
    /// handle after start.
    ///
    /// ```
    /// use scheduler::{Event, Scheduler};
    /// use tokio_stream::StreamExt;
    ///
    /// actix_rt::System::new().block_on(async {
    ///     let mut builder = Scheduler::builder();
    ///     let mut events = builder.subscribe();
    ///     let sched = builder.start()?;
    ///     assert_eq!(events.next().await, Some(Event::ExecutorAdded { executor: "default".into() }));
    ///     assert_eq!(events.next().await, Some(Event::SchedulerStarted));
    ///     sched.shutdown(true).await
    /// })?;
    /// # Ok::<(), scheduler::Error>(())
    /// ```
    pub fn subscribe(&mut self) -> EventStream {
        let capacity = self.event_capacity;
        let events = self
            .events
            .get_or_insert_with(|| broadcast::channel(capacity).0);
        EventStream::new(events.subscribe(), self.subscribers.clone())
    }

    /// Calls `listener` for each event in `mask` from the start on (see
    /// [`crate::Scheduler::add_listener`] for the contract: listeners run on
    /// the scheduler's thread and must be quick; a panicking one is removed).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use scheduler::{Event, EventMask, Scheduler};
    ///
    /// let started = Arc::new(AtomicBool::new(false));
    /// let seen = started.clone();
    /// let sched = Scheduler::builder()
    ///     .listener(EventMask::SCHEDULER_STARTED, move |_e: &Event| seen.store(true, Ordering::SeqCst))
    ///     .start_background()?;
    /// sched.blocking().shutdown(true)?;
    /// assert!(started.load(Ordering::SeqCst));
    /// # Ok::<(), scheduler::Error>(())
    /// ```
    pub fn listener(mut self, mask: EventMask, listener: impl Fn(&Event) + Send + 'static) -> Self {
        self.listeners.push((mask, Box::new(listener)));
        self
    }

    /// Starts the scheduler inside the running actix `System` (for example in an
    /// actix-web application), on an arbiter of its own. Errors: no `System`,
    /// duplicate registrations, a static job that is invalid or lacks its data.
    pub fn start(self) -> Result<Scheduler, Error> {
        if actix_rt::System::try_current().is_none() {
            return Err(Error::new(
                ErrorKind::Start,
                "no actix System is running on this thread; use start_background() or run_blocking()",
            ));
        }
        let registry = Arc::new(Registry::collect()?);
        let current_exe = self.check_process_pools()?;
        let now = self.clock.now();
        let data = Arc::new(self.data);
        let names: Vec<(Arc<str>, bool)> = self
            .executors
            .iter()
            .map(|(n, e)| (n.clone(), matches!(e, Executor::ProcessPool { .. })))
            .collect();
        let has_process_pool = names.iter().any(|(_, process)| *process);
        let admission = Arc::new(Admission::new(
            self.clock.clone(),
            registry.clone(),
            data.clone(),
            names,
        ));
        let static_specs = if self.registered_jobs {
            crate::job::static_jobs::specs(&registry, &data, now)?
        } else {
            Vec::new()
        };
        let static_count = static_specs.len();
        let (initial, durable) = match &self.store.durable {
            None => (admission.admit(static_specs)?, None),
            Some(store) => {
                let mut records = Vec::with_capacity(static_specs.len());
                for a in admission.check_all(static_specs)? {
                    let next = if a.run_on_start && a.next_run.is_some() {
                        Some(now)
                    } else {
                        a.next_run
                    };
                    let mut r =
                        JobRecord::of(&a.id, &a.trigger, &a.target, &a.opts, next, store.kind())?;
                    r.static_job = true;
                    records.push(r);
                }
                let link = Arc::new(StoreLink::start(store.clone()));
                (Vec::new(), Some((link, records)))
            }
        };
        let mut functions = registry.names();
        if has_process_pool {
            // A process pool runs commands itself: this node claims them.
            functions.push(crate::job::command::COMMAND_FUNCTION.to_owned());
        }
        let durable_cfg = self.durable.clone();
        let durable_actor = durable.as_ref().map(|(link, records)| {
            Durable::new(link.clone(), durable_cfg, functions, records.clone())
        });
        let capacity = self.event_capacity;
        let events = self
            .events
            .unwrap_or_else(|| broadcast::channel(capacity).0);
        let (stopped_tx, stopped_rx) = watch::channel(false);
        let job_shared = Arc::new(JobShared::new(data));
        let token = job_shared.shutdown.clone();
        let lifecycle: Arc<Lifecycle> = Arc::default();
        let arbiter = Arbiter::new();
        let clock = self.clock.clone();
        let stop_grace = self.stop_grace;
        let executors = self.executors;
        let admission_actor = admission.clone();
        let subscribers = self.subscribers;
        let subscribers_actor = subscribers.clone();
        let events_tx = events.clone();
        #[allow(unused_mut)]
        let mut listeners = self.listeners;
        #[cfg(feature = "web")]
        let monitor = crate::monitor::Monitor::new(self.clock.clone(), self.event_capacity);
        #[cfg(feature = "web")]
        {
            let m = monitor.clone();
            listeners.push((
                crate::monitor::Monitor::mask(),
                Box::new(move |e: &Event| m.record(e)),
            ));
        }
        let lifecycle_actor = lifecycle.clone();
        let job_shared_actor = job_shared.clone();
        let addr = SchedulerActor::start_in_arbiter(&arbiter.handle(), move |ctx| {
            let mut act = SchedulerActor::new(
                clock.clone(),
                events_tx,
                admission_actor,
                token.clone(),
                stopped_tx,
            );
            act.listeners = listeners;
            act.lifecycle = lifecycle_actor;
            let env = Arc::new(RunEnv {
                clock,
                job: job_shared_actor,
                grace: stop_grace,
                shutdown: token,
                finished: Arc::new(crate::executor::tick::FinishedSink::new(Some(
                    ctx.address().recipient(),
                ))),
                released: Some(ctx.address().recipient()),
                in_flight: Default::default(),
                draining: Default::default(),
            });
            for (name, executor) in executors {
                let (kind, dispatch, stop, restart) = match executor {
                    Executor::Async {
                        arbiters,
                        max_concurrency,
                    } => {
                        let a = AsyncExecutor::launch(arbiters, max_concurrency, env.clone());
                        let (d, s, r) = recipients(a);
                        (ExecutorKind::Async, d, s, r)
                    }
                    Executor::ThreadPool { threads } => {
                        let a = ThreadPoolExecutor::launch(threads, env.clone());
                        let (d, s, r) = recipients(a);
                        (ExecutorKind::Threads, d, s, r)
                    }
                    #[cfg(unix)]
                    Executor::ProcessPool { processes, program } => {
                        let program = program.unwrap_or_else(|| current_exe.clone());
                        let a = ProcessExecutor::launch(processes, program, env.clone());
                        let (d, s, r) = recipients(a);
                        (ExecutorKind::Processes, d, s, r)
                    }
                    // Refused by `check_process_pools`.
                    #[cfg(not(unix))]
                    Executor::ProcessPool { .. } => continue,
                };
                act.executors.push(ExecutorRef {
                    name,
                    dispatch,
                    stop,
                    restart,
                    pending: Vec::new(),
                    pending_light: 0,
                    kind,
                });
            }
            act.finished = Some(env.finished.clone());
            act.env = Some(env.clone());
            act.subscribers = subscribers_actor;
            act.initial_jobs = initial;
            act.durable = durable_actor;
            act
        });
        let inner = Arc::new(Inner {
            addr,
            events,
            subscribers,
            stopped: stopped_rx,
            arbiter: arbiter.handle(),
            admission,
            lifecycle,
            system: std::sync::Mutex::new(None),
            durable: durable.map(|(link, _)| link),
            #[cfg(feature = "web")]
            monitor,
        });
        if let Some(slot) = &job_shared.handle {
            let weak: std::sync::Weak<dyn std::any::Any + Send + Sync> =
                Arc::downgrade(&inner) as _;
            let _ = slot.set(weak);
        }
        // Only now does the actor start its work (the static jobs, the
        // timer): a job that asks for its scheduler finds the handle.
        inner.addr.do_send(Begin);
        let executors: Vec<&str> = inner
            .admission
            .executors
            .iter()
            .map(|(n, _)| &**n)
            .collect();
        tracing::info!(
            target: "scheduler::lifecycle",
            ?executors,
            static_jobs = static_count,
            "scheduler started"
        );
        Ok(Scheduler { inner })
    }

    /// A process pool re-runs this executable (unless given a program), which
    /// must then have called [`crate::worker_main`]. Returns the executable.
    fn check_process_pools(&self) -> Result<std::path::PathBuf, Error> {
        #[cfg(not(unix))]
        if let Some((name, _)) = self
            .executors
            .iter()
            .find(|(_, e)| matches!(e, Executor::ProcessPool { .. }))
        {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("executor `{name}`: process pools need a Unix system"),
            ));
        }
        let own = self
            .executors
            .iter()
            .find(|(_, e)| matches!(e, Executor::ProcessPool { program: None, .. }));
        let Some((name, _)) = own else {
            return Ok(std::path::PathBuf::new());
        };
        #[cfg(unix)]
        let prepared = crate::executor::process::worker::is_prepared();
        #[cfg(not(unix))]
        let prepared = false;
        if !prepared {
            return Err(Error::new(
                ErrorKind::Start,
                format!(
                    "executor `{name}` is a process pool, which runs jobs in this executable re-entered \
                     as a worker, but this program does not call `scheduler::worker_main()` at the \
                     top of `main` (or use `#[scheduler::main]`); add that line, or give the pool \
                     another program with `Executor::process_pool_with_program`"
                ),
            ));
        }
        // On Linux the running binary itself, even if a deploy replaced the file.
        let own_exe = std::path::Path::new("/proc/self/exe");
        if cfg!(target_os = "linux") && own_exe.exists() {
            return Ok(own_exe.to_path_buf());
        }
        std::env::current_exe().map_err(|e| {
            Error::new(
                ErrorKind::Start,
                format!("executor `{name}`: cannot find the current executable to re-run as a worker: {e}"),
            )
        })
    }

    /// Starts the scheduler on a thread of its own with its own actix `System`
    /// (APScheduler's `BackgroundScheduler`). The handle works from any thread;
    /// `shutdown` also stops that thread.
    pub fn start_background(self) -> Result<Scheduler, Error> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("scheduler".into())
            .spawn(move || {
                let system = System::new();
                let started = system.block_on(async move { self.start() });
                let ok = started.is_ok();
                if let Ok(s) = &started {
                    s.set_system(System::current());
                }
                let _ = tx.send(started);
                if ok {
                    let _ = system.run();
                }
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Start,
                    format!("could not spawn the scheduler thread: {e}"),
                )
            })?;
        rx.recv()
            .map_err(|_| Error::new(ErrorKind::Start, "the scheduler thread died while starting"))?
    }

    /// Runs the scheduler on this thread until it is shut down or the process
    /// gets SIGINT / SIGTERM, then shuts down gracefully (waiting for running
    /// jobs). APScheduler's `BlockingScheduler`.
    pub fn run_blocking(self) -> Result<(), Error> {
        self.run_blocking_with(|_| async { Ok(()) })
    }

    /// Like [`SchedulerBuilder::run_blocking`], calling `setup` with the handle
    /// first (to add jobs).
    pub fn run_blocking_with<F, Fut>(self, setup: F) -> Result<(), Error>
    where
        F: FnOnce(Scheduler) -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        System::new().block_on(async move {
            let sched = self.start()?;
            if let Err(e) = setup(sched.clone()).await {
                sched.shutdown(false).await?;
                return Err(e);
            }
            tokio::select! {
                _ = shutdown_signal() => {
                    tracing::info!("signal received; shutting down");
                    sched.shutdown(true).await
                }
                _ = sched.stopped() => Ok(()),
            }
        })
    }
}

/// A node name unique per start: host name, process id, a random suffix.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{host}-{}-{:08x}", std::process::id(), nanos ^ 0x9E37_79B9)
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

type ExecutorRecipients = (
    Recipient<crate::executor::tick::Dispatch>,
    Recipient<StopExecutor>,
    Recipient<RestartExecutor>,
);

fn recipients<A>(a: Addr<A>) -> ExecutorRecipients
where
    A: Actor<Context = Context<A>>
        + Handler<crate::executor::tick::Dispatch>
        + Handler<StopExecutor>
        + Handler<RestartExecutor>,
{
    (a.clone().recipient(), a.clone().recipient(), a.recipient())
}
