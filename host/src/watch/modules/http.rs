//! The `http:` block of a module: blackbox_exporter's `HTTPProbe` keys (and
//! prometheus/common's `HTTPClientConfig`, inlined as blackbox inlines it),
//! their defaults, and what netkit does not do yet, refused by name.

use super::block::{Block, Severity};
use super::common;
use crate::watch::config::ProbeConfig;
use crate::watch::web_probe::{RawAuthorization, RawBasicAuth, RawHeaderRule, RawWeb};

const PROXY: &str =
    "proxies are not supported yet (issue 34): netkit's runs connect to the target itself";

fn header_rules(b: &Block, key: &str) -> Vec<RawHeaderRule> {
    b.blocks(key)
        .iter()
        .filter_map(|r| {
            let header = r.str("header").unwrap_or_default();
            let regexp = r.str("regexp").unwrap_or_default();
            let allow_missing = r.bool("allow_missing").unwrap_or(false);
            if header.is_empty() {
                r.error(r.at, format!("{}: needs header:", r.path));
                return None;
            }
            Some(RawHeaderRule {
                header,
                regexp,
                allow_missing,
            })
        })
        .collect()
}

fn auth(b: &Block, m: &mut ProbeConfig) -> (Option<RawBasicAuth>, Option<RawAuthorization>) {
    let basic = b.has("basic_auth").then(|| {
        let a = b.block("basic_auth");
        a.unsupported(
            "username_file",
            "not supported yet: give username (the password may come from password_file)",
        );
        a.unsupported("username_ref", "secret references are not supported");
        a.unsupported("password_ref", "secret references are not supported");
        RawBasicAuth {
            username: a.str("username").unwrap_or_default(),
            password: a.str("password"),
            password_file: common::file(&a, "password_file", m),
        }
    });
    if basic.is_none() {
        b.block("basic_auth");
    }
    let mut authz = b.has("authorization").then(|| {
        let a = b.block("authorization");
        a.unsupported("credentials_ref", "secret references are not supported");
        RawAuthorization {
            kind: a.str("type").filter(|s| !s.is_empty()),
            credentials: a.str("credentials").filter(|s| !s.is_empty()),
            credentials_file: common::file(&a, "credentials_file", m),
        }
    });
    if authz.is_none() {
        b.block("authorization");
    }
    // Its credentials_file is missing: the module's runs fail saying so.
    authz = authz
        .filter(|a| a.credentials.is_some() || a.credentials_file.is_some() || m.unready.is_none());
    // The deprecated spellings of an Authorization: Bearer header.
    let token = b.str("bearer_token").filter(|s| !s.is_empty());
    let token_file = common::file(b, "bearer_token_file", m);
    if token.is_some() || token_file.is_some() {
        if authz.is_some() {
            b.error(
                b.at,
                format!(
                    "{}: give authorization or bearer_token(_file), not both",
                    b.path
                ),
            );
        }
        authz = Some(RawAuthorization {
            kind: None,
            credentials: token,
            credentials_file: token_file,
        });
    }
    (basic, authz)
}

