//! What to do with a due job: the misfire rules, as one pure function that
//! durable stores call inside the transaction that advances the job.

use chrono::{DateTime, Utc};

use crate::clock;
use crate::job::options::JobOptions;
use crate::trigger::Trigger;

/// The decision for one due job.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Plan {
    /// Fire times to run now, oldest first.
    pub(crate) runs: Vec<DateTime<Utc>>,
    /// Fire times given up: `(latest, count)`.
    pub(crate) missed: Vec<(DateTime<Utc>, u64)>,
    /// Fire times skipped for `max_instances`.
    pub(crate) skipped: Vec<DateTime<Utc>>,
    /// The job's next run time; `None`: its trigger finished, remove it.
    pub(crate) next: Option<DateTime<Utc>>,
    /// A fire time waits for a run of the job to end (`max_instances`).
    pub(crate) waiting: bool,
}

/// Plans a job due at `first` (≤ `now`) with `running` runs in progress
/// across the cluster.
///
/// - Every fire time up to `now` is due, at most `max_catch_up` of them; the
///   rest are missed in one count, and the job jumps to its first fire time
///   after `now` (a job down for a year does not run 500 000 times).
/// - `coalesce`: the due times collapse into the latest one.
/// - A time later than `misfire_grace_time` is missed.
/// - At most `max_instances - running` run; the others wait (without
///   coalescing: the job's next run time stays at the first waiting time,
///   so the next acquire takes them up) or, coalesced, are skipped.
/// - A fire time claimed ahead (`first` > `now`) while `max_instances` runs
///   are in progress waits, coalesced or not: those runs may end before it
///   comes, and whether they did is decided when it is due, not before.
pub(crate) fn plan(
    trigger: &Trigger,
    opts: &JobOptions,
    first: DateTime<Utc>,
    now: DateTime<Utc>,
    running: u32,
) -> Plan {
    let mut out = Plan::default();
    let mut due = vec![first];
    let mut next = trigger.next_fire_time(Some(first), now);
    while let Some(t) = next.filter(|t| *t <= now) {
        if due.len() as u64 >= u64::from(opts.max_catch_up) {
            // Past the catch-up limit: count what is skipped (bounded), then
            // go on from the first fire time after now.
            let mut skipped: u64 = 0;
            let mut last = t;
            let mut cursor = Some(t);
            while let Some(s) = cursor.filter(|s| *s <= now) {
                skipped += 1;
                last = s;
                if skipped >= u64::from(opts.max_catch_up) {
                    break;
                }
                cursor = trigger.next_fire_time(Some(s), now);
            }
            out.missed.push((last, skipped));
            next = trigger.resume_after(last, now);
            break;
        }
        due.push(t);
        next = trigger.next_fire_time(Some(t), now);
    }
    let missed = |t: DateTime<Utc>| clock::too_late(now, t, opts.misfire_grace_time);
    let candidates: Vec<DateTime<Utc>> = if opts.coalesce {
        let last = due[due.len() - 1];
        if missed(last) {
            out.missed.push((last, due.len() as u64));
            Vec::new()
        } else {
            vec![last]
        }
    } else {
        let mut keep = Vec::with_capacity(due.len());
        for t in due {
            if missed(t) {
                out.missed.push((t, 1));
            } else {
                keep.push(t);
            }
        }
        keep
    };
    let free = opts.max_instances.saturating_sub(running) as usize;
    let ahead = first > now;
    let mut waiting = None;
    for (i, t) in candidates.into_iter().enumerate() {
        if i < free {
            out.runs.push(t);
        } else if opts.coalesce && !ahead {
            out.skipped.push(t);
        } else {
            waiting = Some(t);
            break;
        }
    }
    out.waiting = waiting.is_some();
    out.next = waiting.or(next);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default()
    }

    fn every_10s() -> Trigger {
        crate::trigger::IntervalTrigger::builder(Duration::from_secs(10))
            .start(at(0))
            .build()
            .map(Trigger::Interval)
            .unwrap_or_else(|_| Trigger::at(at(0)))
    }

    fn opts(coalesce: bool, grace: Option<u64>, limit: u32, max: u32) -> JobOptions {
        JobOptions {
            coalesce,
            misfire_grace_time: grace.map(Duration::from_secs),
            max_catch_up: limit,
            max_instances: max,
            ..JobOptions::default()
        }
    }

    #[test]
    fn on_time_runs_once_and_advances() {
        let p = plan(&every_10s(), &opts(true, Some(1), 1000, 1), at(0), at(0), 0);
        assert_eq!(p.runs, vec![at(0)]);
        assert_eq!(p.next, Some(at(10)));
        assert!(p.missed.is_empty());
    }

    #[test]
    fn coalesce_collapses_a_backlog() {
        // Down for 5 intervals, no grace limit: one run, at the latest time.
        let p = plan(&every_10s(), &opts(true, None, 1000, 1), at(0), at(45), 0);
        assert_eq!(p.runs, vec![at(40)]);
        assert_eq!(p.next, Some(at(50)));
    }

    #[test]
    fn without_coalescing_the_backlog_waits_for_free_instances() {
        let p = plan(&every_10s(), &opts(false, None, 1000, 1), at(0), at(45), 0);
        assert_eq!(p.runs, vec![at(0)]);
        assert_eq!(
            p.next,
            Some(at(10)),
            "the next acquire takes up the backlog"
        );
        let p = plan(&every_10s(), &opts(false, None, 1000, 10), at(0), at(45), 0);
        assert_eq!(p.runs, vec![at(0), at(10), at(20), at(30), at(40)]);
        assert_eq!(p.next, Some(at(50)));
    }

    #[test]
    fn the_catch_up_limit_bounds_the_runs() {
        let p = plan(&every_10s(), &opts(false, None, 3, 100), at(0), at(95), 0);
        assert_eq!(p.runs, vec![at(0), at(10), at(20)]);
        assert_eq!(p.missed, vec![(at(50), 3)], "counted up to the limit again");
        assert_eq!(p.next, Some(at(100)));
    }

    #[test]
    fn late_times_are_missed() {
        let p = plan(
            &every_10s(),
            &opts(false, Some(15), 1000, 10),
            at(0),
            at(45),
            0,
        );
        assert_eq!(p.runs, vec![at(30), at(40)]);
        assert_eq!(p.missed, vec![(at(0), 1), (at(10), 1), (at(20), 1)]);
        let p = plan(
            &every_10s(),
            &opts(true, Some(1), 1000, 1),
            at(0),
            at(45),
            0,
        );
        assert!(p.runs.is_empty());
        assert_eq!(p.missed, vec![(at(40), 5)]);
        assert_eq!(p.next, Some(at(50)));
    }

    #[test]
    fn max_instances_across_nodes_skips_a_coalesced_run() {
        let p = plan(&every_10s(), &opts(true, Some(1), 1000, 1), at(0), at(0), 1);
        assert!(p.runs.is_empty());
        assert_eq!(p.skipped, vec![at(0)]);
        assert_eq!(p.next, Some(at(10)));
        assert!(!p.waiting);
    }

    #[test]
    fn a_fire_time_claimed_ahead_waits_for_a_running_instance() {
        // Due at 10, claimed at 9.7 while the run of 0 still goes: neither
        // run nor skipped; the job stays due at 10 and waits for the run.
        let now = at(9) + chrono::TimeDelta::milliseconds(700);
        let p = plan(&every_10s(), &opts(true, Some(1), 1000, 1), at(10), now, 1);
        assert!(p.runs.is_empty());
        assert!(p.skipped.is_empty());
        assert_eq!(p.next, Some(at(10)));
        assert!(p.waiting);
        // With the run ended, the same fire time is claimed ahead.
        let p = plan(&every_10s(), &opts(true, Some(1), 1000, 1), at(10), now, 0);
        assert_eq!(p.runs, vec![at(10)]);
        assert_eq!(p.next, Some(at(20)));
    }

    #[test]
    fn a_one_shot_job_finishes() {
        let p = plan(
            &Trigger::at(at(5)),
            &opts(true, Some(1), 1000, 1),
            at(5),
            at(5),
            0,
        );
        assert_eq!(p.runs, vec![at(5)]);
        assert_eq!(p.next, None);
    }
}
