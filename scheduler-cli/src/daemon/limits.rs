//! The daemon's open-file limit. A running command holds three descriptors
//! here (its stdout and stderr pipes, and the pidfd it is reaped by), so a
//! `max_parallel` of a few hundred needs more than the soft limit of 1 024
//! that shells and systemd give by default; past it, commands would fail to
//! start ("Too many open files"). At start the soft limit is raised as far
//! as `max_parallel` needs, never past the hard limit, and a limit still too
//! low is reported then rather than as failed runs later. Commands inherit
//! the raised soft limit.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors a running command holds, with room for one being started.
const PER_COMMAND: u64 = 4;
/// Descriptors of the daemon itself: the state file, sockets, the log.
const OWN: u64 = 128;

/// Raises the soft `RLIMIT_NOFILE` to what `max_parallel` commands need.
pub(super) fn ensure_open_files(max_parallel: usize) {
    let needed = OWN + PER_COMMAND * max_parallel as u64;
    let limit = getrlimit(Resource::Nofile);
    // `None`: unlimited.
    let Some(soft) = limit.current else { return };
    if soft >= needed {
        return;
    }
    let target = limit.maximum.map_or(needed, |hard| hard.min(needed));
    let raised = target > soft
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            },
        )
        .is_ok();
    let now = if raised { target } else { soft };
    if raised {
        tracing::info!(
            target: "scheduler::daemon",
            from = soft,
            to = now,
            max_parallel,
            "raised the open-file limit (RLIMIT_NOFILE) for max_parallel commands"
        );
    }
    if now < needed {
        tracing::warn!(
            target: "scheduler::daemon",
            limit = now,
            max_parallel,
            "the open-file limit (RLIMIT_NOFILE) of {now} allows about {} commands at once, \
             fewer than max_parallel = {max_parallel}; commands past that fail to start. \
             Raise the hard limit (LimitNOFILE= in a systemd unit, ulimit -Hn) or lower max_parallel",
            now.saturating_sub(OWN) / PER_COMMAND
        );
    }
}