/// Read `b` into `m` (an http module).
pub fn read(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    let mut raw = RawWeb::default();
    for (c, at) in b.ints("valid_status_codes") {
        if (100..=599).contains(&c) {
            raw.valid_status_codes.push(c as u16);
        } else {
            b.bad(
                "valid_status_codes",
                at,
                format!("{c} is not an HTTP status (100-599)"),
            );
        }
    }
    let http3 = b.bool("enable_http3").unwrap_or(false);
    for (v, at) in b.strs("valid_http_versions") {
        match v.as_str() {
            "HTTP/1.0" | "HTTP/1.1" => {}
            "HTTP/2.0" => b.say(
                Severity::Note,
                at,
                "valid_http_versions",
                "\"HTTP/2.0\": netkit does not speak HTTP/2 yet (issue 33), so a run's answer is HTTP/1.x",
            ),
            "HTTP/3.0" if !http3 => b.bad(
                "valid_http_versions",
                at,
                "HTTP/3 cannot be used as a valid HTTP version when enable_http3 is false",
            ),
            other => b.say(
                Severity::Note,
                at,
                "valid_http_versions",
                &format!(
                    "{other:?} never equals a response's version (\"HTTP/1.0\", \"HTTP/1.1\", \"HTTP/2.0\", \"HTTP/3.0\"): it loads, as in blackbox_exporter, and never matches"
                ),
            ),
        }
        raw.valid_http_versions.push(v);
    }
    if http3 {
        b.unsupported("enable_http3", "HTTP/3 is not supported yet (issue 36)");
    }
    raw.method = b.str("method").filter(|s| !s.is_empty());
    raw.headers = b
        .str_map("headers")
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect();
    raw.body = b.str("body").filter(|s| !s.is_empty());
    if raw.body.is_some() && b.has("body_file") {
        b.error(
            b.at,
            format!(
                "{}: setting body and body_file both are not allowed",
                b.path
            ),
        );
    }
    if let Some(file) = common::file(b, "body_file", m) {
        let path = b.ctx().base.join(&file);
        match cli_args::files::read_text(&path, cli_args::files::Kind::Body) {
            Ok(text) => raw.body = Some(text),
            Err(e) => b.error(b.at, format!("{}.body_file: {e}", b.path)),
        }
    }
    raw.body_size_limit = b
        .str("body_size_limit")
        .filter(|s| !s.is_empty() && s != "0");
    raw.compression = b.str("compression").filter(|s| !s.is_empty());
    let follow = b.bool("follow_redirects");
    if let Some(n) = b.get("no_follow_redirects")
        && !n.is_null()
    {
        b.say(
            Severity::Warning,
            n.at,
            "no_follow_redirects",
            "deprecated (blackbox_exporter says so too): it is replaced by follow_redirects",
        );
    }
    raw.follow_redirects = match (b.bool("no_follow_redirects"), follow) {
        (Some(no), _) => Some(!no),
        (None, f) => f,
    };
    raw.fail_if_ssl = b.bool("fail_if_ssl").unwrap_or(false);
    raw.fail_if_not_ssl = b.bool("fail_if_not_ssl").unwrap_or(false);
    raw.fail_if_body_matches_regexp = b.regexes("fail_if_body_matches_regexp");
    raw.fail_if_body_not_matches_regexp = b.regexes("fail_if_body_not_matches_regexp");
    raw.fail_if_header_matches = header_rules(b, "fail_if_header_matches");
    raw.fail_if_header_not_matches = header_rules(b, "fail_if_header_not_matches");
    raw.tls_config = common::tls_config(b, m);
    (raw.basic_auth, raw.authorization) = auth(b, m);
    if b.bool("enable_http2").unwrap_or(true) {
        b.say(
            Severity::Note,
            b.at,
            "enable_http2",
            "true (the default): netkit does not speak HTTP/2 yet (issue 33), so runs speak HTTP/1.1",
        );
    }
    for key in [
        "proxy_url",
        "no_proxy",
        "proxy_from_environment",
        "proxy_connect_header",
        "skip_resolve_phase_with_proxy",
    ] {
        b.unsupported(key, PROXY);
    }
    b.unsupported(
        "oauth2",
        "OAuth2 is not supported yet (issue 34): its token URL would need a grant of its own",
    );
    for key in [
        "fail_if_body_json_matches_cel",
        "fail_if_body_json_not_matches_cel",
    ] {
        b.unsupported(key, "CEL expressions are not supported yet (issue 34)");
    }
    b.unsupported("http_headers", "not supported yet (issue 34): use headers");
    let base = b.ctx().base.clone();
    match crate::watch::web_probe::http_settings(&raw, &base) {
        Ok(h) => m.http = Some(h),
        Err(e) => b.error(b.at, format!("{}: {e}", b.path)),
    }
    // Read now (the trust roots for https targets), whatever the target.
    match crate::watch::web_probe::tls_settings(raw.tls_config.as_ref(), &base) {
        Ok(t) => m.tls = Some(t),
        Err(e) => b.error(b.at, format!("{}.tls_config: {e}", b.path)),
    }
}
