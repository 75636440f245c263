//! `--web.config.file`: the web configuration of Prometheus and its exporters
//! (exporter-toolkit's YAML keys, so an operator's existing file works
//! unchanged): `tls_server_config` (server certificate, client certificates,
//! versions, cipher suites, curves), `http_server_config` (response headers)
//! and `basic_auth_users` (bcrypt hashes). Relative paths are relative to the
//! file's directory, as exporter-toolkit reads them.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebConfig {
    tls_server_config: Option<RawTls>,
    http_server_config: Option<RawHttp>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: Option<String>,
    key_file: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    client_auth_type: Option<String>,
    client_ca_file: Option<String>,
    client_ca: Option<String>,
    client_allowed_sans: Option<Vec<String>>,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
    curve_preferences: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    http2: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// A checked web configuration.
#[derive(Clone)]
pub struct WebConfig {
    /// TLS, if `tls_server_config` names a certificate.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Whether clients must present a verified certificate (for the logs).
    pub client_auth: &'static str,
    /// Basic-auth users and their bcrypt hashes (empty: no authentication).
    pub users: BTreeMap<String, String>,
    /// Headers added to every response.
    pub headers: Vec<(axum::http::HeaderName, axum::http::HeaderValue)>,
}

impl Default for WebConfig {
    /// Plain HTTP, no authentication: what no `--web.config.file` means.
    fn default() -> Self {
        Self {
            tls: None,
            client_auth: "NoClientCert",
            users: BTreeMap::new(),
            headers: Vec::new(),
        }
    }
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("client_auth", &self.client_auth)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Read and check the web config at `path`; errors name the file and the key.
pub fn load(path: &Path) -> Result<WebConfig, String> {
    let text = cli_args::files::read_text(path, cli_args::files::Kind::Config)
        .map_err(|e| format!("the web config: {e}"))?;
    parse(&text, path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Check web config `text` whose relative paths are relative to `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<WebConfig, String> {
    let raw: RawWebConfig = if text.trim().is_empty() {
        RawWebConfig::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?
    };
    let mut web = WebConfig::default();
    if let Some(tls) = raw.tls_server_config {
        let (config, auth) = tls_config(tls, dir)?;
        web.tls = config;
        web.client_auth = auth;
    }
    for (user, hash) in raw.basic_auth_users.unwrap_or_default() {
        bcrypt_cost(&hash).map_err(|e| format!("basic_auth_users: {user:?}: {e}"))?;
        web.users.insert(user, hash);
    }
    if let Some(http) = raw.http_server_config {
        // netkit serves HTTP/1.1 only; http2 (true by default in
        // exporter-toolkit) is accepted so that existing files load.
        let _ = http.http2;
        for (name, value) in http.headers.unwrap_or_default() {
            let n = axum::http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                format!("http_server_config.headers: {name:?} is not a header name")
            })?;
            let v = axum::http::HeaderValue::from_str(&value).map_err(|_| {
                format!("http_server_config.headers: {name}: {value:?} is not a header value")
            })?;
            let reserved = [
                "authorization",
                "www-authenticate",
                "content-type",
                "content-length",
            ];
            if reserved.contains(&n.as_str()) {
                return Err(format!(
                    "http_server_config.headers: {name} is set by netkit itself"
                ));
            }
            web.headers.push((n, v));
        }
    }
    Ok(web)
}

/// The cost of a bcrypt hash, or why it is none (`$2a$`, `$2b$`, `$2y$`).
fn bcrypt_cost(hash: &str) -> Result<u32, String> {
    let parts: Vec<&str> = hash.split('$').collect();
    match parts.as_slice() {
        ["", "2a" | "2b" | "2y" | "2x", cost, rest] if rest.len() == 53 => cost
            .parse::<u32>()
            .ok()
            .filter(|c| (4..=31).contains(c))
            .ok_or_else(|| format!("{cost:?} is not a bcrypt cost (4-31)")),
        _ => Err("not a bcrypt hash (make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')".into()),
    }
}

fn file(dir: &Path, p: &str) -> PathBuf {
    dir.join(p)
}

fn certs(
    file_key: &str,
    path: Option<&String>,
    inline: Option<&String>,
    dir: &Path,
) -> Result<Option<Vec<CertificateDer<'static>>>, String> {
    let certs: Result<Vec<_>, _> = match (path, inline) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "tls_server_config: give {file_key} or its inline form, not both"
            ));
        }
        (Some(p), None) => {
            let pem = cli_args::files::read(&file(dir, p), cli_args::files::Kind::Pem)
                .map_err(|e| format!("tls_server_config.{file_key}: {e}"))?;
            CertificateDer::pem_slice_iter(&pem)
                .map(|c| c.map(|c| c.into_owned()))
                .collect()
        }
        (None, Some(text)) => CertificateDer::pem_slice_iter(text.as_bytes()).collect(),
        (None, None) => return Ok(None),
    };
    let certs = certs.map_err(|e| format!("tls_server_config.{file_key}: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "tls_server_config.{file_key}: no PEM certificate in it"
        ));
    }
    Ok(Some(certs))
}

fn version(key: &str, v: &str) -> Result<u8, String> {
    match v {
        "TLS12" => Ok(12),
        "TLS13" => Ok(13),
        "TLS10" | "TLS11" => Err(format!(
            "tls_server_config.{key}: {v} is not offered (TLS 1.0 and 1.1 are broken): use TLS12 or TLS13"
        )),
        other => Err(format!(
            "tls_server_config.{key}: {other:?}: use TLS12 or TLS13"
        )),
    }
}

/// The ring provider with the suites and curves the config names.
fn provider(t: &RawTls) -> Result<CryptoProvider, String> {
    let mut p = rustls::crypto::ring::default_provider();
    if let Some(names) = &t.cipher_suites {
        // As in Go, the list picks TLS 1.2 suites; TLS 1.3's are always on.
        let all = p.cipher_suites.clone();
        let name = |s: &rustls::SupportedCipherSuite| format!("{:?}", s.suite());
        for n in names {
            if !all.iter().any(|s| name(s) == *n) {
                return Err(format!(
                    "tls_server_config.cipher_suites: {n:?} is not offered; one of {}",
                    all.iter()
                        .filter(|s| s.tls13().is_none())
                        .map(name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        p.cipher_suites
            .retain(|s| s.tls13().is_some() || names.contains(&name(s)));
    }
    if let Some(curves) = &t.curve_preferences {
        let mut groups = Vec::new();
        for c in curves {
            let want = match c.as_str() {
                "X25519" => rustls::NamedGroup::X25519,
                "CurveP256" => rustls::NamedGroup::secp256r1,
                "CurveP384" => rustls::NamedGroup::secp384r1,
                other => {
                    return Err(format!(
                        "tls_server_config.curve_preferences: {other:?} is not offered; use X25519, CurveP256 or CurveP384"
                    ));
                }
            };
            if let Some(g) = p.kx_groups.iter().find(|g| g.name() == want) {
                groups.push(*g);
            }
        }
        p.kx_groups = groups;
    }
    Ok(p)
}

type Tls = (Option<Arc<rustls::ServerConfig>>, &'static str);

fn tls_config(t: RawTls, dir: &Path) -> Result<Tls, String> {
    if t.client_allowed_sans
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(
            "tls_server_config.client_allowed_sans is not supported by netkit: give the client certificates a CA of their own in client_ca_file instead".into(),
        );
    }
    let auth = t.client_auth_type.as_deref().unwrap_or("NoClientCert");
    let ca = certs(
        "client_ca_file",
        t.client_ca_file.as_ref(),
        t.client_ca.as_ref(),
        dir,
    )?;
    let auth: &'static str = match auth {
        "NoClientCert" => "NoClientCert",
        "VerifyClientCertIfGiven" => "VerifyClientCertIfGiven",
        "RequireAndVerifyClientCert" => "RequireAndVerifyClientCert",
        "RequestClientCert" | "RequireAnyClientCert" => {
            return Err(format!(
                "tls_server_config.client_auth_type: {auth} accepts certificates nobody verified; use VerifyClientCertIfGiven or RequireAndVerifyClientCert with client_ca_file"
            ));
        }
        other => {
            return Err(format!(
                "tls_server_config.client_auth_type: {other:?}: one of NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"
            ));
        }
    };
    if ca.is_some() && auth == "NoClientCert" {
        return Err("tls_server_config: client_ca_file is set but client_auth_type is NoClientCert (set it to RequireAndVerifyClientCert)".into());
    }
    if ca.is_none() && auth != "NoClientCert" {
        return Err(format!(
            "tls_server_config: client_auth_type {auth} needs client_ca_file"
        ));
    }
    let chain = certs("cert_file", t.cert_file.as_ref(), t.cert.as_ref(), dir)?;
    let key = match (&t.key_file, &t.key) {
        (Some(_), Some(_)) => {
            return Err("tls_server_config: give key_file or key, not both".into());
        }
        (Some(p), None) => Some(
            PrivateKeyDer::from_pem_slice(
                &cli_args::files::read(&file(dir, p), cli_args::files::Kind::Pem)
                    .map_err(|e| format!("tls_server_config.key_file: {e}"))?,
            )
            .map_err(|e| format!("tls_server_config.key_file: {p}: {e}"))?
            .clone_key(),
        ),
        (None, Some(k)) => Some(
            PrivateKeyDer::from_pem_slice(k.as_bytes())
                .map_err(|e| format!("tls_server_config.key: {e}"))?,
        ),
        (None, None) => None,
    };
    let (chain, key) = match (chain, key) {
        (None, None) if auth == "NoClientCert" => return Ok((None, auth)),
        (Some(c), Some(k)) => (c, k),
        (None, _) => return Err("tls_server_config: cert_file is missing".into()),
        (_, None) => return Err("tls_server_config: key_file is missing".into()),
    };
    let min = version("min_version", t.min_version.as_deref().unwrap_or("TLS12"))?;
    let max = version("max_version", t.max_version.as_deref().unwrap_or("TLS13"))?;
    if min > max {
        return Err("tls_server_config: min_version is above max_version".into());
    }
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [(12, &rustls::version::TLS12), (13, &rustls::version::TLS13)]
            .into_iter()
            .filter(|(v, _)| (min..=max).contains(v))
            .map(|(_, p)| p)
            .collect();
    let provider = Arc::new(provider(&t)?);
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let builder = match ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in ca {
                roots
                    .add(c)
                    .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?;
            }
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let v = if auth == "VerifyClientCertIfGiven" {
                v.allow_unauthenticated()
            } else {
                v
            };
            builder.with_client_cert_verifier(
                v.build()
                    .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?,
            )
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        format!("tls_server_config: the certificate and key do not go together: {e}")
    })?;
    config.ignore_client_order = t.prefer_server_cipher_suites.unwrap_or(true);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Some(Arc::new(config)), auth))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG";

    #[test]
    fn an_empty_file_means_plain_http_without_auth() {
        let w = parse("", Path::new(".")).unwrap();
        assert!(w.tls.is_none() && w.users.is_empty());
    }

    #[test]
    fn basic_auth_users_need_bcrypt_hashes() {
        let w = parse(
            &format!("basic_auth_users:\n  alice: {HASH}\n"),
            Path::new("."),
        )
        .unwrap();
        assert_eq!(w.users.len(), 1);
        let e = parse("basic_auth_users:\n  alice: secret\n", Path::new(".")).unwrap_err();
        assert!(e.contains("alice") && e.contains("htpasswd"), "{e}");
    }

    #[test]
    fn unknown_keys_and_weak_settings_are_refused() {
        let e = parse("tls_server_config:\n  cert_fil: x\n", Path::new(".")).unwrap_err();
        assert!(e.contains("cert_fil"), "{e}");
        let e = parse(
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n",
            Path::new("/nonexistent"),
        )
        .unwrap_err();
        assert!(e.contains("cert_file") || e.contains("TLS10"), "{e}");
        let e = parse(
            "tls_server_config:\n  client_auth_type: RequireAnyClientCert\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.contains("RequireAndVerifyClientCert"), "{e}");
        let e = parse(
            "tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.contains("needs client_ca_file"), "{e}");
    }

    #[test]
    fn headers_are_checked() {
        let w = parse(
            "http_server_config:\n  http2: true\n  headers:\n    X-Frame-Options: deny\n",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(w.headers.len(), 1);
        assert!(
            parse(
                "http_server_config:\n  headers:\n    Content-Type: x\n",
                Path::new(".")
            )
            .is_err()
        );
    }
}
