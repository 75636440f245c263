//! Runs of the `http` and `tls` kinds and their metric values, under
//! blackbox_exporter's names and label sets; every TLS metric is set from the
//! chain as sent, whatever the verification result.

use super::config::ProbeConfig;
use super::result::RunResult;
use super::target::Target;
use crate::http::{Header, HttpError, HttpProber, HttpRequest, ResolveOverride};
use crate::runtime::Sandbox;
use crate::tls::{TlsOptions, TlsProbeError, TlsProbeOptions, TlsProber};
use anyhow::Result;
use std::net::SocketAddr;
use std::time::Duration;

/// The http prober's metrics, with their help.
pub const HTTP_VALUES: &[(&str, &str)] = &[
    ("probe_http_status_code", "Response HTTP status code"),
    (
        "probe_http_content_length",
        "Length of the HTTP content response (the Content-Length header; -1 without one)",
    ),
    (
        "probe_http_uncompressed_body_length",
        "Length of the uncompressed response body",
    ),
    ("probe_http_redirects", "The number of redirects"),
    (
        "probe_http_ssl",
        "Whether the final response came over TLS (1) or not (0)",
    ),
    (
        "probe_http_version",
        "The version of HTTP of the final response",
    ),
    (
        "probe_http_last_modified_timestamp_seconds",
        "The Last-Modified HTTP response header as Unix time",
    ),
];

/// The http prober's labelled metrics.
pub const HTTP_LABELED: &[(&str, &str)] = &[(
    "probe_http_duration_seconds",
    "Duration of the HTTP request by phase, summed over all redirects",
)];

/// The TLS metrics of any handshake (http, tcp with TLS, tls), with their help.
pub const TLS_VALUES: &[(&str, &str)] = &[
    (
        "probe_ssl_earliest_cert_expiry",
        "The earliest expiry (Unix time) in the chain as sent, whether or not it verified",
    ),
    (
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "The earliest expiry (Unix time) in the last chain (the chain as sent: always the server's, never a negative placeholder)",
    ),
    (
        "probe_ssl_leaf_expiry_timestamp_seconds",
        "The leaf certificate's not-after (Unix time)",
    ),
    (
        "probe_ssl_leaf_not_before_timestamp_seconds",
        "The leaf certificate's not-before (Unix time)",
    ),
    (
        "probe_tls_handshake_seconds",
        "How long the TLS handshake took",
    ),
];

/// The TLS labelled metrics.
pub const TLS_LABELED: &[(&str, &str)] = &[
    (
        "probe_ssl_last_chain_info",
        "Facts of the leaf certificate the server sent",
    ),
    ("probe_tls_version_info", "The TLS version negotiated"),
    ("probe_tls_cipher_info", "The TLS cipher suite negotiated"),
    (
        "probe_tls_verify_error",
        "Why the chain did not verify (1), or reason=\"\" with 0 when it did",
    ),
];

type Labeled = Vec<super::result::Labeled>;

