//! A minimal `block_on` for the blocking API, refusing to run inside a runtime.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::error::{Error, ErrorKind};

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// Set while a blocking job runs on this thread: tokio's blocking threads
    /// are inside a runtime's context, but blocking there is what they are for.
    static BLOCKING_JOB: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as a blocking job: the blocking API may be used inside it.
pub(crate) fn as_blocking_job<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            BLOCKING_JOB.with(|b| b.set(self.0));
        }
    }
    let _reset = Reset(BLOCKING_JOB.with(|b| b.replace(true)));
    f()
}

/// Drives `fut` to completion on this thread.
pub(crate) fn block_on<F: Future>(fut: F) -> Result<F::Output, Error> {
    if tokio::runtime::Handle::try_current().is_ok() && !BLOCKING_JOB.with(|b| b.get()) {
        return Err(Error::new(
            ErrorKind::BlockingInAsync,
            "a blocking scheduler method was called inside an async runtime; use the async method instead",
        ));
    }
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Ok(out);
        }
        std::thread::park();
    }
}
