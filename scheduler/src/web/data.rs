//! Shared state registered once: an actix-web `web::Data<T>` is a job's
//! `Data<T>`, the same `Arc`.

use crate::handle::SchedulerBuilder;
use crate::job::Data;

impl<T: ?Sized> From<actix_web::web::Data<T>> for Data<T> {
    /// The same `Arc`: jobs and handlers share one value.
    fn from(d: actix_web::web::Data<T>) -> Data<T> {
        Data::from_arc(d.into_inner())
    }
}

impl<T: ?Sized> From<Data<T>> for actix_web::web::Data<T> {
    /// The same `Arc`: jobs and handlers share one value.
    fn from(d: Data<T>) -> actix_web::web::Data<T> {
        actix_web::web::Data::from(d.into_inner())
    }
}

impl SchedulerBuilder {
    /// Registers an actix-web `web::Data<T>` that the app also hands its
    /// handlers: jobs get it as their `Data<T>`, the same `Arc` (one pool,
    /// one cache, registered once).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use actix_web::web;
    /// use scheduler::Scheduler;
    ///
    /// let hits = web::Data::new(AtomicU32::new(0));
    /// let sched = Scheduler::builder().web_data(hits.clone()).start_background()?;
    /// // ... App::new().app_data(hits.clone()) for the handlers ...
    /// # sched.blocking().shutdown(true)?;
    /// # Ok::<(), scheduler::Error>(())
    /// ```
    pub fn web_data<T: Send + Sync + 'static>(self, value: actix_web::web::Data<T>) -> Self {
        self.app_data(Data::from(value))
    }
}
