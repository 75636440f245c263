//! One error type naming the operation, the address and the WASI cause.

use std::fmt;
use std::net::SocketAddr;
use wasip2::io::streams::StreamError;
use wasip2::sockets::network::ErrorCode;

/// The network operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Binding a local address.
    Bind,
    /// Listening for TCP connections.
    Listen,
    /// Accepting a TCP connection.
    Accept,
    /// Connecting to a TCP server.
    Connect,
    /// Reading from a connection or socket.
    Receive,
    /// Writing to a connection or socket.
    Send,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Bind => "bind",
            Op::Listen => "listen on",
            Op::Accept => "accept on",
            Op::Connect => "connect to",
            Op::Receive => "receive from",
            Op::Send => "send to",
        })
    }
}

/// A failed network operation: what, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetError {
    /// The operation.
    pub op: Op,
    /// The address it concerned.
    pub addr: SocketAddr,
    /// The WASI error code; `None` when an established connection's stream failed.
    pub code: Option<ErrorCode>,
    /// The host's description of a failed stream (empty with a code).
    pub detail: String,
}

impl NetError {
    /// An error with a WASI error code.
    pub fn code(op: Op, addr: SocketAddr, code: ErrorCode) -> Self {
        Self {
            op,
            addr,
            code: Some(code),
            detail: String::new(),
        }
    }

    /// A connection's stream failed. WASI 0.2 gives no error code for that:
    /// `network-error-code` is `@unstable` and not in the stable bindings, so the
    /// cause is the variant (`last-operation-failed` on an established TCP
    /// connection: the connection broke), never the text, which is kept for people.
    pub(crate) fn stream(op: Op, addr: SocketAddr, err: StreamError) -> Self {
        Self {
            op,
            addr,
            code: None,
            detail: match err {
                StreamError::Closed => "connection closed".into(),
                StreamError::LastOperationFailed(e) => e.to_debug_string(),
            },
        }
    }
}

/// The broad cause of a [`NetError`], for mapping onto a caller's error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The host refused the operation (not granted).
    Denied,
    /// Nothing listens at the address.
    Refused,
    /// The peer reset the connection.
    Reset,
    /// The operation timed out.
    Timeout,
    /// The local address is taken.
    AddressInUse,
    /// No route to the address.
    Unreachable,
    /// Anything else.
    Other,
}

impl NetError {
    /// The broad cause.
    pub fn cause(&self) -> Cause {
        match self.code {
            Some(ErrorCode::AccessDenied) => Cause::Denied,
            Some(ErrorCode::ConnectionRefused) => Cause::Refused,
            Some(ErrorCode::ConnectionReset | ErrorCode::ConnectionAborted) => Cause::Reset,
            Some(ErrorCode::Timeout) => Cause::Timeout,
            Some(ErrorCode::AddressInUse) => Cause::AddressInUse,
            Some(ErrorCode::RemoteUnreachable) => Cause::Unreachable,
            // An established connection's stream failed: it broke under us.
            None => Cause::Reset,
            Some(_) => Cause::Other,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.op, self.addr)?;
        match self.code {
            Some(ErrorCode::AccessDenied) => {
                f.write_str("permission denied (the host did not grant this address)")
            }
            Some(ErrorCode::ConnectionRefused) => {
                f.write_str("connection refused (nothing listens there)")
            }
            Some(ErrorCode::ConnectionReset) => f.write_str("connection reset by peer"),
            Some(ErrorCode::AddressInUse) => f.write_str("address already in use"),
            Some(ErrorCode::Timeout) => f.write_str("timed out"),
            Some(code) => write!(f, "{}", code.name()),
            None => write!(f, "connection lost: {}", self.detail),
        }
    }
}

impl std::error::Error for NetError {}
