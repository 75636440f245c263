//! `netkit:diag/echo-types`, generated once for the echo guests (they name this
//! crate in their `wit_bindgen::generate!` `with:`), with the mapping from
//! network failures and the one-line text of every error.

wit_bindgen::generate!({
    world: "echo-types-only",
    path: "../../wit",
});

use netio::{Cause, NetError};
pub use netkit::diag::echo_types::*;

/// Map a network failure to the typed error, keeping its one-line description.
pub fn from_net(e: NetError) -> EchoError {
    let text = e.to_string();
    match e.cause() {
        Cause::Denied => EchoError::Denied(text),
        Cause::Refused => EchoError::Refused(text),
        Cause::Reset => EchoError::Reset(text),
        Cause::Timeout => EchoError::Timeout(text),
        Cause::AddressInUse => EchoError::AddressInUse(text),
        Cause::Unreachable | Cause::Other => EchoError::Network(text),
    }
}

/// One line describing `e` (the host prints the same: `echo_proto::echo_error_text!`).
pub fn describe(e: &EchoError) -> String {
    echo_proto::echo_error_text!(EchoError, e)
}

/// `{"ok":false,"error":{"kind":…,"message":…}}`, as netkit prints it too.
pub fn error_json(e: &EchoError) -> String {
    format!(
        "{{\"ok\":false,\"error\":{{\"kind\":\"{}\",\"message\":{}}}}}",
        echo_proto::echo_error_kind!(EchoError, e),
        serde_json::Value::from(describe(e))
    )
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/echo.wit");
