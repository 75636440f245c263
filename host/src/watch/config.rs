//! The `netkit watch` configuration: TOML, checked whole before it replaces
//! anything, every error placed at its file, line and column.

use super::target::{Target, TargetPattern, has_placeholder};
use super::web_probe::{
    HttpSettings, RawAuthorization, RawBasicAuth, RawHeaderRule, RawTlsConfig, RawWeb, TlsSettings,
};
use crate::policy::Grant;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// What a probe checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An SNTP query.
    Sntp,
    /// A TCP connect, optionally a request and an expected reply.
    Tcp,
    /// A UDP datagram and its reply.
    Udp,
    /// A DNS query.
    Dns,
    /// A verified TCP echo exchange.
    Echo,
    /// An HTTP(S) request (blackbox_exporter's http prober); the target is the URL.
    Http,
    /// A TLS handshake and the certificate chain; the target is `HOST:PORT`.
    Tls,
    /// ICMP echo (blackbox_exporter's icmp prober); the target is a host, no port.
    Icmp,
    /// Any `wasi:cli/run` component: success is exit code 0.
    Component,
}

impl Kind {
    /// The name used in the config and the `kind` label.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sntp => "sntp",
            Kind::Tcp => "tcp",
            Kind::Udp => "udp",
            Kind::Dns => "dns",
            Kind::Echo => "echo",
            Kind::Http => "http",
            Kind::Tls => "tls",
            Kind::Icmp => "icmp",
            Kind::Component => "component",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    probe_concurrency: Option<Spanned<i64>>,
    /// Registries spoken to over plain HTTP (`HOST` or `HOST:PORT`).
    #[serde(default)]
    insecure_registries: Vec<Spanned<String>>,
    #[serde(default)]
    probe: Vec<Spanned<RawProbe>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    name: Spanned<String>,
    kind: Kind,
    target: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    allow_targets: Vec<Spanned<String>>,
    query: Option<Spanned<String>>,
    #[serde(rename = "type")]
    record_type: Option<Spanned<String>>,
    send: Option<String>,
    send_hex: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
    expect_hex: Option<Spanned<String>>,
    message: Option<String>,
    component: Option<Spanned<String>>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    max_memory: Option<Spanned<String>>,
    probe_concurrency: Option<Spanned<i64>>,
    // The http and tls kinds, under blackbox_exporter's names.
    #[serde(default)]
    valid_status_codes: Vec<u16>,
    #[serde(default)]
    valid_http_versions: Vec<String>,
    method: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    body: Option<String>,
    body_size_limit: Option<String>,
    compression: Option<String>,
    follow_redirects: Option<bool>,
    #[serde(default)]
    fail_if_ssl: bool,
    #[serde(default)]
    fail_if_not_ssl: bool,
    #[serde(default)]
    fail_if_body_matches_regexp: Vec<String>,
    #[serde(default)]
    fail_if_body_not_matches_regexp: Vec<String>,
    #[serde(default)]
    fail_if_header_matches: Vec<RawHeaderRule>,
    #[serde(default)]
    fail_if_header_not_matches: Vec<RawHeaderRule>,
    tls_config: Option<RawTlsConfig>,
    preferred_ip_protocol: Option<Spanned<String>>,
    ip_protocol_fallback: Option<bool>,
    basic_auth: Option<RawBasicAuth>,
    authorization: Option<RawAuthorization>,
    // The icmp kind: blackbox's names, and packets / packet_interval.
    packets: Option<i64>,
    packet_interval: Option<String>,
    payload_size: Option<i64>,
    ttl: Option<i64>,
    dont_fragment: Option<bool>,
    source_ip_address: Option<String>,
    // The sntp kind: NTS.
    nts: Option<bool>,
    #[serde(default)]
    allow_ntp_servers: Vec<Spanned<String>>,
}

/// The sntp kind's NTS settings (`nts = true`).
#[derive(Debug, Clone, PartialEq)]
pub struct NtsSettings {
    /// Trust roots for the key exchange (`tls_config.ca_file`, or the system's).
    pub roots: std::sync::Arc<Vec<Vec<u8>>>,
    /// `tls_config.server_name`: the name to verify instead of the target's host.
    pub server_name: Option<String>,
    /// `allow_ntp_servers`: NTP servers on other hosts the key exchange may name.
    pub allowed: Vec<nts_proto::server::Allowed>,
}

