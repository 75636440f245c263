//! `netkit watch convert watch.toml`: netkit's older TOML config written as
//! blackbox's YAML. Each `[[probe]]` becomes a module (its kind's block under
//! blackbox's key names) and a scheduled probe of the same name, so its
//! metrics keep their `probe` label and `/probe?module=` keeps working; a
//! probe without `allow_targets` gets an empty list, so that it stays closed
//! to every target but its own, as it was.

use super::yaml::{At, Node, Value};
use toml::Value as T;

fn scalar(text: String, plain: bool) -> Node {
    Node {
        at: At::default(),
        value: Value::Scalar {
            text,
            plain,
            tag: None,
        },
    }
}

fn binary(bytes: &[u8]) -> Node {
    Node {
        at: At::default(),
        value: Value::Scalar {
            text: cli_args::flags::base64(bytes),
            plain: true,
            tag: Some("!!binary".into()),
        },
    }
}

fn map(entries: Vec<(&str, Node)>) -> Node {
    Node {
        at: At::default(),
        value: Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (scalar(k.to_string(), true), v))
                .collect(),
        ),
    }
}

/// A TOML value as a YAML node (strings quoted, numbers and booleans plain).
fn node(v: &T) -> Node {
    match v {
        T::String(s) => scalar(s.clone(), false),
        T::Integer(i) => scalar(i.to_string(), true),
        T::Float(f) => scalar(f.to_string(), true),
        T::Boolean(b) => scalar(b.to_string(), true),
        T::Datetime(d) => scalar(d.to_string(), false),
        T::Array(a) => Node {
            at: At::default(),
            value: Value::Seq(a.iter().map(node).collect()),
        },
        T::Table(t) => Node {
            at: At::default(),
            value: Value::Map(
                t.iter()
                    .map(|(k, v)| (scalar(k.clone(), true), node(v)))
                    .collect(),
            ),
        },
    }
}

fn hex(p: &toml::Table, key: &str) -> Result<Option<Vec<u8>>, String> {
    p.get(key)
        .and_then(T::as_str)
        .map(|h| probe_proto::parse_hex(h).map_err(|e| format!("{key}: {e}")))
        .transpose()
}

/// Keys copied into the block as they are, per kind (blackbox's names already).
const HTTP: &[&str] = &[
    "valid_status_codes",
    "valid_http_versions",
    "method",
    "headers",
    "body",
    "body_size_limit",
    "compression",
    "follow_redirects",
    "fail_if_ssl",
    "fail_if_not_ssl",
    "fail_if_body_matches_regexp",
    "fail_if_body_not_matches_regexp",
    "fail_if_header_matches",
    "fail_if_header_not_matches",
    "tls_config",
    "basic_auth",
    "authorization",
];
const ICMP: &[&str] = &[
    "packets",
    "packet_interval",
    "payload_size",
    "ttl",
    "dont_fragment",
    "source_ip_address",
];
const SHARED: &[&str] = &[
    "allow_targets",
    "probe_concurrency",
    "preferred_ip_protocol",
    "ip_protocol_fallback",
];

