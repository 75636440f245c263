//! Trust roots as data: PEM bundles to the DER list the components take.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Every certificate in a PEM bundle, DER; an error names the first bad block.
pub fn certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
        match item {
            Ok(der) => out.push(der.as_ref().to_vec()),
            Err(e) => return Err(format!("certificate {} of the bundle: {e}", i + 1)),
        }
    }
    if out.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into());
    }
    Ok(out)
}

/// Where a component run by `wasmtime run` finds the system's trust roots (give `--dir /etc/ssl/certs`).
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Trust roots read by a component itself (under `wasmtime run`): `ca`, or the
/// system bundle. No bundle and none asked for: no roots (verification then says so).
pub fn read_roots(ca: Option<&std::path::Path>) -> Result<Vec<Vec<u8>>, String> {
    let path = ca
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| SYSTEM_BUNDLE.into());
    match std::fs::read(&path) {
        Ok(pem) => certificates(&pem).map_err(|e| format!("{}: {e}", path.display())),
        Err(_) if ca.is_none() => Ok(Vec::new()),
        Err(e) => Err(format!(
            "cannot read {}: {e} (under wasmtime run, give its directory: --dir DIR)",
            path.display()
        )),
    }
}

/// A client certificate (mTLS): its chain (DER, leaf first) and its private key (PEM).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// DER, the leaf first.
    pub chain: Vec<Vec<u8>>,
    /// PEM: PKCS#8, PKCS#1 or SEC1.
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        write!(
            f,
            "ClientCertificate({} certificates, key <secret>)",
            self.chain.len()
        )
    }
}

impl ClientCertificate {
    /// From the certificate file's and the key file's PEM, both checked.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        let chain = certificates(cert_pem).map_err(|e| format!("the certificate: {e}"))?;
        let c = ClientCertificate {
            chain,
            key_pem: key_pem.to_vec(),
        };
        c.parts()?;
        Ok(c)
    }

    /// rustls's form: the chain and the key.
    pub fn parts(&self) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem).map_err(|e| {
            format!("the private key: {e} (give a PEM key: PKCS#8, PKCS#1 or SEC1)")
        })?;
        let chain = self
            .chain
            .iter()
            .map(|d| CertificateDer::from(d.clone()))
            .collect();
        Ok((chain, key))
    }
}

/// `--cert FILE --key FILE` read by a component itself (under `wasmtime run`, give `--dir`).
pub fn read_client_certificate(
    cert: Option<&std::path::Path>,
    key: Option<&std::path::Path>,
) -> Result<Option<ClientCertificate>, String> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(c), Some(k)) => (c, k),
        _ => return Err("--cert and --key go together: give both".into()),
    };
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| {
            format!(
                "cannot read {}: {e} (under wasmtime run, give its directory: --dir DIR)",
                p.display()
            )
        })
    };
    ClientCertificate::from_pem(&read(cert)?, &read(key)?)
        .map(Some)
        .map_err(|e| format!("{} / {}: {e}", cert.display(), key.display()))
}
