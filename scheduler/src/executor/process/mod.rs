//! The process pool (Unix): `pool` is the executor actor (at most n
//! children, deadlines of waiting runs), `child` runs one job in a child
//! process and tells how it ended, `command` runs a command in a process
//! group of its own, `worker` is the other side (this binary
//! re-entered as a worker) and the protocol between them.

pub(crate) mod child;
pub(crate) mod command;
pub(crate) mod pool;
pub(crate) mod worker;
