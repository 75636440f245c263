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

/// One line describing `e` (the host prints the same, from `sntp_proto`).
pub fn describe(e: &SntpError) -> String {
    match e {
        SntpError::KissOfDeath(code) => sntp_proto::kiss_of_death_message(code),
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

/// The WIT name of a leap indicator (what `--json` prints).
pub fn leap_from(l: sntp_proto::LeapIndicator) -> Leap {
    match l {
        sntp_proto::LeapIndicator::NoWarning => Leap::NoWarning,
        sntp_proto::LeapIndicator::Insert => Leap::Insert,
        sntp_proto::LeapIndicator::Delete => Leap::Delete,
        sntp_proto::LeapIndicator::Unsynchronized => Leap::Unsynchronized,
    }
}

/// The WIT name of the error's case: the `kind` of `--json` errors.
pub fn kind(e: &SntpError) -> &'static str {
    match e {
        SntpError::InvalidRequest(_) => "invalid-request",
        SntpError::Timeout(_) => "timeout",
        SntpError::KissOfDeath(_) => "kiss-of-death",
        SntpError::Unsynchronized(_) => "unsynchronized",
        SntpError::BadReply(_) => "bad-reply",
        SntpError::Denied(_) => "denied",
        SntpError::Unreachable(_) => "unreachable",
        SntpError::NameNotFound(_) => "name-not-found",
        SntpError::Network(_) => "network",
    }
}

/// `{"ok":false,"error":{"kind":…,"message":…}}`, as netkit prints it too.
pub fn error_json(e: &SntpError) -> String {
    format!(
        "{{\"ok\":false,\"error\":{{\"kind\":\"{}\",\"message\":{}}}}}",
        kind(e),
        serde_json::Value::from(describe(e))
    )
}

/// A report as the plain values the shared text takes.
pub fn report_line(r: &Report) -> sntp_proto::ReportLine<'_> {
    sntp_proto::ReportLine {
        server: &r.server,
        stratum: r.stratum,
        leap: match r.leap {
            Leap::NoWarning => sntp_proto::LeapIndicator::NoWarning,
            Leap::Insert => sntp_proto::LeapIndicator::Insert,
            Leap::Delete => sntp_proto::LeapIndicator::Delete,
            Leap::Unsynchronized => sntp_proto::LeapIndicator::Unsynchronized,
        },
        transmit: (r.transmit_seconds, r.transmit_nanos),
        offset_ns: r.offset_ns,
        delay_ns: r.delay_ns,
        root_delay_ns: r.root_delay_ns,
        root_dispersion_ns: r.root_dispersion_ns,
    }
}

/// The WIT name of a leap indicator, as `--json` prints it.
pub fn leap_wit_name(l: Leap) -> &'static str {
    match l {
        Leap::NoWarning => "no-warning",
        Leap::Insert => "insert",
        Leap::Delete => "delete",
        Leap::Unsynchronized => "unsynchronized",
    }
}
