//! One error type naming the operation, the address and the WASI cause.

use std::fmt;
use std::net::SocketAddr;
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
    /// The WASI error code, when the socket API gave one.
    pub code: Option<ErrorCode>,
    /// The stream error text, when a stream read or write failed instead.
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

    pub(crate) fn stream(op: Op, addr: SocketAddr, err: std::io::Error) -> Self {
        let code = match err.kind() {
            std::io::ErrorKind::ConnectionReset => Some(ErrorCode::ConnectionReset),
            _ if err.to_string().to_lowercase().contains("reset") => {
                Some(ErrorCode::ConnectionReset)
            }
            _ => None,
        };
        Self {
            op,
            addr,
            code,
            detail: err.to_string(),
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
            _ => Cause::Other,
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
            None => f.write_str(&self.detail),
        }
    }
}

impl std::error::Error for NetError {}
