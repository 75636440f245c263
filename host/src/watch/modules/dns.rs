//! The `dns:` block of a module: blackbox_exporter's `DNSProbe` keys, their
//! defaults (type ANY, class IN, UDP, RD set, NOERROR) and checks.

use super::block::Block;
use super::common;
use crate::watch::config::ProbeConfig;
use crate::watch::dns_settings::{DnsSettings, RCODES, RrValidator};

fn validator(b: &Block, key: &str) -> RrValidator {
    let v = b.block(key);
    RrValidator {
        fail_if_matches: v.regexes("fail_if_matches_regexp"),
        fail_if_all_match: v.regexes("fail_if_all_match_regexp"),
        fail_if_not_matches: v.regexes("fail_if_not_matches_regexp"),
        fail_if_none_matches: v.regexes("fail_if_none_matches_regexp"),
    }
}

/// Read `b` into `m` (a dns module).
pub fn read(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    match b.str("query_name").filter(|q| !q.is_empty()) {
        Some(q) => m.query = q,
        None => b.error(
            b.at,
            format!(
                "{}: query name must be set for DNS module (query_name:)",
                b.path
            ),
        ),
    }
    m.record_type = match b.str_at("query_type").filter(|(t, _)| !t.is_empty()) {
        None => "ANY".into(),
        Some((t, at)) => {
            let upper = t.to_ascii_uppercase();
            if t != upper || !cli_args::flags::RECORD_TYPES.contains(&upper.as_str()) {
                b.bad(
                    "query_type",
                    at,
                    format!(
                        "query type {t:?} is not valid here: netkit asks for {}",
                        cli_args::flags::RECORD_TYPES.join(", ")
                    ),
                );
            }
            upper
        }
    };
    if let Some((c, at)) = b
        .str_at("query_class")
        .filter(|(c, _)| !c.is_empty() && c != "IN")
    {
        b.say(
            super::block::Severity::Unsupported,
            at,
            "query_class",
            &format!("{c:?}: netkit asks in class IN only"),
        );
    }
    let mut s = DnsSettings::default();
    match b.str_at("transport_protocol") {
        None => {}
        Some((t, _)) if t.is_empty() || t == "udp" => {}
        Some((t, _)) if t == "tcp" => s.tcp = true,
        Some((t, at)) => b.bad(
            "transport_protocol",
            at,
            format!("{t:?}: use \"udp\" or \"tcp\""),
        ),
    }
    s.recursion = b.bool("recursion_desired").unwrap_or(true);
    let rcodes = b.strs("valid_rcodes");
    if b.has("valid_rcodes") {
        s.valid_rcodes.clear();
    }
    for (r, at) in rcodes {
        if RCODES.contains(&r.as_str()) {
            s.valid_rcodes.push(r);
        } else {
            b.bad(
                "valid_rcodes",
                at,
                format!("{r:?} is not an rcode ({})", RCODES.join(", ")),
            );
        }
    }
    s.answer = validator(b, "validate_answer_rrs");
    s.authority = validator(b, "validate_authority_rrs");
    s.additional = validator(b, "validate_additional_rrs");
    b.unsupported(
        "dns_over_tls",
        "DNS over TLS is not supported yet (issue 34)",
    );
    // Used by blackbox only with dns_over_tls.
    common::tls_config(b, m);
    m.dns = Some(s);
}
