//! tls-proto's types to the WIT records and back (the text is rendered from tls-proto's).

use crate::exports::netkit::diag::tls_probe::{TlsProbeError, TlsReport};
use crate::netkit::diag::tls_types::{
    Certificate, ClientCertificate, Handshake, TlsVersion, VerifyError,
};

pub fn version(v: TlsVersion) -> tls_proto::TlsVersion {
    match v {
        TlsVersion::Tls12 => tls_proto::TlsVersion::Tls12,
        TlsVersion::Tls13 => tls_proto::TlsVersion::Tls13,
    }
}

pub fn version_arg(v: cli_args::flags::TlsVersionArg) -> TlsVersion {
    match v {
        cli_args::flags::TlsVersionArg::Tls12 => TlsVersion::Tls12,
        cli_args::flags::TlsVersionArg::Tls13 => TlsVersion::Tls13,
    }
}

pub fn wall_now() -> i64 {
    netio::wasip2::clocks::wall_clock::now().seconds as i64
}

pub fn handshake(h: &tls_proto::Handshake) -> Handshake {
    tls_proto::handshake_to_wit!(Handshake, Certificate, VerifyError, h)
}

pub fn report(r: &TlsReport) -> tls_proto::text::TlsReport {
    tls_proto::report_from_wit!(VerifyError, r)
}

pub fn error(e: &TlsProbeError) -> (&'static str, String) {
    tls_proto::tls_probe_error!(TlsProbeError, e)
}

pub fn client_certificate(c: &ClientCertificate) -> tls_proto::pem::ClientCertificate {
    tls_proto::pem::ClientCertificate {
        chain: c.chain.clone(),
        key_pem: c.key_pem.clone(),
    }
}

pub fn client_certificate_to_wit(c: &tls_proto::pem::ClientCertificate) -> ClientCertificate {
    ClientCertificate {
        chain: c.chain.clone(),
        key_pem: c.key_pem.clone(),
    }
}