fn l(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

/// The TLS metrics of a handshake (values and labelled), whatever its verdict.
pub(super) fn tls_values(
    h: &tls_proto::Handshake,
    values: &mut Vec<(&'static str, f64)>,
    labeled: &mut Labeled,
) {
    let parsed = h.chain.iter().filter(|c| c.parse_error.is_none());
    if let Some(earliest) = parsed.clone().map(|c| c.not_after).min() {
        values.push(("probe_ssl_earliest_cert_expiry", earliest as f64));
        values.push((
            "probe_ssl_last_chain_expiry_timestamp_seconds",
            earliest as f64,
        ));
    }
    if let Some(leaf) = h.chain.first().filter(|c| c.parse_error.is_none()) {
        values.push((
            "probe_ssl_leaf_expiry_timestamp_seconds",
            leaf.not_after as f64,
        ));
        values.push((
            "probe_ssl_leaf_not_before_timestamp_seconds",
            leaf.not_before as f64,
        ));
        labeled.push((
            "probe_ssl_last_chain_info",
            vec![
                l("fingerprint_sha256", leaf.fingerprint_sha256.clone()),
                l("subject", leaf.subject.clone()),
                l("issuer", leaf.issuer.clone()),
                l("subjectalternative", leaf.sans.join(",")),
                l("serialnumber", leaf.serial.clone()),
            ],
            1.0,
        ));
    }
    if h.handshake_ns > 0 {
        values.push(("probe_tls_handshake_seconds", h.handshake_ns as f64 / 1e9));
    }
    if !h.version.is_empty() {
        labeled.push((
            "probe_tls_version_info",
            vec![l("version", h.version.clone())],
            1.0,
        ));
    }
    if !h.cipher.is_empty() {
        labeled.push((
            "probe_tls_cipher_info",
            vec![l("cipher", h.cipher.clone())],
            1.0,
        ));
    }
    let (reason, v) = match h.verification.error {
        Some(r) => (r.as_str(), 1.0),
        None => ("", 0.0),
    };
    labeled.push(("probe_tls_verify_error", vec![l("reason", reason)], v));
}

pub(super) fn tls_options(c: &ProbeConfig) -> TlsOptions {
    let t = c.tls.clone().unwrap_or_default();
    TlsOptions {
        server_name: t.server_name,
        roots: t.roots.as_ref().clone(),
        insecure: t.insecure,
        min_version: t.min_version,
        max_version: t.max_version,
        alpn: Vec::new(),
        client_certificate: t
            .client_certificate
            .as_ref()
            .map(crate::tls::client_certificate_wit),
    }
}

/// `probe_http_redirects` as blackbox counts it: the redirects followed, and
/// with `follow_redirects: false` a redirect refused counts one (Go calls its
/// CheckRedirect, which counts, before refusing).
fn redirects(c: &ProbeConfig, report: &http_proto::text::HttpReport) -> f64 {
    let followed = report.redirects.len();
    let refused = c.http.as_ref().is_some_and(|h| !h.follow_redirects)
        && (300..400).contains(&report.status)
        && report
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("location"));
    (followed + usize::from(refused)) as f64
}

fn common(addr: SocketAddr, lookup: Duration) -> Vec<(&'static str, f64)> {
    vec![
        ("probe_dns_lookup_time_seconds", lookup.as_secs_f64()),
        ("probe_ip_protocol", if addr.is_ipv4() { 4.0 } else { 6.0 }),
    ]
}

/// One run of an `http` probe against `target` (a URL), granted only `addr`.
pub async fn http(
    prober: &HttpProber,
    s: &Sandbox,
    c: &ProbeConfig,
    target: &Target,
    addr: SocketAddr,
    lookup: Duration,
) -> Result<RunResult> {
    let settings = c.http.clone().unwrap_or_default();
    let url = target.url.clone().unwrap_or_default();
    let mut headers: Vec<Header> = settings
        .headers
        .iter()
        .map(|(k, v)| Header {
            name: k.clone(),
            value: v.clone(),
        })
        .collect();
    if let Some(auth) = &settings.authorization {
        headers.push(Header {
            name: "Authorization".into(),
            value: auth.0.clone(),
        });
    }
    let request = HttpRequest {
        url,
        method: settings.method.clone(),
        headers,
        body: settings.body.clone(),
        tls: tls_options(c),
        timeout_ms: c.timeout.as_millis().max(1) as u64,
        max_body: settings.body_size_limit,
        compression: settings.compression,
        // Redirects stay within the URL's own origin (granted: exactly its address).
        max_redirects: if settings.follow_redirects { 10 } else { 0 },
        allow_redirects: Vec::new(),
        resolve: vec![ResolveOverride {
            host: target.bare_host(),
            port: target.port,
            ip: addr.ip().to_string(),
        }],
    };
    let mut values = common(addr, lookup);
    let mut labeled = Labeled::new();
    let r = match prober.probe_in(s, &request).await? {
        Ok(resp) => {
            let report = crate::http::report(&resp);
            let t = &report.timings;
            for (phase, ns) in [
                ("resolve", t.resolve_ns + lookup.as_nanos() as u64),
                ("connect", t.connect_ns),
                ("tls", t.tls_ns),
                ("processing", t.processing_ns),
                ("transfer", t.transfer_ns),
            ] {
                labeled.push((
                    "probe_http_duration_seconds",
                    vec![l("phase", phase)],
                    ns as f64 / 1e9,
                ));
            }
            values.extend([
                ("probe_http_status_code", f64::from(report.status)),
                (
                    "probe_http_content_length",
                    report.content_length.map_or(-1.0, |n| n as f64),
                ),
                (
                    "probe_http_uncompressed_body_length",
                    report.uncompressed_size as f64,
                ),
                ("probe_http_redirects", redirects(c, &report)),
                ("probe_http_ssl", if report.tls { 1.0 } else { 0.0 }),
                (
                    "probe_http_version",
                    report
                        .version
                        .trim_start_matches("HTTP/")
                        .parse()
                        .unwrap_or(0.0),
                ),
            ]);
            if let Some(t) = report.last_modified {
                values.push(("probe_http_last_modified_timestamp_seconds", t as f64));
            }
            if let Some(h) = &report.handshake {
                tls_values(h, &mut values, &mut labeled);
            }
            let verdict = settings.checks().check(
                report.status,
                &report.version,
                report.tls,
                &report.headers,
                &report.body,
            );
            values.push((
                "probe_failed_due_to_regex",
                if verdict.as_ref().is_err_and(|v| v.regex) {
                    1.0
                } else {
                    0.0
                },
            ));
            let detail = http_proto::text::summary_line(&report);
            match verdict {
                Ok(()) => RunResult {
                    values,
                    labeled,
                    ..RunResult::ok(detail, Vec::new())
                },
                Err(v) => {
                    let reason = if v.regex {
                        "regex"
                    } else if report.status == 0 {
                        "protocol"
                    } else {
                        "check"
                    };
                    RunResult {
                        values,
                        labeled,
                        ..RunResult::failed(reason, format!("{}: {detail}", v.message))
                    }
                }
            }
        }
        Err(e) => {
            let (kind, message) = error(&e);
            if let HttpError::Tls((_, Some(h))) = &e {
                tls_values(&crate::tls::handshake(h), &mut values, &mut labeled);
                values.push(("probe_http_ssl", 1.0));
            }
            values.push(("probe_failed_due_to_regex", 0.0));
            // blackbox registers every http gauge before it connects: a
            // failed request still reports them, at 0.
            for name in [
                "probe_http_status_code",
                "probe_http_content_length",
                "probe_http_uncompressed_body_length",
                "probe_http_redirects",
                "probe_http_ssl",
                "probe_http_version",
            ] {
                if !values.iter().any(|(n, _)| *n == name) {
                    values.push((name, 0.0));
                }
            }
            for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
                let secs = if phase == "resolve" {
                    lookup.as_secs_f64()
                } else {
                    0.0
                };
                labeled.push(("probe_http_duration_seconds", vec![l("phase", phase)], secs));
            }
            RunResult {
                values,
                labeled,
                ..RunResult::failed(kind, message)
            }
        }
    };
    Ok(r)
}

