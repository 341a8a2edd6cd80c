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
}

impl StoreLink {
    pub(crate) fn start(store: Arc<dyn JobStore>) -> StoreLink {
        StoreLink {
            store,
            arbiter: actix_rt::Arbiter::new(),
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        self.store.kind()
    }

    /// Runs `call` on the store's arbiter and waits for its result.
    pub(crate) fn call<T, F>(&self, call: F) -> impl Future<Output = Result<T, Error>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn JobStore>) -> BoxFuture<'static, Result<T, Error>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let store = self.store.clone();
        let spawned = self.arbiter.spawn(async move {
            let _ = tx.send(call(store).await);
        });
        async move {
            if !spawned {
                return Err(stopped());
            }
            rx.await.map_err(|_| stopped())?
        }
    }

    /// Stops the store's arbiter (at shutdown, after the last call).
    pub(crate) fn stop(&self) {
        self.arbiter.stop();
    }
}

fn stopped() -> Error {
    Error::new(
        ErrorKind::NotRunning,
        "the job store's thread has stopped (the scheduler shut down)",
    )
}
