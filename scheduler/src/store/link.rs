//! How the engine and the handles reach a durable store: every call runs on
//! the store's own arbiter (a thread with its own runtime), where the
//! database connections live, so no call blocks or burdens the scheduler's
//! thread, and a connection is never driven by a runtime that may go away.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use crate::error::{Error, ErrorKind};
use crate::store::JobStore;

/// A durable store and the arbiter its calls run on.
pub(crate) struct StoreLink {
    pub(crate) store: Arc<dyn JobStore>,
    arbiter: actix_rt::Arbiter,
    /// Set once the store is set up (connected, schema migrated): every call
    /// waits for it, and sets it up again after a failed setup.
    ready: Arc<tokio::sync::OnceCell<()>>,
    /// Calls on their way; `close` waits for them.
    in_flight: Arc<InFlight>,
}

#[derive(Default)]
struct InFlight {
    count: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Counts a call while it runs.
struct Counted(Arc<InFlight>);

impl Counted {
    fn new(f: &Arc<InFlight>) -> Counted {
        f.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Counted(f.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self
            .0
            .count
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            == 1
        {
            self.0.idle.notify_waiters();
        }
    }
}

impl StoreLink {
    pub(crate) fn start(store: Arc<dyn JobStore>) -> StoreLink {
        StoreLink {
            store,
            arbiter: actix_rt::Arbiter::new(),
            ready: Arc::default(),
            in_flight: Arc::default(),
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        self.store.kind()
    }

    /// Runs `call` on the store's arbiter, once the store is set up, and
    /// waits for its result.
    pub(crate) fn call<T, F>(
        &self,
        call: F,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn JobStore>) -> BoxFuture<'static, Result<T, Error>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let store = self.store.clone();
        let ready = self.ready.clone();
        let counted = Counted::new(&self.in_flight);
        let spawned = self.arbiter.spawn(async move {
            let _counted = counted;
            let set_up = ready.get_or_try_init(|| store.setup()).await;
            let out = match set_up {
                Ok(()) => call(store).await,
                Err(e) => Err(e),
            };
            let _ = tx.send(out);
        });
        async move {
            if !spawned {
                return Err(stopped());
            }
            rx.await.map_err(|_| stopped())?
        }
    }

    /// Closes the store's connections once the calls on their way have
    /// ended (at most 10 s), then stops its arbiter (at shutdown):
    /// connections are closed where they live, none is dropped mid-call.
    pub(crate) fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        let (tx, rx) = oneshot::channel::<()>();
        let store = self.store.clone();
        let in_flight = self.in_flight.clone();
        let spawned = self.arbiter.spawn(async move {
            store.closing();
            let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let idle = in_flight.idle.notified();
                if in_flight.count.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    break;
                }
                if tokio::time::timeout_at(give_up, idle).await.is_err() {
                    tracing::warn!(target: "scheduler::store", "store calls still running at shutdown after 10 s; closing anyway");
                    break;
                }
            }
            store.close().await;
            let _ = tx.send(());
            actix_rt::Arbiter::current().stop();
        });
        async move {
            if spawned {
                let _ = rx.await;
            }
        }
    }
}

fn stopped() -> Error {
    Error::new(
        ErrorKind::NotRunning,
        "the job store's thread has stopped (the scheduler shut down)",
    )
}
