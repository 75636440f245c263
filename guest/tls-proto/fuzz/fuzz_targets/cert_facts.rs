//! Any bytes as a certificate a server sent, and as a PEM bundle: facts or a
//! parse error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let info = tls_proto::CertInfo::from_der(data);
    assert_eq!(info.fingerprint_sha256.len(), 64);
    let _ = tls_proto::pem::certificates(data);
    let _ = tls_proto::starttls::parse_reply(data);
});