/// One probe, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeConfig {
    /// Unique name: the `probe` label.
    pub name: String,
    /// What it checks.
    pub kind: Kind,
    /// `HOST:PORT` as written (a name is resolved by netkit at each run).
    pub target: String,
    /// Time between the starts of two runs.
    pub interval: Duration,
    /// A run that takes longer is stopped and fails.
    pub timeout: Duration,
    /// Other targets `/probe` may ask this probe to check.
    pub allow_targets: Vec<TargetPattern>,
    /// DNS: the name to ask for.
    pub query: String,
    /// DNS: the record type.
    pub record_type: String,
    /// TCP/UDP: bytes to send.
    pub send: Option<Vec<u8>>,
    /// TCP/UDP: a regular expression the reply must match.
    pub expect: Option<String>,
    /// TCP/UDP: bytes the reply must contain.
    pub expect_bytes: Option<Vec<u8>>,
    /// TCP: a dialog the plain probe cannot hold (blackbox's `query_response`
    /// in full, `tls: true` with a dialog); it then runs instead of send/expect.
    pub dialog: Option<super::tcp_settings::Dialog>,
    /// Echo: the message.
    pub message: String,
    /// Component: the file (relative to the config file's directory) or `oci://…`.
    pub component: Option<crate::oci::Source>,
    /// Component: its registry is in `insecure_registries` (plain HTTP).
    pub insecure_registry: bool,
    /// Component: its arguments.
    pub args: Vec<String>,
    /// Component: its grants as written (`{target}`, `{host}`, `{port}` are
    /// replaced by the target of each run).
    pub allow: Vec<String>,
    /// Component: its memory budget (all memories and tables), bytes.
    pub max_memory: usize,
    /// `/probe` runs of this probe at once (default: `--module-concurrency`).
    pub probe_concurrency: Option<usize>,
    /// The http kind's settings.
    pub http: Option<HttpSettings>,
    /// The http and tls kinds' TLS settings (`tls_config`).
    pub tls: Option<TlsSettings>,
    /// The icmp kind's settings.
    pub icmp: Option<super::icmp_settings::IcmpSettings>,
    /// The sntp kind's NTS settings (`nts = true`).
    pub nts: Option<NtsSettings>,
    /// blackbox's `preferred_ip_protocol` (`ip4`, `ip6`): the family a name resolves to first.
    pub preferred_ip_protocol: Option<crate::target::Family>,
    /// blackbox's `ip_protocol_fallback` (default true): any family when the preferred has no address.
    pub ip_protocol_fallback: bool,
    /// The dns prober's checks beyond the query (`None`: UDP, RD set, NOERROR only).
    pub dns: Option<super::dns_settings::DnsSettings>,
    /// Whether it runs on its `interval` (a blackbox module only answers `/probe`).
    pub scheduled: bool,
    /// Whether `/probe?module=` may name it (a scheduled probe of the YAML file may not).
    pub module: bool,
    /// Whether `/probe` may give it any target, as blackbox's modules take
    /// any (a module without `allow_targets`); link-local addresses and the
    /// exporter's own listen addresses are refused all the same.
    pub open: bool,
    /// Why every run fails at once: a file the module names could not be
    /// read when the config was loaded (it is read again at each reload).
    pub unready: Option<String>,
}

/// The most memory a component probe may be given (the pooling allocator's slot).
pub const MAX_COMPONENT_MEMORY: usize = 256 << 20;

/// A component probe's memory budget unless `max_memory` says otherwise.
pub const DEFAULT_COMPONENT_MEMORY: usize = 64 << 20;

impl ProbeConfig {
    /// Why `/probe?hostname=` cannot be used with this module, as blackbox
    /// refuses it: an http module whose own `Host` header says otherwise.
    pub fn check_hostname(&self, hostname: &str) -> Result<(), String> {
        if hostname.is_empty() || hostname.chars().any(|c| c.is_control() || c == ' ') {
            return Err(format!("hostname {hostname:?} is not a host name"));
        }
        if let Some(h) = &self.http
            && let Some((_, v)) = h
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            && v != hostname
        {
            return Err(format!(
                "host header defined both in module configuration ({v}) and with URL-parameter 'hostname' ({hostname})"
            ));
        }
        Ok(())
    }