/// One `[[probe]]`: its module and its scheduled entry.
fn probe(p: &toml::Table) -> Result<(String, Node, Node), String> {
    let s = |k: &str| p.get(k).and_then(T::as_str).map(str::to_string);
    let name = s("name").ok_or("a [[probe]] without name")?;
    let kind = s("kind").ok_or_else(|| format!("probe {name:?} has no kind"))?;
    let mut block: Vec<(&str, Node)> = Vec::new();
    let copy = |block: &mut Vec<(&'static str, Node)>, keys: &[&'static str]| {
        for k in keys {
            if let Some(v) = p.get(*k) {
                block.push((k, node(v)));
            }
        }
    };
    let shared: &[&str] = if kind == "component" {
        &SHARED[..2]
    } else {
        SHARED
    };
    copy(&mut block, shared);
    if !p.contains_key("allow_targets") {
        block.push(("allow_targets", node(&T::Array(Vec::new()))));
    }
    let send = match (s("send"), hex(p, "send_hex")?) {
        (Some(t), _) => Some(scalar(t, false)),
        (None, Some(b)) => Some(binary(&b)),
        (None, None) => None,
    };
    let expect = s("expect").map(|e| scalar(e, false));
    let expect_bytes = hex(p, "expect_hex")?.map(|b| binary(&b));
    let prober = match kind.as_str() {
        "http" => {
            copy(&mut block, HTTP);
            "http"
        }
        "icmp" => {
            copy(&mut block, ICMP);
            "icmp"
        }
        "dns" => {
            block.push((
                "query_name",
                node(p.get("query").unwrap_or(&T::String(String::new()))),
            ));
            block.push((
                "query_type",
                scalar(
                    s("type").unwrap_or_else(|| "A".into()).to_ascii_uppercase(),
                    true,
                ),
            ));
            "dns"
        }
        "tls" => {
            block.push(("tls", scalar("true".into(), true)));
            copy(&mut block, &["tls_config"]);
            "tcp"
        }
        // netkit's own send/expect keys (raw bytes, a match anywhere in the
        // reply), not blackbox's line-by-line query_response.
        "udp" | "tcp" => {
            for (k, v) in [
                ("send", send),
                ("expect", expect),
                ("expect_bytes", expect_bytes),
            ] {
                if let Some(v) = v {
                    block.push((k, v));
                }
            }
            if kind == "udp" { "udp" } else { "tcp" }
        }
        "echo" => {
            copy(&mut block, &["message"]);
            "echo"
        }
        "sntp" => {
            copy(&mut block, &["nts", "allow_ntp_servers", "tls_config"]);
            "sntp"
        }
        "component" => {
            copy(&mut block, &["component", "args", "allow", "max_memory"]);
            "component"
        }
        other => return Err(format!("probe {name:?}: unknown kind {other:?}")),
    };
    // The TOML defaults, written out: timeout min(interval, 5s), interval 15s.
    let interval = s("interval").unwrap_or_else(|| "15s".into());
    let timeout = match s("timeout") {
        Some(t) => t,
        None => {
            let i = cli_args::units::positive_duration(&interval, "s")
                .map_err(|e| format!("probe {name:?}: interval: {e}"))?;
            format!("{}ms", i.min(std::time::Duration::from_secs(5)).as_millis())
        }
    };
    let go = |t: &str| -> Result<String, String> {
        let d = cli_args::units::positive_duration(t, "s")
            .map_err(|e| format!("probe {name:?}: {t:?}: {e}"))?;
        Ok(format!("{}ms", d.as_millis()))
    };
    let module = map(vec![
        ("prober", scalar(prober.into(), true)),
        ("timeout", scalar(go(&timeout)?, true)),
        (prober, map(block)),
    ]);
    let mut entry = vec![
        ("name", scalar(name.clone(), false)),
        ("module", scalar(name.clone(), false)),
    ];
    if let Some(t) = s("target") {
        entry.push(("target", scalar(t, false)));
    }
    entry.push(("interval", scalar(go(&interval)?, true)));
    Ok((name, module, map(entry)))
}

