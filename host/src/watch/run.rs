//! One run of one probe: a fresh instance in its own sandbox, granted only its
//! target, stopped at its timeout; the result as metric values.

use super::config::{Kind, ProbeConfig};
use crate::audit::Audit;
use crate::command::{self, Exit};
use crate::dns::SystemResolver;
use crate::dns_probe::{DnsClient, DnsQuery};
use crate::echo::{self, ClientRequest, Payload, Transport};
use crate::policy::{HostPattern, Policy, ResolvedPolicy};
use crate::probe::{Kind as ProbeKind, ProbeOptions, Prober};
use crate::runtime::{Host, Sandbox};
use crate::sntp::{Family, QueryOptions, SntpClient};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Component;

/// What one run found.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// Whether the probe succeeded.
    pub success: bool,
    /// Wall time of the run.
    pub duration: Duration,
    /// Why it failed, as a short label (`timeout`, `refused`, `NXDOMAIN`, `exit-1`, ...).
    pub reason: Option<String>,
    /// One line on what happened (for the logs).
    pub detail: String,
    /// The kind's own values: metric name and value.
    pub values: Vec<(&'static str, f64)>,
    /// Denied network attempts by operation.
    pub denied: BTreeMap<String, u64>,
}

impl RunResult {
    fn failed(reason: impl Into<String>, detail: String) -> Self {
        Self {
            success: false,
            duration: Duration::ZERO,
            reason: Some(reason.into()),
            detail,
            values: Vec::new(),
            denied: BTreeMap::new(),
        }
    }

