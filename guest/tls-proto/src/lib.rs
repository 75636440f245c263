//! netkit's TLS client layer, sans-IO and shared by the components that speak
//! TLS (tls-probe, http-probe, and NTS-KE next) and by netkit, which renders
//! their reports:
//!
//! - [`TlsStream`]: rustls over any [`Transport`] (netio's TCP stream in the
//!   guests), the handshake bounded by the caller's deadline.
//! - [`verify`]: webpki's verdict recorded, never hiding the chain, so a bad
//!   certificate is reported with every fact.
//! - [`CertInfo`]: a certificate's facts from its DER.
//! - [`text`]: the report as text (like `openssl s_client -brief`, plus a chain table) and JSON.

mod cert;
mod client;
pub mod dialog;
#[cfg(feature = "netio")]
mod netio_transport;
pub mod pem;
pub mod starttls;
pub mod text;
mod transport;
pub mod verify;
mod wit;

pub use cert::CertInfo;
pub use client::{Handshake, TlsError, TlsOptions, TlsStream, client_config};
#[cfg(feature = "netio")]
pub use netio_transport::NetioTransport;
pub use rustls;
pub use transport::{Recv, Transport, TransportError};
pub use verify::{Verification, VerifyReason};

/// A TLS protocol version netkit offers (TLS 1.0 and 1.1 are not offered: rustls has neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    /// `TLS 1.2`, as blackbox_exporter's `version` label says it.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        }
    }

    /// From `1.2`, `TLS12`, `TLS 1.2`, `tls1.3`...; TLS 1.0 and 1.1 are refused by name.
    pub fn parse(s: &str) -> Result<TlsVersion, String> {
        let norm: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '_' | 'v' | 'V'))
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.trim_start_matches("tls") {
            "12" => Ok(TlsVersion::Tls12),
            "13" => Ok(TlsVersion::Tls13),
            "10" | "11" => Err(format!(
                "TLS version {s:?} is not supported (rustls offers only TLS 1.2 and 1.3)"
            )),
            _ => Err(format!(
                "{s:?} is not a TLS version: use 1.2 or 1.3 (TLS12, TLS13)"
            )),
        }
    }

    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests;
