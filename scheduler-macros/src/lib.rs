//! Attribute macros of the scheduler (`#[scheduled]`, `#[job]`).
//!
//! The attributes arrive with the runtime's job registry; until then this
//! crate is intentionally empty so the workspace layout is in place.
