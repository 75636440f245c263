//! A certificate verifier that never hides the chain: it runs webpki's
//! verification, records the verdict (and the chain, even when the handshake
//! fails later), and lets the handshake go on, so the probe reports every
//! fact of a bad certificate. The handshake signatures are still checked
//! against the leaf's key. Callers decide what a failed verdict means: the
//! HTTP probe sends nothing over a connection whose chain failed (unless told
//! `insecure`), the TLS probe reports it.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// Why a chain did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyReason {
    /// A certificate's not-after is in the past.
    Expired,
    /// A certificate's not-before is in the future.
    NotYetValid,
    /// No path to a trusted root.
    UnknownIssuer,
    /// The leaf is not for the name asked for.
    NameMismatch,
    /// The leaf signed itself and is not a trusted root.
    SelfSigned,
    /// A signature in the chain does not verify.
    BadSignature,
    /// A certificate could not be parsed.
    Malformed,
    /// Revoked (by a CRL given to the verifier).
    Revoked,
    /// Not valid for TLS server authentication (extended key usage).
    WrongPurpose,
    /// Anything else webpki refused.
    Other,
}

impl VerifyReason {
    /// The label value (`probe_tls_verify_error{reason}`) and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyReason::Expired => "expired",
            VerifyReason::NotYetValid => "not-yet-valid",
            VerifyReason::UnknownIssuer => "unknown-issuer",
            VerifyReason::NameMismatch => "name-mismatch",
            VerifyReason::SelfSigned => "self-signed",
            VerifyReason::BadSignature => "bad-signature",
            VerifyReason::Malformed => "malformed",
            VerifyReason::Revoked => "revoked",
            VerifyReason::WrongPurpose => "wrong-purpose",
            VerifyReason::Other => "other",
        }
    }

    /// Every reason, for metrics that list them all.
    pub const ALL: [VerifyReason; 10] = [
        VerifyReason::Expired,
        VerifyReason::NotYetValid,
        VerifyReason::UnknownIssuer,
        VerifyReason::NameMismatch,
        VerifyReason::SelfSigned,
        VerifyReason::BadSignature,
        VerifyReason::Malformed,
        VerifyReason::Revoked,
        VerifyReason::WrongPurpose,
        VerifyReason::Other,
    ];

    /// From the reason's name.
    pub fn parse(s: &str) -> Option<VerifyReason> {
        VerifyReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The reason for webpki's `error` about a chain whose leaf is self-signed or not.
    pub fn of(error: &Error, leaf_self_signed: bool) -> VerifyReason {
        match error {
            Error::InvalidCertificate(c) => match c {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    VerifyReason::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    VerifyReason::NotYetValid
                }
                CertificateError::UnknownIssuer if leaf_self_signed => VerifyReason::SelfSigned,
                CertificateError::UnknownIssuer => VerifyReason::UnknownIssuer,
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => VerifyReason::NameMismatch,
                CertificateError::BadSignature => VerifyReason::BadSignature,
                CertificateError::BadEncoding => VerifyReason::Malformed,
                CertificateError::Revoked => VerifyReason::Revoked,
                CertificateError::InvalidPurpose
                | CertificateError::InvalidPurposeContext { .. } => VerifyReason::WrongPurpose,
                // A self-signed certificate marked CA (as `openssl req -x509` makes them).
                CertificateError::Other(o)
                    if leaf_self_signed && format!("{o:?}").contains("CaUsedAsEndEntity") =>
                {
                    VerifyReason::SelfSigned
                }
                _ => VerifyReason::Other,
            },
            _ => VerifyReason::Other,
        }
    }
}

/// What verification concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// `None`: the chain verified for the name.
    pub error: Option<VerifyReason>,
    /// webpki's words (empty when verified).
    pub detail: String,
}

impl Verification {
    /// Verified.
    pub fn ok() -> Self {
        Self {
            error: None,
            detail: String::new(),
        }
    }

    /// Whether the chain verified.
    pub fn verified(&self) -> bool {
        self.error.is_none()
    }
}

/// What the verifier saw: the chain as sent and its verdict.
#[derive(Debug, Default)]
pub struct Seen {
    /// The chain in the order the server sent it (leaf first), DER.
    pub chain: Vec<Vec<u8>>,
    /// The verdict, once the server's certificates arrived.
    pub verdict: Option<Verification>,
}

/// The recording verifier.
#[derive(Debug)]
pub struct Recording {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// Why there is no webpki verifier (no trust roots).
    no_roots: String,
    algorithms: WebPkiSupportedAlgorithms,
    seen: Arc<Mutex<Seen>>,
}

impl Recording {
    /// A verifier trusting `roots` (DER); `seen` receives what it saw.
    pub fn new(
        provider: &Arc<CryptoProvider>,
        roots: &[Vec<u8>],
        seen: Arc<Mutex<Seen>>,
    ) -> (Self, Vec<String>) {
        let mut store = RootCertStore::empty();
        let mut rejected = Vec::new();
        for (i, der) in roots.iter().enumerate() {
            if let Err(e) = store.add(CertificateDer::from(der.clone())) {
                rejected.push(format!("trust root {} skipped: {e}", i + 1));
            }
        }
        let (webpki, no_roots) = if store.is_empty() {
            (None, "no trust roots were given (--ca FILE)".to_string())
        } else {
            match WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
            {
                Ok(v) => (Some(v), String::new()),
                Err(e) => (None, format!("the trust roots are unusable: {e}")),
            }
        };
        let verifier = Self {
            webpki,
            no_roots,
            algorithms: provider.signature_verification_algorithms,
            seen,
        };
        (verifier, rejected)
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let leaf_self_signed = crate::CertInfo::from_der(end_entity).self_signed;
        let verdict = match &self.webpki {
            None => Verification {
                error: Some(if leaf_self_signed {
                    VerifyReason::SelfSigned
                } else {
                    VerifyReason::UnknownIssuer
                }),
                detail: self.no_roots.clone(),
            },
            Some(v) => match v.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(_) => Verification::ok(),
                Err(e) => Verification {
                    error: Some(VerifyReason::of(
                        &e,
                        leaf_self_signed && intermediates.is_empty(),
                    )),
                    detail: e.to_string(),
                },
            },
        };
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        seen.verdict = Some(verdict);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
