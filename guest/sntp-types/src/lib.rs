//! `netkit:diag/sntp-types`, generated once for the SNTP guests (they name this
//! crate in their `wit_bindgen::generate!` `with:`), with the mapping from
//! network failures and the one-line text of every error.

wit_bindgen::generate!({
    world: "sntp-types-only",
    path: "../../wit",
});

use netio::{Cause, NetError};
pub use netkit::diag::sntp_types::*;

/// Map a network failure to the typed error, keeping its one-line description.
pub fn from_net(e: NetError) -> SntpError {
    let text = e.to_string();
    match e.cause() {
        Cause::Denied => SntpError::Denied(text),
        Cause::Refused | Cause::Reset | Cause::Unreachable => SntpError::Unreachable(text),
        Cause::Timeout => SntpError::Timeout(text),
        Cause::AddressInUse | Cause::Other => SntpError::Network(text),
    }
}

/// One line describing `e` (the host prints the same: `sntp_proto::sntp_error_text!`).
pub fn describe(e: &SntpError) -> String {
    sntp_proto::sntp_error_text!(SntpError, e)
}

/// `{"ok":false,"error":{"kind":…,"message":…}}`, as netkit prints it too.
pub fn error_json(e: &SntpError) -> String {
    format!(
        "{{\"ok\":false,\"error\":{{\"kind\":\"{}\",\"message\":{}}}}}",
        sntp_proto::sntp_error_kind!(SntpError, e),
        serde_json::Value::from(describe(e))
    )
}

/// The WIT leap value for the protocol's leap indicator.
pub fn leap_from(l: sntp_proto::LeapIndicator) -> Leap {
    match l {
        sntp_proto::LeapIndicator::NoWarning => Leap::NoWarning,
        sntp_proto::LeapIndicator::Insert => Leap::Insert,
        sntp_proto::LeapIndicator::Delete => Leap::Delete,
        sntp_proto::LeapIndicator::Unsynchronized => Leap::Unsynchronized,
    }
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/sntp.wit");
