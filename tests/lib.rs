//! Shared helpers for the workspace's integration tests.

use chrono::{DateTime, Utc};
use scheduler_triggers::{Trigger, Zone};

/// Parses an RFC 3339 instant; panics on a typo in a test.
pub fn at(s: &str) -> DateTime<Utc> {
    match scheduler_triggers::parse_instant(s) {
        Ok(t) => t,
        Err(e) => panic!("bad instant in test: {e}"),
    }
}

/// The next `n` fire times after `after`, shown with the zone's offset.
pub fn next_n(trigger: &Trigger, zone: Zone, after: &str, n: usize) -> Vec<String> {
    trigger
        .iter_after(at(after))
        .take(n)
        .map(|t| zone.localize(t).to_rfc3339())
        .collect()
}

pub mod harness {
    //! A scheduler on a [`TestClock`], and a way to wait for its events.

    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use scheduler::{Event, EventStream, Scheduler, SchedulerBuilder, TestClock};
    use tokio_stream::StreamExt;

    /// The instant every harness clock starts at.
    pub fn t0() -> DateTime<Utc> {
        super::at("2026-01-01T00:00:00Z")
    }

    /// A background scheduler on a test clock, with an event subscription.
    pub struct Harness {
        /// The handle.
        pub sched: Scheduler,
        /// The clock the scheduler reads.
        pub clock: TestClock,
        /// Events since start.
        pub events: EventStream,
        /// Events read so far.
        pub seen: Vec<Event>,
    }

    /// Starts `builder` (registered jobs off) on a clock standing at [`t0`].
    pub fn start(builder: SchedulerBuilder) -> Harness {
        start_with(builder.without_registered_jobs())
    }

    /// Starts `builder` as it is on a clock standing at [`t0`].
    pub fn start_with(builder: SchedulerBuilder) -> Harness {
        let clock = TestClock::new(t0());
        let sched = builder
            .clock(clock.clone())
            .start_background()
            .expect("scheduler starts");
        let events = sched.subscribe();
        Harness {
            sched,
            clock,
            events,
            seen: Vec::new(),
        }
    }

    impl Harness {
        /// Waits (real time, at most 10 s) for an event matching `pred`; returns it.
        pub async fn expect(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::time::timeout_at(deadline, self.events.next()).await {
                    Ok(Some(e)) => {
                        self.seen.push(e.clone());
                        if pred(&e) {
                            return e;
                        }
                    }
                    Ok(None) => panic!(
                        "event stream ended while waiting for {what}; seen: {:#?}",
                        self.seen
                    ),
                    Err(_) => panic!("no {what} within 10 s; seen: {:#?}", self.seen),
                }
            }
        }

        /// Collects the events that arrive until one matches `pred` (inclusive).
        pub async fn until(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
            let start = self.seen.len();
            self.expect(what, pred).await;
            self.seen[start..].to_vec()
        }

        /// Moves the clock forward.
        pub fn advance(&self, secs: f64) {
            self.clock.advance(Duration::from_secs_f64(secs));
        }

        /// Shuts down and waits for it.
        pub async fn shutdown(self) {
            self.sched.shutdown(true).await.expect("shutdown");
        }
    }

    /// Whether `e` is a `JobExecuted` of `job`.
    pub fn executed(job: &str) -> impl Fn(&Event) -> bool + '_ {
        move |e| matches!(e, Event::JobExecuted { job_id, .. } if &**job_id == job)
    }

    /// Whether `e` is a `JobError` of `job`.
    pub fn failed(job: &str) -> impl Fn(&Event) -> bool + '_ {
        move |e| matches!(e, Event::JobError { job_id, .. } if &**job_id == job)
    }
}