/// The TOML config `text` as blackbox's YAML.
pub fn toml_to_yaml(text: &str) -> Result<String, String> {
    let file: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let mut top: Vec<(&str, Node)> = Vec::new();
    for k in ["probe_concurrency", "insecure_registries"] {
        if let Some(v) = file.get(k) {
            top.push((k, node(v)));
        }
    }
    let mut modules = Vec::new();
    let mut scheduled = Vec::new();
    for p in file
        .get("probe")
        .and_then(T::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let t = p.as_table().ok_or("a [[probe]] that is not a table")?;
        let (name, module, entry) = probe(t)?;
        modules.push((scalar(name, false), module));
        scheduled.push(entry);
    }
    top.push((
        "modules",
        Node {
            at: At::default(),
            value: Value::Map(modules),
        },
    ));
    top.push((
        "scheduled",
        Node {
            at: At::default(),
            value: Value::Seq(scheduled),
        },
    ));
    Ok(format!(
        "# Converted from netkit's TOML by `netkit watch convert`.\n{}",
        super::show::render(&map(top))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::config::ProbeConfig;
    use std::path::Path;

    const TOML: &str = r#"
probe_concurrency = 32

[[probe]]
name = "ntp"
kind = "sntp"
target = "127.0.0.1:123"
interval = "15s"
timeout = "2s"
allow_targets = ["127.0.0.0/8:*"]

[[probe]]
name = "dns"
kind = "dns"
target = "127.0.0.1:53"
query = "example.test"
type = "aaaa"

[[probe]]
name = "web"
kind = "tcp"
target = "127.0.0.1:80"
send = "HEAD / HTTP/1.0\r\n\r\n"
expect = "^HTTP/1\\.[01] "

[[probe]]
name = "bin"
kind = "udp"
target = "127.0.0.1:7"
send_hex = "00ff"
expect_hex = "ff"
interval = "2s"

[[probe]]
name = "site"
kind = "http"
target = "http://127.0.0.1:8080/health"
valid_status_codes = [200, 204]
method = "POST"
headers = { Accept = "application/json" }
follow_redirects = false
fail_if_body_not_matches_regexp = ['"status":\s*"ok"']
basic_auth = { username = "u", password = "p" }
preferred_ip_protocol = "ip4"

[[probe]]
name = "cert"
kind = "tls"
target = "localhost:8443"
tls_config = { insecure_skip_verify = true }

[[probe]]
name = "gateway"
kind = "icmp"
target = "127.0.0.1"
packets = 3
packet_interval = "200ms"
ttl = 9

[[probe]]
name = "e"
kind = "echo"
target = "127.0.0.1:7"
message = "hi"
"#;

    /// What both syntaxes must agree on (the YAML reads trust roots and an
    /// ip6 preference where the TOML left them unset).
    fn essence(p: &ProbeConfig) -> ProbeConfig {
        let mut p = p.clone();
        p.tls = p.tls.filter(|t| t.insecure);
        p.preferred_ip_protocol = p
            .preferred_ip_protocol
            .filter(|f| *f == crate::target::Family::V4);
        p.open = false;
        // A TOML tls probe is blackbox's tcp prober with tls: true and no dialog.
        if p.kind == crate::watch::config::Kind::Tls {
            p.kind = crate::watch::config::Kind::Tcp;
            p.dialog = Some(crate::watch::tcp_settings::Dialog {
                steps: Vec::new(),
                tls: true,
            });
        }
        // None is the defaults (UDP, RD, NOERROR) the YAML spells out.
        p.dns = p
            .dns
            .or_else(|| (p.kind == crate::watch::config::Kind::Dns).then(Default::default));
        p
    }

    #[test]
    fn every_toml_probe_converts_to_the_same_probe() {
        let toml = crate::watch::config::parse(TOML, Path::new("w.toml")).unwrap();
        let yaml = toml_to_yaml(TOML).unwrap();
        let l = super::super::parse(&yaml, Path::new("w.yml"));
        assert!(l.ok(), "{}\n{yaml}", l.report());
        assert_eq!(l.config.probe_concurrency, Some(32));
        assert_eq!(l.config.probes.len(), toml.probes.len(), "{yaml}");
        for (t, y) in toml.probes.iter().zip(&l.config.probes) {
            assert!(y.scheduled && y.module && !y.open, "{}", t.name);
            assert_eq!(essence(y), essence(t), "{}\n{yaml}", t.name);
        }
        assert!(yaml.contains("send: !!binary \"AP8=\""), "{yaml}");
    }
}
