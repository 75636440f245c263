//! Code over the `netkit:diag/sntp-types` WIT types, written once for both sides.
//!
//! The host (wasmtime `bindgen!`) and the guests (`wit_bindgen::generate!`) each
//! generate their own Rust types from the same WIT, with the same names. These
//! macros expand at each use against that side's types, so the text and the
//! JSON names come from one place.

/// One line describing an `sntp-error` value: `sntp_error_text!(SntpError, &e)`.
#[macro_export]
macro_rules! sntp_error_text {
    ($ty:ident, $e:expr) => {
        match $e {
            $ty::KissOfDeath(code) => $crate::kiss_of_death_message(code),
            $ty::InvalidRequest(s)
            | $ty::Timeout(s)
            | $ty::Unsynchronized(s)
            | $ty::BadReply(s)
            | $ty::Denied(s)
            | $ty::Unreachable(s)
            | $ty::NameNotFound(s)
            | $ty::Network(s)
            | $ty::KeyExchange(s) => s.clone(),
        }
    };
}

/// The WIT name of an `sntp-error`'s case, the `kind` of JSON errors.
#[macro_export]
macro_rules! sntp_error_kind {
    ($ty:ident, $e:expr) => {
        match $e {
            $ty::InvalidRequest(_) => "invalid-request",
            $ty::Timeout(_) => "timeout",
            $ty::KissOfDeath(_) => "kiss-of-death",
            $ty::Unsynchronized(_) => "unsynchronized",
            $ty::BadReply(_) => "bad-reply",
            $ty::Denied(_) => "denied",
            $ty::Unreachable(_) => "unreachable",
            $ty::NameNotFound(_) => "name-not-found",
            $ty::Network(_) => "network",
            $ty::KeyExchange(_) => "key-exchange",
        }
    };
}

/// A WIT `leap` value as a [`crate::LeapIndicator`]: `leap_indicator!(Leap, r.leap)`.
#[macro_export]
macro_rules! leap_indicator {
    ($ty:ident, $l:expr) => {
        match $l {
            $ty::NoWarning => $crate::LeapIndicator::NoWarning,
            $ty::Insert => $crate::LeapIndicator::Insert,
            $ty::Delete => $crate::LeapIndicator::Delete,
            $ty::Unsynchronized => $crate::LeapIndicator::Unsynchronized,
        }
    };
}

/// A `report` as a [`crate::ReportLine`]: `report_line!(Leap, &report)`.
#[macro_export]
macro_rules! report_line {
    ($leap:ident, $r:expr) => {{
        let r = $r;
        $crate::ReportLine {
            server: &r.server,
            stratum: r.stratum,
            leap: $crate::leap_indicator!($leap, r.leap),
            transmit: (r.transmit_seconds, r.transmit_nanos),
            offset_ns: r.offset_ns,
            delay_ns: r.delay_ns,
            root_delay_ns: r.root_delay_ns,
            root_dispersion_ns: r.root_dispersion_ns,
        }
    }};
}