    /// blackbox's `/probe?hostname=`: an http module's `Host` header (and
    /// its TLS name, unless `tls_config.server_name` gives one); a tcp
    /// module's TLS name, unless given.
    pub fn set_hostname(&mut self, hostname: &str) {
        if let Some(h) = &mut self.http {
            h.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("host"));
            h.headers.push(("Host".into(), hostname.to_string()));
        }
        if matches!(self.kind, Kind::Http | Kind::Tcp | Kind::Tls)
            && let Some(t) = &mut self.tls
            && t.server_name.is_none()
        {
            t.server_name = Some(hostname.to_string());
        }
    }

    /// A module named `name` of `kind` with every setting at its default:
    /// not scheduled, open to `/probe` (blackbox's shape).
    pub fn blank(name: &str, kind: Kind) -> Self {
        Self {
            name: name.to_string(),
            kind,
            target: String::new(),
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(5),
            allow_targets: Vec::new(),
            query: String::new(),
            record_type: "A".into(),
            send: None,
            expect: None,
            expect_bytes: None,
            dialog: None,
            message: echo_proto::DEFAULT_MESSAGE.into(),
            component: None,
            insecure_registry: false,
            args: Vec::new(),
            allow: Vec::new(),
            max_memory: DEFAULT_COMPONENT_MEMORY,
            probe_concurrency: None,
            http: None,
            tls: None,
            icmp: None,
            nts: None,
            preferred_ip_protocol: None,
            ip_protocol_fallback: true,
            dns: None,
            scheduled: false,
            module: true,
            open: true,
            unready: None,
        }
    }

    /// Whether it runs a registry component named by tag (asked again at each reload).
    pub fn follows_tag(&self) -> bool {
        matches!(&self.component, Some(crate::oci::Source::Oci(r)) if r.digest().is_none())
    }

    /// The sandbox deadline of a run: the timeout plus headroom for the
    /// built-in kinds, whose guests keep the timeout themselves (the guest's
    /// own timeout must end the run and be reported as `timeout`, not be cut
    /// short by the sandbox); exactly the timeout for a custom component.
    pub fn deadline(&self) -> Duration {
        match self.kind {
            Kind::Component => self.timeout,
            _ => crate::runtime::Sandbox::deadline_after(self.timeout),
        }
    }

    /// The probe's own target, if it has one.
    pub fn own_target(&self) -> Option<Target> {
        (!self.target.is_empty())
            .then(|| self.parse_target(&self.target).ok())
            .flatten()
    }

    /// A target as this kind writes it: a URL for http, a host for icmp, `HOST:PORT` otherwise.
    pub fn parse_target(&self, text: &str) -> Result<Target, String> {
        parse_target(self.kind, text)
    }

    /// The grants of a component run against `target`.
    pub fn grants_for(&self, target: Option<&Target>) -> Result<Vec<Grant>, String> {
        self.allow
            .iter()
            .map(|g| {
                let text = match target {
                    Some(t) => t.fill(g),
                    None => g.clone(),
                };
                text.parse::<Grant>()
                    .map_err(|e| format!("allow {text:?}: {e}"))
            })
            .collect()
    }

    /// The arguments of a component run against `target`.
    pub fn args_for(&self, target: Option<&Target>) -> Vec<String> {
        self.args
            .iter()
            .map(|a| match target {
                Some(t) => t.fill(a),
                None => a.clone(),
            })
            .collect()
    }
}

