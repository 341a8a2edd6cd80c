//! Job stores (to come): the `JobStore` trait with the acquire due, fired,
//! completed / released lifecycle, the in-memory store, and SQLite and
//! PostgreSQL behind features. A store knows jobs, fire times, claims and
//! runs; it never calls into the engine. Empty until the stores land.
