//! Trust roots as data: PEM bundles to the DER list the components take.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

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