/// A target as `kind` writes it.
fn parse_target(kind: Kind, text: &str) -> Result<Target, String> {
    match kind {
        // blackbox's http prober takes a target without a scheme as http://.
        Kind::Http if !text.contains("://") => Target::parse_url(&format!("http://{text}")),
        Kind::Http => Target::parse_url(text),
        Kind::Icmp => Target::parse_host(text),
        // blackbox's dns prober asks port 53 of a target without one; sntp's is 123.
        Kind::Dns | Kind::Sntp => Target::parse(text).or_else(|e| {
            let port = if kind == Kind::Dns { 53 } else { 123 };
            let bare = match text.parse::<std::net::Ipv6Addr>() {
                Ok(_) => format!("[{text}]:{port}"),
                Err(_) => format!("{text}:{port}"),
            };
            Target::parse(&bare).map_err(|_| e)
        }),
        _ => Target::parse(text),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// `/probe` runs at once over all modules (at most `--probe-concurrency`,
    /// which sizes the instance pool; `None`: the flag's value).
    pub probe_concurrency: Option<usize>,
    /// The probes, in file order.
    pub probes: Vec<ProbeConfig>,
}

/// A config error: `FILE:LINE:COL: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A `probe_concurrency` value: 1 to `max`, or the span's error.
fn concurrency(
    v: &Option<Spanned<i64>>,
    max: i64,
    at: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<Option<usize>, ConfigError> {
    match v {
        Some(n) if (1..=max).contains(n.get_ref()) => Ok(Some(*n.get_ref() as usize)),
        Some(n) => Err(at(
            n.span(),
            format!("probe_concurrency = {}: use 1 to {max}", n.get_ref()),
        )),
        None => Ok(None),
    }
}

/// Check config `text` read from `path` (used in messages and for relative paths).
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let at = |span: std::ops::Range<usize>, msg: String| {
        let (line, col) = line_col(text, span.start);
        ConfigError(format!("{}:{line}:{col}: {msg}", path.display()))
    };
    let file: File = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim().to_string();
        match e.span() {
            Some(span) => at(span, msg),
            None => ConfigError(format!("{}: {msg}", path.display())),
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut insecure: Vec<String> = Vec::new();
    for r in &file.insecure_registries {
        let text = r.get_ref().trim();
        let ok = !text.is_empty()
            && !text.contains('/')
            && format!("oci://{text}/x")
                .parse::<crate::oci::OciRef>()
                .is_ok();
        if !ok {
            return Err(at(
                r.span(),
                format!(
                    "insecure_registries: {text:?} is not HOST or HOST:PORT (e.g. \"127.0.0.1:5000\")"
                ),
            ));
        }
        insecure.push(text.to_string());
    }
    let mut probes: Vec<ProbeConfig> = Vec::new();
    let mut names = std::collections::HashSet::new();
    for p in file.probe {
        let whole = p.span();
        let p = p.into_inner();
        let name = p.name.get_ref().trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(at(
                p.name.span(),
                format!(
                    "probe name {:?}: use letters, digits, '-', '_' and '.'",
                    p.name.get_ref()
                ),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(at(
                p.name.span(),
                format!("a second probe named {name:?}: names must be unique"),
            ));
        }
        let duration =
            |v: &Option<Spanned<String>>, field: &str| -> Result<Option<Duration>, ConfigError> {
                v.as_ref()
                    .map(|s| {
                        cli_args::units::positive_duration(s.get_ref(), "s")
                            .map_err(|e| at(s.span(), format!("{field}: {e}")))
                    })
                    .transpose()
            };
        let interval = duration(&p.interval, "interval")?.unwrap_or(Duration::from_secs(15));
        let timeout = duration(&p.timeout, "timeout")?
            .unwrap_or_else(|| interval.min(Duration::from_secs(5)));
        let target = match (&p.target, p.kind) {
            (Some(t), kind) => {
                if let Err(e) = parse_target(kind, t.get_ref()) {
                    return Err(at(t.span(), format!("target: {e}")));
                }
                t.get_ref().clone()
            }
            (None, Kind::Component) => String::new(),
            (None, kind) => {
                let form = match kind {
                    Kind::Http => "URL",
                    Kind::Icmp => "HOST",
                    _ => "HOST:PORT",
                };
                return Err(at(
                    whole,
                    format!(
                        "probe {name:?} ({}) needs a target = \"{form}\"",
                        kind.name()
                    ),
                ));
            }
        };
        let mut allow_targets = Vec::new();
        for t in &p.allow_targets {
            let pattern = if p.kind == Kind::Icmp {
                TargetPattern::parse_host(t.get_ref())
            } else {
                TargetPattern::parse(t.get_ref())
            };
            allow_targets.push(pattern.map_err(|e| at(t.span(), format!("allow_targets: {e}")))?);
        }
        let query = match (&p.query, p.kind) {
            (Some(q), _) => q.get_ref().clone(),
            (None, Kind::Dns) => {
                return Err(at(
                    whole,
                    format!("dns probe {name:?} needs query = \"NAME\""),
                ));
            }
            (None, _) => String::new(),
        };
        let record_type = match &p.record_type {
            Some(t) => {
                let upper = t.get_ref().to_ascii_uppercase();
                if !cli_args::flags::RECORD_TYPES.contains(&upper.as_str()) {
                    return Err(at(
                        t.span(),
                        format!(
                            "type {:?}: one of {}",
                            t.get_ref(),
                            cli_args::flags::RECORD_TYPES.join(", ")
                        ),
                    ));
                }
                upper
            }
            None => "A".into(),
        };
        let hex =
            |v: &Option<Spanned<String>>, field: &str| -> Result<Option<Vec<u8>>, ConfigError> {
                v.as_ref()
                    .map(|s| {
                        probe_proto::parse_hex(s.get_ref())
                            .map_err(|e| at(s.span(), format!("{field}: {e}")))
                    })
                    .transpose()
            };
        let send = match (&p.send, hex(&p.send_hex, "send_hex")?) {
            (Some(t), _) => Some(t.as_bytes().to_vec()),
            (None, h) => h,
        };
        let expect_bytes = hex(&p.expect_hex, "expect_hex")?;
        if let Some(e) = &p.expect
            && let Err(m) = probe_proto::Expectation::new(Some(e.get_ref()), None)
        {
            return Err(at(e.span(), m));
        }
        if p.kind == Kind::Udp && send.is_none() {
            return Err(at(
                whole,
                format!("udp probe {name:?} needs send = \"TEXT\" or send_hex = \"HEX\""),
            ));
        }
        let component = match (&p.component, p.kind) {
            (Some(c), Kind::Component) if crate::oci::OciRef::is_reference(c.get_ref()) => {
                let r: crate::oci::OciRef = c
                    .get_ref()
                    .parse()
                    .map_err(|e: String| at(c.span(), format!("component = {e}")))?;
                Some(crate::oci::Source::Oci(r))
            }
            (Some(c), Kind::Component) => {
                let path = base.join(c.get_ref());
                if !path.is_file() {
                    return Err(at(
                        c.span(),
                        format!("component {}: no such file", path.display()),
                    ));
                }
                Some(crate::oci::Source::File(path))
            }
            (None, Kind::Component) => {
                return Err(at(
                    whole,
                    format!(
                        "component probe {name:?} needs component = \"PATH.wasm\" (or \"oci://REGISTRY/REPO:TAG\")"
                    ),
                ));
            }
            (Some(c), _) => {
                return Err(at(
                    c.span(),
                    "component = is only for kind = \"component\"".into(),
                ));
            }
            (None, _) => None,
        };
        let own = parse_target(p.kind, &target).ok();
        let placeholders = |v: &[String]| v.iter().any(|a| has_placeholder(a));
        let allow_text: Vec<String> = p.allow.iter().map(|g| g.get_ref().clone()).collect();
        for g in &p.allow {
            // Checked with the probe's own target in place (or a stand-in).
            let stand_in = own
                .clone()
                .unwrap_or_else(|| Target::parse("127.0.0.1:1").expect("a valid target"));
            stand_in
                .fill(g.get_ref())
                .parse::<Grant>()
                .map_err(|e| at(g.span(), format!("allow: {e}")))?;
        }
        if p.kind == Kind::Component {
            let uses = placeholders(&p.args) || placeholders(&allow_text);
            if uses && own.is_none() {
                return Err(at(
                    whole.clone(),
                    format!(
                        "component probe {name:?} uses {{target}}, {{host}} or {{port}} but has no target = \"HOST:PORT\" for its scheduled runs"
                    ),
                ));
            }
            if let Some(t) = p.allow_targets.first()
                && !(placeholders(&p.args) && placeholders(&allow_text))
            {
                return Err(at(
                    t.span(),
                    format!(
                        "allow_targets on component probe {name:?}: the component would never be given another target; put {{target}} (or {{host}} and {{port}}) in its args and its allow grants, e.g. args = [\"{{target}}\"], allow = [\"tcp-connect://{{target}}\"]"
                    ),
                ));
            }
        } else if let Some(g) = p.allow.first() {
            return Err(at(
                g.span(),
                "allow = is only for kind = \"component\" (the built-in kinds are granted their target)".into(),
            ));
        }
        let max_memory = match (&p.max_memory, p.kind) {
            (Some(m), Kind::Component) => {
                let n = cli_args::units::size(m.get_ref(), 1 << 20)
                    .map_err(|e| at(m.span(), format!("max_memory: {e}")))?;
                if !(1 << 20..=MAX_COMPONENT_MEMORY as u64).contains(&n) {
                    return Err(at(
                        m.span(),
                        format!(
                            "max_memory: {:?} is outside 1MiB..=256MiB (what one pooled instance may have)",
                            m.get_ref()
                        ),
                    ));
                }
                n as usize
            }
            (Some(m), _) => {
                return Err(at(
                    m.span(),
                    "max_memory = is only for kind = \"component\"".into(),
                ));
            }
            (None, _) => DEFAULT_COMPONENT_MEMORY,
        };
        let probe_concurrency = concurrency(&p.probe_concurrency, 4096, &at)?;
        let raw_web = RawWeb {
            valid_status_codes: p.valid_status_codes,
            valid_http_versions: p.valid_http_versions,
            method: p.method,
            headers: p.headers,
            body: p.body,
            body_size_limit: p.body_size_limit,
            compression: p.compression,
            follow_redirects: p.follow_redirects,
            fail_if_ssl: p.fail_if_ssl,
            fail_if_not_ssl: p.fail_if_not_ssl,
            fail_if_body_matches_regexp: p.fail_if_body_matches_regexp,
            fail_if_body_not_matches_regexp: p.fail_if_body_not_matches_regexp,
            fail_if_header_matches: p.fail_if_header_matches,
            fail_if_header_not_matches: p.fail_if_header_not_matches,
            tls_config: p.tls_config,
            basic_auth: p.basic_auth,
            authorization: p.authorization,
        };
        let web_err = |e: String| at(whole.clone(), format!("probe {name:?}: {e}"));
        if p.kind != Kind::Http && raw_web.has_http_keys() {
            return Err(web_err(
                "valid_status_codes, method, headers, body, fail_if_* and the other HTTP keys are only for kind = \"http\"".into(),
            ));
        }
        let nts_on = p.nts == Some(true);
        if p.nts.is_some() && p.kind != Kind::Sntp {
            return Err(web_err("nts = is only for kind = \"sntp\"".into()));
        }
        if let Some(a) = p.allow_ntp_servers.first()
            && !nts_on
        {
            return Err(at(
                a.span(),
                "allow_ntp_servers = is only for kind = \"sntp\" with nts = true".into(),
            ));
        }
        let nts = if nts_on {
            let tls = super::web_probe::tls_settings(raw_web.tls_config.as_ref(), base)
                .map_err(web_err)?;
            if tls.insecure {
                return Err(web_err(
                    "tls_config.insecure_skip_verify: NTS without a verified key exchange authenticates nothing; give tls_config.ca_file instead".into(),
                ));
            }
            if tls.min_version.is_some() || tls.max_version.is_some() {
                return Err(web_err(
                    "tls_config.min_version / max_version: NTS-KE is TLS 1.3 only (RFC 8915), nothing to choose".into(),
                ));
            }
            let mut allowed = Vec::new();
            for a in &p.allow_ntp_servers {
                allowed.push(
                    nts_proto::server::Allowed::parse(a.get_ref())
                        .map_err(|e| at(a.span(), format!("allow_ntp_servers: {e}")))?,
                );
            }
            Some(NtsSettings {
                roots: tls.roots,
                server_name: tls.server_name,
                allowed,
            })
        } else {
            None
        };
        if !matches!(p.kind, Kind::Http | Kind::Tls) && !nts_on && raw_web.tls_config.is_some() {
            return Err(web_err(
                "tls_config is only for kind = \"http\" or \"tls\", or \"sntp\" with nts = true"
                    .into(),
            ));
        }
        let http = match p.kind {
            Kind::Http => Some(super::web_probe::http_settings(&raw_web, base).map_err(web_err)?),
            _ => None,
        };
        let needs_tls =
            p.kind == Kind::Tls || (p.kind == Kind::Http && target.starts_with("https:"));
        let tls = if needs_tls {
            Some(
                super::web_probe::tls_settings(raw_web.tls_config.as_ref(), base)
                    .map_err(web_err)?,
            )
        } else {
            None
        };
        let raw_icmp = super::icmp_settings::RawIcmp {
            packets: p.packets,
            packet_interval: p.packet_interval,
            payload_size: p.payload_size,
            ttl: p.ttl,
            dont_fragment: p.dont_fragment,
            source_ip_address: p.source_ip_address,
        };
        let icmp = match p.kind {
            Kind::Icmp => {
                Some(super::icmp_settings::settings(&raw_icmp, timeout).map_err(web_err)?)
            }
            _ if raw_icmp.any() => {
                return Err(web_err(
                    "packets, packet_interval, payload_size, ttl, dont_fragment and source_ip_address are only for kind = \"icmp\"".into(),
                ));
            }
            _ => None,
        };
        let preferred_ip_protocol = match &p.preferred_ip_protocol {
            None => None,
            Some(v) => Some(match v.get_ref().as_str() {
                "ip4" => crate::target::Family::V4,
                "ip6" => crate::target::Family::V6,
                other => {
                    return Err(at(
                        v.span(),
                        format!("preferred_ip_protocol = {other:?}: use \"ip4\" or \"ip6\""),
                    ));
                }
            }),
        };
        probes.push(ProbeConfig {
            http,
            tls,
            icmp,
            nts,
            preferred_ip_protocol,
            ip_protocol_fallback: p.ip_protocol_fallback.unwrap_or(true),
            name,
            kind: p.kind,
            target,
            interval,
            timeout,
            allow_targets,
            query,
            record_type,
            send,
            expect: p.expect.map(|e| e.into_inner()),
            expect_bytes,
            dialog: None,
            message: p
                .message
                .unwrap_or_else(|| echo_proto::DEFAULT_MESSAGE.into()),
            insecure_registry: matches!(&component, Some(crate::oci::Source::Oci(r))
                if insecure.iter().any(|i| i == &r.registry || i == r.host())),
            component,
            args: p.args,
            allow: allow_text,
            max_memory,
            probe_concurrency,
            dns: None,
            scheduled: true,
            module: true,
            open: false,
            unready: None,
        });
    }
    let probe_concurrency = concurrency(&file.probe_concurrency, 100_000, &at)?;
    Ok(Config {
        probe_concurrency,
        probes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
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
type = "A"

[[probe]]
name = "web"
kind = "tcp"
target = "127.0.0.1:80"
send = "HEAD / HTTP/1.0\r\n\r\n"
expect = "^HTTP/1\\.[01] "
"#;

    #[test]
    fn the_documented_form_parses() {
        let c = parse(GOOD, Path::new("/etc/netkit/watch.toml")).unwrap();
        assert_eq!(c.probes.len(), 3);
        let ntp = &c.probes[0];
        assert_eq!(
            (ntp.kind, ntp.timeout),
            (Kind::Sntp, Duration::from_secs(2))
        );
        let t = |s: &str| Target::parse(s).unwrap();
        assert!(ntp.allow_targets[0].covers(&t("127.9.9.9:5")));
        assert!(!ntp.allow_targets[0].covers(&t("10.0.0.1:5")));
        // timeout defaults to min(interval, 5s).
        assert_eq!(c.probes[1].timeout, Duration::from_secs(5));
        assert_eq!(
            c.probes[2].send.as_deref(),
            Some(&b"HEAD / HTTP/1.0\r\n\r\n"[..])
        );
    }

    #[test]
    fn registry_components_and_insecure_registries() {
        let p = Path::new("w.toml");
        let text = "insecure_registries = [\"127.0.0.1:5000\"]\n[[probe]]\nname = \"a\"\nkind = \"component\"\ncomponent = \"oci://127.0.0.1:5000/p/x:v1\"\n[[probe]]\nname = \"b\"\nkind = \"component\"\ncomponent = \"oci://ghcr.io/p/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n";
        let c = parse(text, p).unwrap();
        assert!(c.probes[0].insecure_registry && c.probes[0].follows_tag());
        assert!(!c.probes[1].insecure_registry && !c.probes[1].follows_tag());
        let e = parse(
            &text.replace("oci://127.0.0.1:5000/p/x:v1", "oci://127.0.0.1:5000/P"),
            p,
        )
        .unwrap_err();
        assert!(
            e.0.starts_with("w.toml:5:13: component = repository \"P\""),
            "{e}"
        );
        let e = parse(&text.replace("[\"127.0.0.1:5000\"]", "[\"http://x/\"]"), p).unwrap_err();
        assert!(
            e.0.contains("w.toml:1:24: insecure_registries: \"http://x/\" is not HOST"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let p = Path::new("w.toml");
        let e = parse(
            "[[probe]]\nname = \"a\"\nkind = \"ftp\"\ntarget = \"h:1\"\n",
            p,
        )
        .unwrap_err();
        assert!(e.0.starts_with("w.toml:3:8: "), "{e}");
        let e = parse(
            "[[probe]]\nname = \"a\"\nkind = \"tcp\"\ntarget = \"h:1\"\ninterval = \"soon\"\n",
            p,
        )
        .unwrap_err();
        assert!(e.0.starts_with("w.toml:5:12: interval"), "{e}");
        let e = parse(
            &format!("{GOOD}\n[[probe]]\nname = \"web\"\nkind = \"tcp\"\ntarget = \"h:2\"\n"),
            p,
        )
        .unwrap_err();
        assert!(e.0.contains("a second probe named \"web\""), "{e}");
        let e = parse("[[probe]]\nname = \"a\"\nkind = \"tcp\"\n", p).unwrap_err();
        assert!(
            e.0.starts_with("w.toml:1:1: ") && e.0.contains("needs a target"),
            "{e}"
        );
        let e = parse(
            "[[probe]]\nname = \"a\"\nkind = \"tcp\"\ntarget = \"h:1\"\ncolour = 3\n",
            p,
        )
        .unwrap_err();
        assert!(e.0.contains("colour"), "{e}");
        let e = parse("[[probe]\n", p).unwrap_err();
        assert!(e.0.starts_with("w.toml:1:"), "{e}");
    }

    #[test]
    fn icmp_targets_have_no_port_and_icmp_keys_stay_with_their_kind() {
        let p = Path::new("w.toml");
        let icmp = "[[probe]]\nname = \"g\"\nkind = \"icmp\"\ntarget = \"::1\"\ntimeout = \"3s\"\n";
        let c = parse(&format!("{icmp}packets = 3\npacket_interval = \"100ms\"\nallow_targets = [\"127.0.0.0/8\"]\n"), p).unwrap();
        let g = &c.probes[0];
        assert_eq!(g.icmp.as_ref().map(|s| s.packets), Some(3));
        let t = g.parse_target("127.0.0.9").unwrap();
        assert!(g.allow_targets[0].covers(&t));
        assert!(!g.allow_targets[0].covers(&g.parse_target("10.0.0.1").unwrap()));
        assert!(g.parse_target("127.0.0.1:80").is_err());
        let e = parse(&format!("{icmp}allow_targets = [\"127.0.0.0/8:*\"]\n"), p).unwrap_err();
        assert!(e.0.contains("no port"), "{e}");
        let e = parse(
            "[[probe]]\nname = \"g\"\nkind = \"icmp\"\ntarget = \"127.0.0.1:1\"\n",
            p,
        )
        .unwrap_err();
        assert!(e.0.contains("a host with no port"), "{e}");
        let e = parse(
            "[[probe]]\nname = \"t\"\nkind = \"tcp\"\ntarget = \"h:1\"\npackets = 2\n",
            p,
        )
        .unwrap_err();
        assert!(e.0.contains("only for kind = \"icmp\""), "{e}");
        let e = parse(&format!("{icmp}packets = 50\n"), p).unwrap_err();
        assert!(e.0.contains("raise timeout"), "{e}");
        let e = parse("[[probe]]\nname = \"g\"\nkind = \"icmp\"\n", p).unwrap_err();
        assert!(e.0.contains("needs a target = \"HOST\""), "{e}");
    }

    #[test]
    fn http_keys_are_checked_and_kept_to_their_kind() {
        let p = Path::new("w.toml");
        let http =
            "[[probe]]\nname = \"w\"\nkind = \"http\"\ntarget = \"http://127.0.0.1:8080/x\"\n";
        let c = parse(&format!("{http}valid_status_codes = [200, 301]\nmethod = \"head\"\npreferred_ip_protocol = \"ip4\"\n"), p).unwrap();
        let w = &c.probes[0];
        let h = w.http.as_ref().unwrap();
        assert_eq!(
            (h.method.as_str(), h.valid_status_codes.as_slice()),
            ("HEAD", &[200, 301][..])
        );
        assert_eq!(w.preferred_ip_protocol, Some(crate::target::Family::V4));
        assert!(w.tls.is_none(), "plain http reads no trust roots");
        let e = parse(&format!("{http}fail_if_body_matches_regexp = [\"(\"]\n"), p).unwrap_err();
        assert!(e.0.contains("not a regular expression"), "{e}");
        let e = parse(
            "[[probe]]\nname = \"t\"\nkind = \"tcp\"\ntarget = \"h:1\"\nmethod = \"GET\"\n",
            p,
        )
        .unwrap_err();
        assert!(e.0.contains("only for kind = \"http\""), "{e}");
        let e = parse(
            "[[probe]]\nname = \"w\"\nkind = \"http\"\ntarget = \"ftp://h/\"\n",
            p,
        )
        .unwrap_err();
        assert!(e.0.contains("only http:// and https://"), "{e}");
        let e = parse(&format!("{http}preferred_ip_protocol = \"ipx\"\n"), p).unwrap_err();
        assert!(e.0.contains("use \"ip4\" or \"ip6\""), "{e}");
    }
}
