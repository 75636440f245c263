//! Keys several probers share: blackbox's `preferred_ip_protocol` /
//! `ip_protocol_fallback` / `source_ip_address` and `tls_config`, and netkit's
//! own `allow_targets` / `probe_concurrency`.

use super::block::{Block, Severity};
use crate::watch::config::{Kind, ProbeConfig};
use crate::watch::target::TargetPattern;
use crate::watch::web_probe::RawTlsConfig;

/// `preferred_ip_protocol` (blackbox: `ip6` unless it says `ip4`, and any
/// other text is ip4 too) and `ip_protocol_fallback` (default true).
pub fn ip_protocol(b: &Block, m: &mut ProbeConfig) {
    m.preferred_ip_protocol = Some(match b.str_at("preferred_ip_protocol") {
        None => crate::target::Family::V6,
        Some((v, _)) if v == "ip6" || v.is_empty() => crate::target::Family::V6,
        Some((v, _)) if v == "ip4" => crate::target::Family::V4,
        Some((v, at)) => {
            b.say(
                Severity::Note,
                at,
                "preferred_ip_protocol",
                &format!("{v:?} is neither \"ip4\" nor \"ip6\": read as ip4, as blackbox_exporter reads it"),
            );
            crate::target::Family::V4
        }
    });
    m.ip_protocol_fallback = b.bool("ip_protocol_fallback").unwrap_or(true);
    b.unsupported(
        "source_ip_address",
        "not supported yet: netkit's runs send from the address the system picks",
    );
}

/// netkit's keys in any prober's block: `allow_targets` (what `/probe` may
/// give this module; given, the module is closed to everything else) and
/// `probe_concurrency` (its `/probe` runs at once).
pub fn netkit_keys(b: &Block, m: &mut ProbeConfig) {
    let targets = b.strs("allow_targets");
    if b.has("allow_targets") {
        m.open = false;
    }
    for (t, at) in targets {
        let p = if m.kind == Kind::Icmp {
            TargetPattern::parse_host(&t)
        } else {
            TargetPattern::parse(&t)
        };
        match p {
            Ok(p) => m.allow_targets.push(p),
            Err(e) => b.bad("allow_targets", at, e),
        }
    }
    if let Some((n, at)) = b.int("probe_concurrency") {
        if (1..=4096).contains(&n) {
            m.probe_concurrency = Some(n as usize);
        } else {
            b.bad("probe_concurrency", at, format!("{n}: use 1 to 4096"));
        }
    }
}

/// A file named by `key`, if it exists. A missing one loads (blackbox reads
/// such files only when it probes) with a warning, and the module's runs fail
/// saying so until a reload finds it.
pub fn file(b: &Block, key: &str, m: &mut ProbeConfig) -> Option<String> {
    let (f, at) = b.str_at(key).filter(|(f, _)| !f.is_empty())?;
    let path = b.ctx().base.join(&f);
    if path.exists() {
        return Some(f);
    }
    let why = format!(
        "{}.{key}: {} does not exist; the module's runs fail until it does (and netkit watch is reloaded)",
        b.path,
        path.display()
    );
    b.say(
        Severity::Warning,
        at,
        key,
        &format!(
            "{} does not exist here: the module loads, and its runs fail until it does",
            path.display()
        ),
    );
    m.unready.get_or_insert(why);
    None
}

/// `tls_config` (prometheus/common's `TLSConfig`): what netkit has, and the
/// rest refused by name.
pub fn tls_config(b: &Block, m: &mut ProbeConfig) -> Option<RawTlsConfig> {
    let present = b.has("tls_config");
    let t = b.block("tls_config");
    let raw = RawTlsConfig {
        ca_file: file(&t, "ca_file", m),
        server_name: t.str("server_name").filter(|s| !s.is_empty()),
        insecure_skip_verify: t.bool("insecure_skip_verify").unwrap_or(false),
        min_version: t.str("min_version").filter(|s| !s.is_empty()),
        max_version: t.str("max_version").filter(|s| !s.is_empty()),
        cert_file: file(&t, "cert_file", m),
        key_file: file(&t, "key_file", m),
    };
    if t.has("cert_file") != t.has("key_file") {
        t.error(
            t.at,
            format!(
                "{}: cert_file and key_file go together (a client certificate needs its key): give both",
                t.path
            ),
        );
    }
    for key in ["cert", "key", "cert_ref", "key_ref"] {
        t.unsupported(
            key,
            "an inline client certificate or key is not supported: put it in a file and give cert_file and key_file",
        );
    }
    t.unsupported(
        "ca",
        "an inline CA is not supported yet: put it in a file and give ca_file",
    );
    t.unsupported(
        "ca_ref",
        "secret references are not supported: give ca_file",
    );
    present.then_some(raw)
}
