//! The `http` and `tls` kinds' settings, under blackbox_exporter's option
//! names: checked when the config is loaded (regexes, status codes, files
//! read, versions), turned into the components' requests at each run.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A secret from the config (a password, a token): never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(redacted)")
    }
}

/// `fail_if_header_matches` / `fail_if_header_not_matches` entries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // blackbox_exporter's keys
pub struct RawHeaderRule {
    pub header: String,
    pub regexp: String,
    #[serde(default)]
    pub allow_missing: bool,
}

/// `tls_config = { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // blackbox_exporter's keys
pub struct RawTlsConfig {
    pub ca_file: Option<String>,
    pub server_name: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
}

/// `basic_auth = { username, password | password_file }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // blackbox_exporter's keys
pub struct RawBasicAuth {
    pub username: String,
    pub password: Option<String>,
    pub password_file: Option<String>,
}

/// `authorization = { type, credentials | credentials_file }` (type defaults to Bearer).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // blackbox_exporter's keys
pub struct RawAuthorization {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub credentials: Option<String>,
    pub credentials_file: Option<String>,
}

/// The raw keys, as they appear in a `[[probe]]` table.
#[derive(Debug, Default)]
#[allow(missing_docs)] // blackbox_exporter's keys, documented in its CONFIGURATION.md and the README
pub struct RawWeb {
    pub valid_status_codes: Vec<u16>,
    pub valid_http_versions: Vec<String>,
    pub method: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub body_size_limit: Option<String>,
    pub compression: Option<String>,
    pub follow_redirects: Option<bool>,
    pub fail_if_ssl: bool,
    pub fail_if_not_ssl: bool,
    pub fail_if_body_matches_regexp: Vec<String>,
    pub fail_if_body_not_matches_regexp: Vec<String>,
    pub fail_if_header_matches: Vec<RawHeaderRule>,
    pub fail_if_header_not_matches: Vec<RawHeaderRule>,
    pub tls_config: Option<RawTlsConfig>,
    pub basic_auth: Option<RawBasicAuth>,
    pub authorization: Option<RawAuthorization>,
}

impl RawWeb {
    /// Whether any key of the http kind was given (they are refused on other kinds).
    pub fn has_http_keys(&self) -> bool {
        !self.valid_status_codes.is_empty()
            || !self.valid_http_versions.is_empty()
            || self.method.is_some()
            || !self.headers.is_empty()
            || self.body.is_some()
            || self.body_size_limit.is_some()
            || self.compression.is_some()
            || self.follow_redirects.is_some()
            || self.fail_if_ssl
            || self.fail_if_not_ssl
            || !self.fail_if_body_matches_regexp.is_empty()
            || !self.fail_if_body_not_matches_regexp.is_empty()
            || !self.fail_if_header_matches.is_empty()
            || !self.fail_if_header_not_matches.is_empty()
            || self.basic_auth.is_some()
            || self.authorization.is_some()
    }
}

/// TLS settings, checked: the roots read, the versions parsed.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)] // blackbox_exporter's keys, documented in its CONFIGURATION.md and the README
pub struct TlsSettings {
    /// Trust anchors (DER): `ca_file`, or the system bundle.
    pub roots: Arc<Vec<Vec<u8>>>,
    pub server_name: Option<String>,
    pub insecure: bool,
    pub min_version: Option<crate::tls::TlsVersion>,
    pub max_version: Option<crate::tls::TlsVersion>,
    /// `cert_file` and `key_file`, read when the config loads.
    pub client_certificate: Option<tls_proto::pem::ClientCertificate>,
}

/// The http kind's settings, checked.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)] // blackbox_exporter's keys, documented in its CONFIGURATION.md and the README
pub struct HttpSettings {
    pub valid_status_codes: Vec<u16>,
    pub valid_http_versions: Vec<String>,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub body_size_limit: u64,
    pub compression: bool,
    pub follow_redirects: bool,
    pub fail_if_ssl: bool,
    pub fail_if_not_ssl: bool,
    pub fail_if_body_matches_regexp: Vec<String>,
    pub fail_if_body_not_matches_regexp: Vec<String>,
    pub fail_if_header_matches: Vec<(String, String, bool)>,
    pub fail_if_header_not_matches: Vec<(String, String, bool)>,
    /// The Authorization header's value.
    pub authorization: Option<Secret>,
}

