//! Code over the `netkit:diag/echo-types` WIT types, written once for both sides.
//!
//! The host (wasmtime `bindgen!`) and the guests (`wit_bindgen::generate!`) each
//! generate their own Rust types from the same WIT, with the same names. These
//! macros expand at each use against that side's types, so the text and the
//! JSON names of every error come from one place.

/// One line describing an `echo-error` value: `echo_error_text!(EchoError, &e)`.
#[macro_export]
macro_rules! echo_error_text {
    ($ty:ident, $e:expr) => {
        match $e {
            $ty::InvalidRequest(s)
            | $ty::Denied(s)
            | $ty::Refused(s)
            | $ty::Reset(s)
            | $ty::Timeout(s)
            | $ty::AddressInUse(s)
            | $ty::Network(s) => s.clone(),
            $ty::ShortEcho(m) => $crate::short_echo_message(&m.server, m.at, m.expected),
            $ty::WrongEcho(m) => $crate::wrong_echo_message(&m.server, m.at, m.expected),
        }
    };
}

/// The WIT name of an `echo-error`'s case, the `kind` of JSON errors.
#[macro_export]
macro_rules! echo_error_kind {
    ($ty:ident, $e:expr) => {
        match $e {
            $ty::InvalidRequest(_) => "invalid-request",
            $ty::Denied(_) => "denied",
            $ty::Refused(_) => "refused",
            $ty::Reset(_) => "reset",
            $ty::Timeout(_) => "timeout",
            $ty::AddressInUse(_) => "address-in-use",
            $ty::ShortEcho(_) => "short-echo",
            $ty::WrongEcho(_) => "wrong-echo",
            $ty::Network(_) => "network",
        }
    };
}

/// A `client-report` as a [`crate::RunSummary`]: `run_summary!(&report)`.
#[macro_export]
macro_rules! run_summary {
    ($r:expr) => {{
        let r = $r;
        $crate::RunSummary {
            server: &r.server,
            exchanges: r.exchanges,
            payload_bytes: r.payload_bytes,
            total_bytes: r.total_bytes,
            rtt: $crate::RttStats {
                min_ns: r.rtt_min_ns,
                median_ns: r.rtt_median_ns,
                p99_ns: r.rtt_p99_ns,
                max_ns: r.rtt_max_ns,
            },
            elapsed_ns: r.elapsed_ns,
        }
    }};
}