/// One run of a `tls` probe against `target` (`HOST:PORT`), granted only `addr`.
pub async fn tls(
    prober: &TlsProber,
    s: &Sandbox,
    c: &ProbeConfig,
    target: &Target,
    addr: SocketAddr,
    lookup: Duration,
) -> Result<RunResult> {
    let options = TlsProbeOptions {
        tls: tls_options(c),
        timeout_ms: c.timeout.as_millis().max(1) as u64,
        starttls: None,
    };
    let mut values = common(addr, lookup);
    let mut labeled = Labeled::new();
    let insecure = c.tls.as_ref().is_some_and(|t| t.insecure);
    Ok(
        match prober
            .probe_in(s, &target.bare_host(), addr, &options)
            .await?
        {
            Ok(r) => {
                let h = crate::tls::handshake(&r.handshake);
                tls_values(&h, &mut values, &mut labeled);
                let detail = format!("{} {}", h.version, h.cipher);
                match h.verification.error {
                    Some(reason) if !insecure => RunResult {
                        values,
                        labeled,
                        ..RunResult::failed(
                            format!("verify-{}", reason.as_str()),
                            format!("the certificate does not verify: {}", h.verification.detail),
                        )
                    },
                    _ => RunResult {
                        values,
                        labeled,
                        ..RunResult::ok(detail, Vec::new())
                    },
                }
            }
            Err(e) => {
                let (kind, message) = crate::tls::error(&e);
                if let TlsProbeError::Timeout((_, Some(h)))
                | TlsProbeError::HandshakeFailed((_, Some(h))) = &e
                {
                    tls_values(&crate::tls::handshake(h), &mut values, &mut labeled);
                }
                RunResult {
                    values,
                    labeled,
                    ..RunResult::failed(kind, message)
                }
            }
        },
    )
}

/// A failed run's reason and message; a redirect elsewhere names what watch
/// allows (the command line's `--allow-redirect` is no watch key).
fn error(e: &HttpError) -> (&'static str, String) {
    match e {
        HttpError::RedirectNotGranted(u) => (
            "redirect-not-granted",
            format!(
                "redirect to {u} not granted: netkit watch follows redirects only within the target URL's own scheme, host and port"
            ),
        ),
        _ => crate::http::error(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_redirect_denial_names_what_watch_allows_not_a_cli_flag() {
        // Issue 31: watch's log told operators to use --allow-redirect.
        let (kind, m) = super::error(&crate::http::HttpError::RedirectNotGranted(
            "http://127.0.0.1:9/".into(),
        ));
        assert_eq!(kind, "redirect-not-granted");
        assert!(!m.contains("--allow-redirect"), "{m}");
        assert!(m.contains("own scheme, host and port"), "{m}");
    }
}