fn version(v: &Option<String>, key: &str) -> Result<Option<crate::tls::TlsVersion>, String> {
    v.as_deref()
        .map(|s| {
            tls_proto::TlsVersion::parse(s)
                .map(|v| match v {
                    tls_proto::TlsVersion::Tls12 => crate::tls::TlsVersion::Tls12,
                    tls_proto::TlsVersion::Tls13 => crate::tls::TlsVersion::Tls13,
                })
                .map_err(|e| format!("tls_config.{key}: {e}"))
        })
        .transpose()
}

fn read_secret(base: &Path, file: &str, key: &str) -> Result<Secret, String> {
    let path = base.join(file);
    cli_args::files::read_text(&path, cli_args::files::Kind::Secret)
        .map(|s| Secret(s.trim_end_matches(['\r', '\n']).to_string()))
        .map_err(|e| format!("{key}: {e}"))
}

/// `tls_config`, checked (files relative to the config's directory).
pub fn tls_settings(raw: Option<&RawTlsConfig>, base: &Path) -> Result<TlsSettings, String> {
    let default = RawTlsConfig::default();
    let raw = raw.unwrap_or(&default);
    let ca = raw.ca_file.as_ref().map(|f| base.join(f));
    let roots =
        crate::tls::roots(ca.as_deref()).map_err(|e| format!("tls_config.ca_file: {e:#}"))?;
    Ok(TlsSettings {
        roots: Arc::new(roots),
        server_name: raw.server_name.clone(),
        insecure: raw.insecure_skip_verify,
        min_version: version(&raw.min_version, "min_version")?,
        max_version: version(&raw.max_version, "max_version")?,
        // Both or neither (the block says when one is missing).
        client_certificate: match (&raw.cert_file, &raw.key_file) {
            (Some(c), Some(k)) => {
                crate::tls::client_certificate(Some(&base.join(c)), Some(&base.join(k)))
                    .map_err(|e| format!("tls_config.cert_file/key_file: {e:#}"))?
            }
            _ => None,
        },
    })
}

