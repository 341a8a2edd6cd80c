//! Benchmarks of the scheduler; see README.md in this folder.
