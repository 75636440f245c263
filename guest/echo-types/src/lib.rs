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

/// One line describing `e` (the host prints the same, from `echo_proto`).
pub fn describe(e: &EchoError) -> String {
    match e {
        EchoError::InvalidRequest(s)
        | EchoError::Denied(s)
        | EchoError::Refused(s)
        | EchoError::Reset(s)
        | EchoError::Timeout(s)
        | EchoError::AddressInUse(s)
        | EchoError::Network(s) => s.clone(),
        EchoError::ShortEcho(m) => echo_proto::short_echo_message(&m.server, m.at, m.expected),
        EchoError::WrongEcho(m) => echo_proto::wrong_echo_message(&m.server, m.at, m.expected),
    }
}

/// The WIT name of the error's case: the `kind` of `--json` errors.
pub fn kind(e: &EchoError) -> &'static str {
    match e {
        EchoError::InvalidRequest(_) => "invalid-request",
        EchoError::Denied(_) => "denied",
        EchoError::Refused(_) => "refused",
        EchoError::Reset(_) => "reset",
        EchoError::Timeout(_) => "timeout",
        EchoError::AddressInUse(_) => "address-in-use",
        EchoError::ShortEcho(_) => "short-echo",
        EchoError::WrongEcho(_) => "wrong-echo",
        EchoError::Network(_) => "network",
    }
}

/// `{"ok":false,"error":{"kind":…,"message":…}}`, as netkit prints it too.
pub fn error_json(e: &EchoError) -> String {
    format!(
        "{{\"ok\":false,\"error\":{{\"kind\":\"{}\",\"message\":{}}}}}",
        kind(e),
        serde_json::Value::from(describe(e))
    )
}

/// A report as the plain values the shared text takes.
pub fn run_summary(r: &ClientReport) -> echo_proto::RunSummary<'_> {
    echo_proto::RunSummary {
        server: &r.server,
        exchanges: r.exchanges,
        payload_bytes: r.payload_bytes,
        total_bytes: r.total_bytes,
        rtt: echo_proto::RttStats {
            min_ns: r.rtt_min_ns,
            median_ns: r.rtt_median_ns,
            p99_ns: r.rtt_p99_ns,
            max_ns: r.rtt_max_ns,
        },
        elapsed_ns: r.elapsed_ns,
    }
}
