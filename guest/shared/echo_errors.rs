//! Error mapping shared by the echo guests; each includes this file with
//! `#[path]` because each has its own generated `echo-error` type.

use crate::netkit::diag::echo_types::EchoError;
use netio::{Cause, NetError};

/// Map a network failure to the typed error, keeping its one-line description.
pub fn to_echo_error(e: NetError) -> EchoError {
    let text = e.to_string();
    match e.cause() {
        Cause::Denied => EchoError::Denied(text),
        Cause::Refused => EchoError::Refused(text),
        Cause::Reset => EchoError::Reset(text),
        Cause::Timeout => EchoError::Timeout(text),
        Cause::AddressInUse => EchoError::AddressInUse(text),
        Cause::Other => EchoError::Network(text),
    }
}

/// One line describing `e`.
pub fn describe(e: &EchoError) -> String {
    match e {
        EchoError::InvalidRequest(s)
        | EchoError::Denied(s)
        | EchoError::Refused(s)
        | EchoError::Reset(s)
        | EchoError::Timeout(s)
        | EchoError::AddressInUse(s)
        | EchoError::Network(s) => s.clone(),
        EchoError::ShortEcho(m) => format!(
            "short echo from {}: peer closed after {} of {} bytes",
            m.server, m.at, m.expected
        ),
        EchoError::WrongEcho(m) => format!(
            "wrong echo from {}: byte {} of {} differs from what was sent",
            m.server, m.at, m.expected
        ),
    }
}
