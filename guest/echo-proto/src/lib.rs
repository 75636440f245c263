//! Sans-IO core of the netkit echo components (RFC 862).
//!
//! No sockets, clocks or randomness: callers pass bytes and durations in.
//! The guests wire these pieces to `wasi:sockets`; the host and the tests use
//! them natively.

mod payload;
mod stats;
mod verify;

pub use payload::{DEFAULT_MESSAGE, generated_payload};
pub use stats::{RttStats, megabytes_per_second};
pub use verify::{EchoCheck, Verifier};
