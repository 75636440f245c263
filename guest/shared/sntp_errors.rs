//! One-line descriptions of SNTP errors, shared by the SNTP guests; each includes this
//! file with `#[path]` because each has its own generated `sntp-error` type.

use crate::netkit::diag::sntp_types::SntpError;

/// One line describing `e`.
pub fn describe(e: &SntpError) -> String {
    match e {
        SntpError::KissOfDeath(code) => format!("server sent kiss-o'-death {code}; stop asking it"),
        SntpError::InvalidRequest(s)
        | SntpError::Timeout(s)
        | SntpError::Unsynchronized(s)
        | SntpError::BadReply(s)
        | SntpError::Denied(s)
        | SntpError::Unreachable(s)
        | SntpError::NameNotFound(s)
        | SntpError::Network(s) => s.clone(),
    }
}
