//! netkit's own probers, in the same file the same way as blackbox's:
//! `sntp:` (with NTS), `udp:`, `echo:` and `component:` blocks.

use super::block::Block;
use super::common;
use crate::policy::Grant;
use crate::watch::config::{
    DEFAULT_COMPONENT_MEMORY, MAX_COMPONENT_MEMORY, NtsSettings, ProbeConfig,
};
use crate::watch::target::{Target, has_placeholder};

/// `sntp:` — `nts`, its `tls_config` and `allow_ntp_servers`.
pub fn sntp(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    let nts = b.bool("nts").unwrap_or(false);
    let raw_tls = common::tls_config(b, m);
    let servers = b.strs("allow_ntp_servers");
    if !nts {
        if raw_tls.is_some() || !servers.is_empty() {
            b.error(
                b.at,
                format!(
                    "{}: tls_config and allow_ntp_servers are for nts: true",
                    b.path
                ),
            );
        }
        return;
    }
    let tls = match crate::watch::web_probe::tls_settings(raw_tls.as_ref(), &b.ctx().base) {
        Ok(t) => t,
        Err(e) => return b.error(b.at, format!("{}.tls_config: {e}", b.path)),
    };
    if tls.insecure {
        return b.error(
            b.at,
            format!("{}.tls_config.insecure_skip_verify: NTS without a verified key exchange authenticates nothing; give tls_config.ca_file instead", b.path),
        );
    }
    let mut allowed = Vec::new();
    for (a, at) in servers {
        match nts_proto::server::Allowed::parse(&a) {
            Ok(x) => allowed.push(x),
            Err(e) => b.bad("allow_ntp_servers", at, e),
        }
    }
    m.nts = Some(NtsSettings {
        roots: tls.roots,
        server_name: tls.server_name,
        allowed,
    });
}

/// `udp:` — `send` (text or `!!binary`), then `expect` (a regex) or `expect_bytes`.
pub fn udp(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    m.send = b.bytes("send").filter(|s| !s.is_empty());
    if m.send.is_none() {
        b.error(b.at, format!("{}: needs send: (the datagram)", b.path));
    }
    expect(b, m);
}

fn expect(b: &Block, m: &mut ProbeConfig) {
    if let Some((e, at)) = b.str_at("expect").filter(|(e, _)| !e.is_empty()) {
        match probe_proto::Expectation::new(Some(&e), None) {
            Ok(_) => m.expect = Some(e),
            Err(msg) => b.bad("expect", at, msg),
        }
    }
    m.expect_bytes = b.bytes("expect_bytes").filter(|e| !e.is_empty());
}

/// `echo:` — `message`.
pub fn echo(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    if let Some(msg) = b.str("message").filter(|s| !s.is_empty()) {
        m.message = msg;
    }
}

/// `component:` — `component` (a file or `oci://`), `args`, `allow`, `max_memory`.
pub fn component(b: &Block, m: &mut ProbeConfig, insecure: &[String]) {
    common::netkit_keys(b, m);
    match b.str_at("component") {
        Some((c, at)) if crate::oci::OciRef::is_reference(&c) => {
            match c.parse::<crate::oci::OciRef>() {
                Ok(r) => {
                    m.insecure_registry =
                        insecure.iter().any(|i| i == &r.registry || i == r.host());
                    m.component = Some(crate::oci::Source::Oci(r));
                }
                Err(e) => b.bad("component", at, e),
            }
        }
        Some((c, at)) => {
            let path = b.ctx().base.join(&c);
            if path.is_file() {
                m.component = Some(crate::oci::Source::File(path));
            } else {
                b.bad("component", at, format!("{}: no such file", path.display()));
            }
        }
        None => b.error(
            b.at,
            format!(
                "{}: needs component: PATH.wasm (or oci://REGISTRY/REPO:TAG)",
                b.path
            ),
        ),
    }
    m.args = b.strs("args").into_iter().map(|(a, _)| a).collect();
    let stand_in = Target::parse("127.0.0.1:1").expect("a valid target");
    for (g, at) in b.strs("allow") {
        match stand_in.fill(&g).parse::<Grant>() {
            Ok(_) => m.allow.push(g),
            Err(e) => b.bad("allow", at, e),
        }
    }
    let placeholders = |v: &[String]| v.iter().any(|a| has_placeholder(a));
    let takes_targets = placeholders(&m.args) && placeholders(&m.allow);
    if !m.allow_targets.is_empty() && !takes_targets {
        b.error(
            b.at,
            format!("{}: allow_targets, but the component would never be given another target: put {{target}} (or {{host}} and {{port}}) in its args and its allow grants", b.path),
        );
    }
    if !b.has("allow_targets") {
        // A component takes another target only through its placeholders.
        m.open = takes_targets;
    }
    m.max_memory = match b.str_at("max_memory") {
        None => DEFAULT_COMPONENT_MEMORY,
        Some((t, at)) => match cli_args::units::size(&t, 1 << 20) {
            Ok(n) if (1 << 20..=MAX_COMPONENT_MEMORY as u64).contains(&n) => n as usize,
            Ok(_) => {
                b.bad("max_memory", at, format!("{t:?} is outside 1MiB..=256MiB"));
                DEFAULT_COMPONENT_MEMORY
            }
            Err(e) => {
                b.bad("max_memory", at, e);
                DEFAULT_COMPONENT_MEMORY
            }
        },
    };
}
