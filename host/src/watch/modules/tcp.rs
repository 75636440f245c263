//! The `tcp:` block of a module: blackbox_exporter's `TCPProbe` keys. No
//! dialog and no TLS: a TCP connect (netkit's tcp probe). `tls: true` or a
//! `query_response`: the dialog as blackbox runs it (a handshake and nothing
//! more when there are no steps), line by line, with `${N}`, `labels`,
//! `expect_bytes`, `starttls` at any step and `tls: true`
//! ([`crate::watch::tcp_dialog`]). netkit's own `send`/`expect`/`expect_bytes`
//! keys (what `netkit watch convert` writes for a TOML tcp probe): bytes sent
//! as they are and a reply matched anywhere, by netkit's tcp probe.

use super::block::{Block, Severity};
use super::common;
use crate::watch::config::ProbeConfig;
use crate::watch::tcp_settings::Dialog;
use tls_proto::dialog::Step;

fn steps(b: &Block) -> Vec<Step> {
    b.blocks("query_response")
        .iter()
        .map(|s| {
            let expect = s.str_at("expect").filter(|(e, _)| !e.is_empty());
            if let Some((e, at)) = &expect
                && let Err(msg) = http_proto::expect::regex("expect", e)
            {
                s.bad("expect", *at, msg);
            }
            let labels: Vec<(String, String)> = s
                .blocks("labels")
                .iter()
                .filter_map(|l| Some((l.str("name")?, l.str("value").unwrap_or_default())))
                .collect();
            if !labels.is_empty() && expect.is_none() {
                s.say(
                    Severity::Warning,
                    s.key_at("labels").unwrap_or(s.at),
                    "labels",
                    "labels without an expect in the same step are never set (as in blackbox)",
                );
            }
            let send = s.bytes("send").filter(|x| !x.is_empty());
            Step {
                expect: expect.map(|(e, _)| e),
                expect_bytes: s.bytes("expect_bytes").filter(|e| !e.is_empty()),
                labels,
                send,
                starttls: s.bool("starttls").unwrap_or(false),
            }
        })
        .collect()
}

/// Read `b` into `m` (a tcp module).
pub fn read(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    let steps = steps(b);
    let tls = b.bool("tls").unwrap_or(false);
    let raw_tls = common::tls_config(b, m);
    let dialog = Dialog { steps, tls };
    // netkit's own keys (the TOML's, kept by `netkit watch convert`): bytes
    // sent as they are and a reply matched anywhere, by netkit's tcp probe.
    let own = [
        b.key_at("send"),
        b.key_at("expect"),
        b.key_at("expect_bytes"),
    ];
    m.send = b.bytes("send").filter(|x| !x.is_empty());
    if let Some((e, at)) = b.str_at("expect").filter(|(e, _)| !e.is_empty()) {
        match http_proto::expect::regex("expect", &e) {
            Ok(_) => m.expect = Some(e),
            Err(msg) => b.bad("expect", at, msg),
        }
    }
    m.expect_bytes = b.bytes("expect_bytes").filter(|x| !x.is_empty());
    if let Some(at) = own.into_iter().flatten().next() {
        if !dialog.steps.is_empty() || tls {
            b.error(
                at,
                format!(
                    "{}: send/expect/expect_bytes (netkit's raw exchange) and query_response or tls (blackbox's dialog) are exclusive: use one",
                    b.path
                ),
            );
        }
        return;
    }
    if dialog.steps.is_empty() && !tls {
        return;
    }
    if dialog.uses_tls() {
        match crate::watch::web_probe::tls_settings(raw_tls.as_ref(), &b.ctx().base) {
            Ok(t) => m.tls = Some(t),
            Err(e) => b.error(b.at, format!("{}.tls_config: {e}", b.path)),
        }
    }
    m.dialog = Some(dialog);
}

#[cfg(test)]
mod tests {
    use crate::watch::modules::parse;

    fn module(yaml: &str) -> crate::watch::config::ProbeConfig {
        let loaded = parse(yaml, std::path::Path::new("t.yml"));
        assert!(loaded.ok(), "{:?}", loaded.error());
        loaded.config.probes.into_iter().next().unwrap()
    }

    #[test]
    fn a_dialog_is_kept_step_by_step_as_written() {
        let m = module(
            "modules:\n  irc:\n    prober: tcp\n    tcp:\n      query_response:\n        - send: NICK prober\n        - expect: 'PING :([^ ]+)'\n          send: PONG ${1}\n          labels:\n            - name: cookie\n              value: '${1}'\n        - expect: '^:[^ ]+ 001'\n          starttls: true\n",
        );
        let d = m.dialog.unwrap();
        assert_eq!(d.steps.len(), 3);
        assert_eq!(d.steps[1].send.as_deref(), Some(&b"PONG ${1}"[..]));
        assert_eq!(
            d.steps[1].labels,
            [("cookie".to_string(), "${1}".to_string())]
        );
        assert!(d.steps[2].starttls && !d.tls);
        assert!(m.tls.is_some(), "starttls reads tls_config");
    }

    #[test]
    fn no_dialog_is_a_connect_and_tls_alone_a_handshake() {
        let m = module("modules:\n  c:\n    prober: tcp\n");
        assert!(m.dialog.is_none() && m.kind == crate::watch::config::Kind::Tcp);
        let m = module("modules:\n  c:\n    prober: tcp\n    tcp:\n      tls: true\n");
        let d = m.dialog.unwrap();
        assert!(d.tls && d.steps.is_empty() && m.kind == crate::watch::config::Kind::Tcp);
    }
}
