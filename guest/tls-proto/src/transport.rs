//! What the TLS layer (and the HTTP client above it) needs from a connection:
//! bytes in and out before a deadline, and a clock. netio's TCP stream in the
//! guests ([`crate::NetioTransport`]), a std socket in the native tests.

use std::fmt;

/// What one [`Transport::recv`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Recv {
    /// Bytes (never empty).
    Data(Vec<u8>),
    /// The peer closed its sending side.
    Closed,
    /// The deadline passed first.
    Timeout,
}

/// A failed send or receive, in words (the transport's own error, rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError(pub String);

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A byte stream with deadlines on one monotonic clock (nanoseconds).
pub trait Transport {
    /// Wait until bytes arrive (at most `max`), the peer closes, or `deadline_ns` passes.
    fn recv(&mut self, max: usize, deadline_ns: u64) -> Result<Recv, TransportError>;
    /// Send all of `buf` before `deadline_ns`: `Ok(false)` when the deadline passed first.
    fn send(&mut self, buf: &[u8], deadline_ns: u64) -> Result<bool, TransportError>;
    /// Tell the peer nothing more will be sent.
    fn shutdown_send(&mut self);
    /// The monotonic clock the deadlines are on.
    fn now_ns(&self) -> u64;
}
