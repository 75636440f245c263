//! The facts of one certificate as sent, read from its DER whether or not it
//! verified (and, for one that will not even parse, the parse error).

use serde::Serialize;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// One certificate of a chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    /// Subject, RFC 4514 (`CN=leaf,O=netkit`), like Go's and `openssl -nameopt RFC2253`.
    pub subject: String,
    /// Issuer, the same way.
    pub issuer: String,
    /// Subject alternative names: DNS names, IP addresses, e-mail addresses, URIs.
    pub sans: Vec<String>,
    /// Serial number, lower-case hex without leading zeros.
    pub serial: String,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// Valid until (Unix seconds).
    pub not_after: i64,
    /// SHA-256 of the DER, lower-case hex.
    pub fingerprint_sha256: String,
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA` or the algorithm's OID.
    pub key_type: String,
    /// The key's size in bits (0 when unknown).
    pub key_bits: u32,
    /// Subject and issuer are the same name.
    pub self_signed: bool,
    /// Why the DER could not be read (every other field is then empty), else `None`.
    pub parse_error: Option<String>,
}

impl CertInfo {
    /// Read `der`; never fails: an unreadable certificate says why in `parse_error`.
    pub fn from_der(der: &[u8]) -> CertInfo {
        let fingerprint_sha256 =
            crate::hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref());
        let cert = match X509Certificate::from_der(der) {
            Ok((_, cert)) => cert,
            Err(e) => {
                return CertInfo {
                    fingerprint_sha256,
                    parse_error: Some(format!("malformed certificate: {e}")),
                    ..CertInfo::default()
                };
            }
        };
        let (key_type, key_bits) = key_of(&cert);
        CertInfo {
            subject: name(cert.subject()),
            issuer: name(cert.issuer()),
            sans: sans(&cert),
            serial: serial(cert.raw_serial()),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            fingerprint_sha256,
            key_type,
            key_bits,
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            parse_error: None,
        }
    }

    /// The first common name of the subject, or the whole subject.
    pub fn common_name(&self) -> &str {
        self.subject
            .split(',')
            .find_map(|part| part.strip_prefix("CN="))
            .unwrap_or(&self.subject)
    }
}

/// RFC 4514: the last RDN first, `,` between RDNs, `+` inside one.
fn name(n: &X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let rdns: Vec<String> = n
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let key = x509_parser::objects::oid2abbrev(atv.attr_type(), registry)
                        .map(str::to_string)
                        .unwrap_or_else(|_| atv.attr_type().to_id_string());
                    let value = atv
                        .as_str()
                        .map(|v| probe_proto::escape_controls(&escape(v)))
                        .unwrap_or_else(|_| format!("#{}", crate::hex(atv.attr_value().data)));
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && matches!(c, '#' | ' '))
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .map(|g| match g {
            GeneralName::DNSName(d) => probe_proto::escape_controls(d),
            GeneralName::RFC822Name(m) => probe_proto::escape_controls(m),
            GeneralName::URI(u) => probe_proto::escape_controls(u),
            GeneralName::IPAddress(ip) => ip_text(ip),
            other => probe_proto::escape_controls(&format!("{other:?}")),
        })
        .collect()
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(b).unwrap()).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap()).to_string(),
        _ => format!("#{}", crate::hex(b)),
    }
}

fn serial(raw: &[u8]) -> String {
    let hex = crate::hex(raw);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

fn key_of(cert: &X509Certificate<'_>) -> (String, u32) {
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    match (oid.as_str(), spki.parsed()) {
        (_, Ok(PublicKey::RSA(rsa))) => ("RSA".into(), rsa.key_size() as u32),
        (_, Ok(PublicKey::EC(point))) => ("EC".into(), point.key_size() as u32),
        (_, Ok(PublicKey::DSA(_))) => ("DSA".into(), 0),
        ("1.3.101.112", _) => ("Ed25519".into(), 256),
        ("1.3.101.113", _) => ("Ed448".into(), 456),
        (oid, _) => (oid.to_string(), 0),
    }
}
