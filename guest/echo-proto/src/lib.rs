//! Sans-IO core of the netkit echo components (RFC 862).
//!
//! No sockets, clocks or randomness: callers pass bytes and durations in.
//! The guests wire these pieces to `wasi:sockets`; the host and the tests use
//! them natively.

mod payload;
mod stats;
mod text;
mod verify;
mod wit;

pub use payload::{DEFAULT_MESSAGE, PayloadStream, generated_payload};
pub use stats::{RttStats, megabytes_per_second};
pub use text::{
    RunSummary, plural, server_summary_line, short_echo_message, summary_line, wrong_echo_message,
};
pub use verify::{EchoCheck, Verifier};
