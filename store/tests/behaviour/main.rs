//! The store's tests, in one test binary (the SIGKILL crash runs, which need a harness of
//! their own, are `tests/crash.rs`). One module per subject; `support` is the shared setup.

mod support;

mod damaged_files;
mod durable;
mod host_values;
mod privacy;
mod projection;
mod queries;
mod recovery_equivalence;
mod schema;