/// The http kind's keys, checked.
pub fn http_settings(raw: &RawWeb, base: &Path) -> Result<HttpSettings, String> {
    for c in &raw.valid_status_codes {
        if !(100..=599).contains(c) {
            return Err(format!(
                "valid_status_codes: {c} is not an HTTP status (100-599)"
            ));
        }
    }
    // As blackbox: any text loads; one that is never a response's version
    // (netkit speaks HTTP/1.0 and HTTP/1.1 today) never matches.
    let method = raw
        .method
        .clone()
        .unwrap_or_else(|| "GET".into())
        .to_ascii_uppercase();
    http_proto::request::check_method(&method).map_err(|e| format!("method: {e}"))?;
    let mut headers = Vec::new();
    for (k, v) in &raw.headers {
        http_proto::request::check_header(k, v).map_err(|e| format!("headers: {e}"))?;
        headers.push((k.clone(), v.clone()));
    }
    let body_size_limit = match &raw.body_size_limit {
        Some(s) => cli_args::units::size(s, 1).map_err(|e| format!("body_size_limit: {e}"))?,
        None => 10 << 20,
    };
    crate::http::check_max_body(body_size_limit, super::limits::BUILTIN_MEMORY)
        .map_err(|e| format!("body_size_limit: {e}"))?;
    let compression = match raw.compression.as_deref() {
        None | Some("") | Some("gzip") | Some("br") | Some("deflate") => {
            raw.compression.as_deref() != Some("")
        }
        Some(other) => {
            return Err(format!(
                "compression: {other:?}: use \"gzip\", \"br\", \"deflate\" or \"\""
            ));
        }
    };
    let check = |key: &str, res: &[String]| -> Result<(), String> {
        for r in res {
            http_proto::expect::regex(key, r)?;
        }
        Ok(())
    };
    check(
        "fail_if_body_matches_regexp",
        &raw.fail_if_body_matches_regexp,
    )?;
    check(
        "fail_if_body_not_matches_regexp",
        &raw.fail_if_body_not_matches_regexp,
    )?;
    let rules = |key: &str, rs: &[RawHeaderRule]| -> Result<Vec<(String, String, bool)>, String> {
        rs.iter()
            .map(|r| {
                http_proto::expect::regex(key, &r.regexp)?;
                Ok((r.header.clone(), r.regexp.clone(), r.allow_missing))
            })
            .collect()
    };
    let authorization = match (&raw.basic_auth, &raw.authorization) {
        (Some(_), Some(_)) => return Err("give basic_auth or authorization, not both".into()),
        (Some(b), None) => {
            let password = match (&b.password, &b.password_file) {
                (Some(p), None) => Secret(p.clone()),
                (None, Some(f)) => read_secret(base, f, "basic_auth.password_file")?,
                (None, None) => Secret(String::new()),
                (Some(_), Some(_)) => {
                    return Err("basic_auth: password or password_file, not both".into());
                }
            };
            let pair = format!("{}:{}", b.username, password.0);
            Some(Secret(format!(
                "Basic {}",
                cli_args::flags::base64(pair.as_bytes())
            )))
        }
        (None, Some(a)) => {
            let creds = match (&a.credentials, &a.credentials_file) {
                (Some(c), None) => Secret(c.clone()),
                (None, Some(f)) => read_secret(base, f, "authorization.credentials_file")?,
                _ => return Err("authorization: give credentials or credentials_file".into()),
            };
            Some(Secret(format!(
                "{} {}",
                a.kind.as_deref().unwrap_or("Bearer"),
                creds.0.trim()
            )))
        }
        (None, None) => None,
    };
    Ok(HttpSettings {
        valid_status_codes: raw.valid_status_codes.clone(),
        valid_http_versions: raw.valid_http_versions.clone(),
        method,
        headers,
        body: raw.body.clone().map(String::into_bytes),
        body_size_limit,
        compression,
        follow_redirects: raw.follow_redirects.unwrap_or(true),
        fail_if_ssl: raw.fail_if_ssl,
        fail_if_not_ssl: raw.fail_if_not_ssl,
        fail_if_body_matches_regexp: raw.fail_if_body_matches_regexp.clone(),
        fail_if_body_not_matches_regexp: raw.fail_if_body_not_matches_regexp.clone(),
        fail_if_header_matches: rules("fail_if_header_matches", &raw.fail_if_header_matches)?,
        fail_if_header_not_matches: rules(
            "fail_if_header_not_matches",
            &raw.fail_if_header_not_matches,
        )?,
        authorization,
    })
}

impl HttpSettings {
    /// The checks (regexes were checked at load, so they compile).
    pub fn checks(&self) -> http_proto::expect::Checks {
        use http_proto::expect::{Checks, HeaderRule, StatusSpec, regex};
        let re = |r: &String| regex("", r).expect("checked at load");
        let rule = |(h, r, m): &(String, String, bool)| HeaderRule {
            header: h.clone(),
            regexp: re(r),
            allow_missing: *m,
        };
        Checks {
            status: StatusSpec::of_codes(&self.valid_status_codes),
            versions: self.valid_http_versions.clone(),
            fail_if_ssl: self.fail_if_ssl,
            fail_if_not_ssl: self.fail_if_not_ssl,
            body_matches: self.fail_if_body_matches_regexp.iter().map(re).collect(),
            body_not_matches: self
                .fail_if_body_not_matches_regexp
                .iter()
                .map(re)
                .collect(),
            header_matches: self.fail_if_header_matches.iter().map(rule).collect(),
            header_not_matches: self.fail_if_header_not_matches.iter().map(rule).collect(),
        }
    }
}
