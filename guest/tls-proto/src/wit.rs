//! The WIT records (`netkit:diag/tls-types`) from any bindings of them, to
//! this crate's types, for the text and JSON: the same in the guests
//! (wit-bindgen) and in netkit (wasmtime's bindgen), whose field names agree.

/// `tls_proto::Handshake` from a WIT `handshake` of any bindings; `$E` is those
/// bindings' `verify-error` enum.
#[macro_export]
macro_rules! handshake_from_wit {
    ($E:ident, $h:expr) => {{
        let h = $h;
        $crate::Handshake {
            version: h.version.clone(),
            cipher: h.cipher.clone(),
            alpn: h.alpn.clone(),
            group: h.group.clone(),
            handshake_ns: h.handshake_ns,
            chain: h
                .chain
                .iter()
                .map(|c| $crate::CertInfo {
                    subject: c.subject.clone(),
                    issuer: c.issuer.clone(),
                    sans: c.sans.clone(),
                    serial: c.serial.clone(),
                    not_before: c.not_before,
                    not_after: c.not_after,
                    fingerprint_sha256: c.fingerprint_sha256.clone(),
                    key_type: c.key_type.clone(),
                    key_bits: c.key_bits,
                    self_signed: c.self_signed,
                    parse_error: c.parse_error.clone(),
                })
                .collect(),
            verification: $crate::Verification {
                error: h.verify_error.map(|e| match e {
                    $E::Expired => $crate::VerifyReason::Expired,
                    $E::NotYetValid => $crate::VerifyReason::NotYetValid,
                    $E::UnknownIssuer => $crate::VerifyReason::UnknownIssuer,
                    $E::NameMismatch => $crate::VerifyReason::NameMismatch,
                    $E::SelfSigned => $crate::VerifyReason::SelfSigned,
                    $E::BadSignature => $crate::VerifyReason::BadSignature,
                    $E::Malformed => $crate::VerifyReason::Malformed,
                    $E::Revoked => $crate::VerifyReason::Revoked,
                    $E::WrongPurpose => $crate::VerifyReason::WrongPurpose,
                    $E::Other => $crate::VerifyReason::Other,
                }),
                detail: h.verify_detail.clone(),
            },
        }
    }};
}

/// A WIT `handshake` of any bindings from `tls_proto::Handshake`; `$H`, `$C`
/// and `$E` are those bindings' `handshake`, `certificate` and `verify-error`.
#[macro_export]
macro_rules! handshake_to_wit {
    ($H:ident, $C:ident, $E:ident, $h:expr) => {{
        let h: &$crate::Handshake = $h;
        $H {
            version: h.version.clone(),
            cipher: h.cipher.clone(),
            alpn: h.alpn.clone(),
            group: h.group.clone(),
            handshake_ns: h.handshake_ns,
            chain: h
                .chain
                .iter()
                .map(|c| $C {
                    subject: c.subject.clone(),
                    issuer: c.issuer.clone(),
                    sans: c.sans.clone(),
                    serial: c.serial.clone(),
                    not_before: c.not_before,
                    not_after: c.not_after,
                    fingerprint_sha256: c.fingerprint_sha256.clone(),
                    key_type: c.key_type.clone(),
                    key_bits: c.key_bits,
                    self_signed: c.self_signed,
                    parse_error: c.parse_error.clone(),
                })
                .collect(),
            verify_error: h.verification.error.map(|e| match e {
                $crate::VerifyReason::Expired => $E::Expired,
                $crate::VerifyReason::NotYetValid => $E::NotYetValid,
                $crate::VerifyReason::UnknownIssuer => $E::UnknownIssuer,
                $crate::VerifyReason::NameMismatch => $E::NameMismatch,
                $crate::VerifyReason::SelfSigned => $E::SelfSigned,
                $crate::VerifyReason::BadSignature => $E::BadSignature,
                $crate::VerifyReason::Malformed => $E::Malformed,
                $crate::VerifyReason::Revoked => $E::Revoked,
                $crate::VerifyReason::WrongPurpose => $E::WrongPurpose,
                $crate::VerifyReason::Other => $E::Other,
            }),
            verify_detail: h.verification.detail.clone(),
        }
    }};
}

/// `tls_proto::text::TlsReport` from a WIT `tls-report` of any bindings.
#[macro_export]
macro_rules! report_from_wit {
    ($E:ident, $r:expr) => {{
        let r = $r;
        $crate::text::TlsReport {
            target: r.target.clone(),
            server_name: r.server_name.clone(),
            connect_ns: r.connect_ns,
            handshake: $crate::handshake_from_wit!($E, &r.handshake),
            now: r.now,
        }
    }};
}

/// The kind (WIT case name) and message of a `tls-probe-error` of any bindings.
#[macro_export]
macro_rules! tls_probe_error {
    ($Err:ident, $e:expr) => {
        match $e {
            $Err::InvalidRequest(m) => ("invalid-request", m.clone()),
            $Err::NameNotFound(m) => ("name-not-found", m.clone()),
            $Err::Connect(m) => ("connect", m.clone()),
            $Err::Timeout((m, _)) => ("timeout", m.clone()),
            $Err::HandshakeFailed((m, _)) => ("handshake-failed", m.clone()),
        }
    };
}