    fn ok(detail: String, values: Vec<(&'static str, f64)>) -> Self {
        Self {
            success: true,
            duration: Duration::ZERO,
            reason: None,
            detail,
            values,
            denied: BTreeMap::new(),
        }
    }
}

/// The per-kind metrics a run may set (beside `probe_success` and
/// `probe_duration_seconds`), with their help text.
pub const VALUES: &[(&str, &str)] = &[
    (
        "probe_sntp_offset_seconds",
        "Offset of the server's clock from ours (positive: ours is behind)",
    ),
    (
        "probe_sntp_delay_seconds",
        "Round-trip delay of the SNTP exchange",
    ),
    ("probe_sntp_stratum", "Stratum the SNTP server announced"),
    (
        "probe_dns_rcode",
        "Response code of the DNS answer (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ...)",
    ),
    ("probe_dns_answer_rrs", "Records in the answer section"),
    (
        "probe_dns_authority_rrs",
        "Records in the authority section",
    ),
    (
        "probe_dns_additional_rrs",
        "Records in the additional section",
    ),
    ("probe_tcp_connect_seconds", "Time to connect"),
    (
        "probe_tcp_reply_seconds",
        "Time until the expected reply was complete",
    ),
    ("probe_udp_rtt_seconds", "Round trip of the datagram"),
    (
        "probe_echo_rtt_seconds",
        "Median round trip of the echo exchange",
    ),
    (
        "probe_component_exit_code",
        "Exit code of the custom component (124 deadline, 125 memory, 134 trap)",
    ),
];

/// What a probe runs, compiled and linked once and shared by every probe of
/// the same kind (or the same custom component): each run still gets a fresh
/// instance of its own.
pub enum Runner {
    /// The SNTP client.
    Sntp(SntpClient),
    /// The TCP or UDP probe.
    Probe(Prober),
    /// The DNS probe.
    Dns(DnsClient),
    /// The echo client component.
    Echo(Component),
    /// A custom `wasi:cli/run` component.
    Component(Component),
}

/// A probe ready to run any number of times.
pub struct Probe {
    config: ProbeConfig,
    host: Host,
    runner: Arc<Runner>,
}

/// Runners already compiled and linked, by kind (custom components by their
/// bytes' digest), so that 1,000 probes of one kind share one copy of its code.
#[derive(Default)]
pub struct Runners {
    ready: std::sync::Mutex<std::collections::HashMap<String, Arc<Runner>>>,
}

impl Runners {
    /// The runner for `config`, made once per kind or component.
    pub fn get(&self, host: &Host, config: &ProbeConfig) -> Result<Arc<Runner>> {
        let (key, bytes) = match config.kind {
            Kind::Component => {
                let path = config.component.as_ref().context("no component file")?;
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read component {}", path.display()))?;
                let digest: String = crate::cache::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                (format!("component:{digest}"), Some(bytes))
            }
            kind => (kind.name().to_string(), None),
        };
        let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = ready.get(&key) {
            return Ok(r.clone());
        }
        let runner = Arc::new(match config.kind {
            Kind::Sntp => Runner::Sntp(SntpClient::new(host)?),
            Kind::Tcp => Runner::Probe(Prober::new(host, ProbeKind::Tcp)?),
            Kind::Udp => Runner::Probe(Prober::new(host, ProbeKind::Udp)?),
            Kind::Dns => Runner::Dns(DnsClient::new(host)?),
            Kind::Echo => Runner::Echo(host.builtin(crate::components::Builtin::EchoClient)?),
            Kind::Component => {
                Runner::Component(host.compile(&bytes.unwrap_or_default()).with_context(|| {
                    format!(
                        "cannot load {}",
                        config
                            .component
                            .as_deref()
                            .unwrap_or(std::path::Path::new("?"))
                            .display()
                    )
                })?)
            }
        });
        ready.insert(key, runner.clone());
        Ok(runner)
    }
}

impl Probe {
    /// A probe of `config` running `runner` (from [`Runners::get`]).
    pub fn new(host: &Host, config: ProbeConfig, runner: Arc<Runner>) -> Self {
        Self {
            config,
            host: host.clone(),
            runner,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ProbeConfig {
        &self.config
    }

    /// Run once against `target` (the probe's own, resolved now, when `None`).
    pub async fn run(&self, target: Option<SocketAddr>) -> RunResult {
        let start = Instant::now();
        let audit = Arc::new(Audit::new(self.config.name.clone(), true));
        let limit = self.config.timeout + Duration::from_millis(250);
        let mut r = match tokio::time::timeout(limit, self.run_inner(target, &audit)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => RunResult::failed("error", format!("{e:#}")),
            Err(_) => RunResult::failed(
                "timeout",
                format!("stopped after the timeout of {:?}", self.config.timeout),
            ),
        };
        r.duration = start.elapsed();
        for e in audit.events().iter().filter(|e| !e.allowed()) {
            *r.denied.entry(e.operation.clone()).or_default() += 1;
        }
        r
    }

    async fn run_inner(&self, target: Option<SocketAddr>, audit: &Arc<Audit>) -> Result<RunResult> {
        let c = &self.config;
        let timeout_ms = c.timeout.as_millis().max(1) as u64;
        let sandbox = |policy: ResolvedPolicy| {
            let mut s = Sandbox::new(c.name.clone(), policy);
            s.set_audit(audit.clone())
                .set_deadline(Some(c.timeout))
                .set_discard_output(true);
            s
        };
        if let Runner::Component(component) = &*self.runner {
            let allow = c.allow.clone();
            let names = allow.iter().any(|g| matches!(g.host, HostPattern::Name(_)));
            let policy = off_thread(names, move || {
                Ok(Policy::new(allow).resolve(&SystemResolver)?)
            })
            .await?;
            let mut s = sandbox(policy);
            let mut argv = vec![c.name.clone()];
            argv.extend(c.args.iter().cloned());
            s.set_args(argv).set_max_memory(64 << 20);
            let exit = command::run(&self.host, component, &s).await?;
            let code = f64::from(exit.code());
            let values = vec![("probe_component_exit_code", code)];
            return Ok(match exit {
                Exit::Code(0) => RunResult::ok("exit 0".into(), values),
                other => {
                    let reason = match &other {
                        Exit::Code(n) => format!("exit-{n}"),
                        Exit::Deadline(_) => "deadline".into(),
                        Exit::OutOfMemory(_) => "out-of-memory".into(),
                        Exit::Trap(_) => "trap".into(),
                    };
                    RunResult {
                        values,
                        ..RunResult::failed(reason, other.to_string())
                    }
                }
            });
        }
        let addr = match target {
            Some(addr) => addr,
            None => resolve(&c.target).await?,
        };
        Ok(match &*self.runner {
            Runner::Sntp(client) => {
                let s = sandbox(crate::sntp::client_policy(addr));
                let options = QueryOptions {
                    timeout_ms,
                    tries: 2,
                    samples: 1,
                    burst: true,
                    family: Family::Any,
                };
                match client.query_in(&s, addr, &options).await? {
                    Ok(r) => RunResult::ok(
                        format!("offset {} ns, stratum {}", r.offset_ns, r.stratum),
                        vec![
                            ("probe_sntp_offset_seconds", r.offset_ns as f64 / 1e9),
                            ("probe_sntp_delay_seconds", r.delay_ns as f64 / 1e9),
                            ("probe_sntp_stratum", f64::from(r.stratum)),
                        ],
                    ),
                    Err(e) => {
                        RunResult::failed(crate::sntp::error_kind(&e), crate::sntp::describe(&e))
                    }
                }
            }
            Runner::Probe(prober) => {
                let kind = if c.kind == Kind::Tcp {
                    ProbeKind::Tcp
                } else {
                    ProbeKind::Udp
                };
                let s = sandbox(crate::probe::client_policy(kind, addr));
                let options = ProbeOptions {
                    count: 1,
                    interval_ms: 0,
                    timeout_ms,
                    send: c.send.clone(),
                    expect: c.expect.clone(),
                    expect_bytes: c.expect_bytes.clone(),
                };
                match prober.probe_in(&s, addr, &options).await? {
                    Ok(report) => {
                        let a = report.attempts.first().context("no attempt")?;
                        let v = crate::probe::view(a);
                        let secs = |ns: Option<u64>| ns.map(|n| n as f64 / 1e9);
                        let mut values = Vec::new();
                        match kind {
                            ProbeKind::Tcp => {
                                if let Some(t) = secs(a.rtt_ns) {
                                    values.push(("probe_tcp_connect_seconds", t));
                                }
                                if let Some(t) = secs(a.reply_ns) {
                                    values.push(("probe_tcp_reply_seconds", t));
                                }
                            }
                            ProbeKind::Udp => {
                                if let Some(t) = secs(a.rtt_ns) {
                                    values.push(("probe_udp_rtt_seconds", t));
                                }
                            }
                        }
                        if v.status == "ok" {
                            RunResult::ok(
                                probe_proto::attempt_text(&report.target, kind.verb(), &v),
                                values,
                            )
                        } else {
                            RunResult {
                                values,
                                ..RunResult::failed(v.status, v.detail.to_string())
                            }
                        }
                    }
                    Err(e) => {
                        RunResult::failed(crate::probe::error_kind(&e), crate::probe::describe(&e))
                    }
                }
            }
            Runner::Dns(client) => {
                let s = sandbox(crate::dns_probe::client_policy(addr));
                let query = DnsQuery {
                    name: c.query.clone(),
                    record_type: c.record_type.clone(),
                    server: addr.ip().to_string(),
                    port: addr.port(),
                    tcp: false,
                    timeout_ms,
                    recurse: true,
                };
                match client.query_in(&s, &query).await? {
                    Ok(a) => {
                        let values = vec![
                            (
                                "probe_dns_rcode",
                                dns_proto::rcode_number(&a.rcode).map_or(-1.0, f64::from),
                            ),
                            ("probe_dns_answer_rrs", a.answer.len() as f64),
                            ("probe_dns_authority_rrs", a.authority.len() as f64),
                            ("probe_dns_additional_rrs", a.additional.len() as f64),
                        ];
                        let detail = format!("{} with {} answers", a.rcode, a.answer.len());
                        if a.rcode == "NOERROR" {
                            RunResult::ok(detail, values)
                        } else {
                            RunResult {
                                values,
                                ..RunResult::failed(a.rcode.clone(), detail)
                            }
                        }
                    }
                    Err(e) => RunResult::failed(
                        crate::dns_probe::error_kind(&e),
                        crate::dns_probe::describe(&e),
                    ),
                }
            }
            Runner::Echo(component) => {
                let s = sandbox(echo::client_policy(addr, Transport::Tcp));
                let request = ClientRequest {
                    host: addr.ip().to_string(),
                    port: addr.port(),
                    transport: Transport::Tcp,
                    payload: Payload::Message(c.message.clone()),
                    count: 1,
                    concurrency: 1,
                    timeout_ms,
                };
                match echo::run_client(&self.host, component, &s, &request).await? {
                    Ok(r) => RunResult::ok(
                        format!("{} bytes echoed", r.total_bytes),
                        vec![("probe_echo_rtt_seconds", r.rtt_median_ns as f64 / 1e9)],
                    ),
                    Err(e) => RunResult::failed(echo::error_kind(&e), echo::describe(&e)),
                }
            }
            Runner::Component(_) => unreachable!("handled above"),
        })
    }
}

/// Run `resolve` on tokio's blocking pool if it may ask the system resolver
/// (`names`: getaddrinfo blocks, and would hold up every probe sharing this
/// thread); IP literals never reach the resolver and stay inline.
async fn off_thread<T: Send + 'static>(
    names: bool,
    resolve: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    if names {
        tokio::task::spawn_blocking(resolve).await?
    } else {
        resolve()
    }
}

/// `HOST:PORT` to one address, as every netkit command resolves its target
/// (a name off the async threads: see [`off_thread`]).
pub async fn resolve(target: &str) -> Result<SocketAddr> {
    let (host, port) = probe_proto::split_target(target).map_err(anyhow::Error::msg)?;
    let names = crate::policy::ip_literal(&host).is_none();
    off_thread(names, move || {
        Ok(crate::target::target(&host, port, crate::target::Family::Any)?.addr)
    })
    .await
}
