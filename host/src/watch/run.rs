//! One run of one probe: a fresh instance in its own sandbox, granted only its
//! target, stopped at its timeout; the result as metric values.

use super::config::{Kind, ProbeConfig};
use super::target::{Target, TargetHost};
use crate::audit::Audit;
use crate::command::{self, Exit};
use crate::dns::SystemResolver;
use crate::dns_probe::{DnsClient, DnsQuery};
use crate::echo::{self, ClientRequest, Payload, Transport};
use crate::oci::Source;
use crate::policy::{HostPattern, Policy, ResolvedPolicy};
use crate::probe::{Kind as ProbeKind, ProbeOptions, Prober};
use crate::runtime::{Host, Sandbox};
use crate::sntp::{Family, QueryOptions, SntpClient};
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Component;

pub use super::result::{Labeled, RunResult};

/// The metrics every prober's run may set (the target's lookup, the
/// timeout, a regex's verdict) and those of the built-in probers without a
/// room of their own (sntp, tcp connect, udp, echo, component), with their help.
pub const OWN_VALUES: &[(&str, &str)] = &[
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
        "probe_nts_authenticated",
        "Whether the SNTP answer was authenticated by NTS (1) or the run failed (0)",
    ),
    (
        "probe_nts_key_exchange_seconds",
        "Duration of this run's NTS key exchange (0: cookies kept from an earlier run served)",
    ),
    (
        "probe_nts_key_exchanges",
        "NTS key exchanges this probe has made since it was loaded",
    ),
    ("probe_nts_cookies", "NTS cookies kept for the next run"),
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
        "probe_failed_due_to_regex",
        "Whether the probe failed because of a regex (1) or not (0)",
    ),
    (
        "probe_timeout_seconds",
        "How long the probe's timeout is (the module's, or a scrape's less --timeout-offset)",
    ),
    (
        "probe_dns_lookup_time_seconds",
        "How long netkit's name lookup of the target took",
    ),
    (
        "probe_ip_protocol",
        "The IP version of the address probed (4 or 6)",
    ),
    (
        "probe_ip_addr_hash",
        "A hash of the address probed (FNV-1a, as blackbox_exporter's): it changes when the address does",
    ),
    (
        "probe_component_exit_code",
        "Exit code of the custom component (124 deadline, 125 memory, 134 trap)",
    ),
];

/// Every per-kind metric a run may set (beside `probe_success` and
/// `probe_duration_seconds`), with its help: each prober's own names, from
/// its run's file, and the shared ones above.
pub fn values() -> &'static [(&'static str, &'static str)] {
    static ALL: std::sync::LazyLock<Vec<(&str, &str)>> = std::sync::LazyLock::new(|| {
        [
            OWN_VALUES,
            super::web_run::HTTP_VALUES,
            super::web_run::TLS_VALUES,
            super::dns_settings::VALUES,
            super::icmp_probe::VALUES,
            super::tcp_dialog::VALUES,
        ]
        .concat()
    });
    &ALL
}

#[cfg(test)]
#[test]
fn every_metric_name_is_declared_once_in_one_room() {
    let mut names: Vec<&str> = values().iter().chain(labeled()).map(|(n, _)| *n).collect();
    let all = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all, "a metric name is declared in two rooms");
    assert!(names.iter().all(|n| n.starts_with("probe_")));
}

/// Every labelled per-kind metric, with its help, from the probers' files.
pub fn labeled() -> &'static [(&'static str, &'static str)] {
    static ALL: std::sync::LazyLock<Vec<(&str, &str)>> = std::sync::LazyLock::new(|| {
        [
            super::web_run::HTTP_LABELED,
            super::web_run::TLS_LABELED,
            super::dns_settings::LABELED,
            super::icmp_probe::LABELED,
            super::tcp_dialog::LABELED,
        ]
        .concat()
    });
    &ALL
}

/// Where watch's limits are set, for the hints of a component's ending.
const WATCH_HINTS: command::Hints = command::Hints {
    deadline: "timeout = in the probe's config",
    memory: "max_memory = in the probe's config",
};

/// Events a run's audit keeps (its counts stay exact).
pub const RUN_AUDIT_EVENTS: usize = 32;
/// Text a run's audit keeps.
pub const RUN_AUDIT_TEXT: usize = 4 << 10;
/// How long past the sandbox deadline a run blocked in a host call is dropped.
const DEADLINE_GRACE: Duration = Duration::from_millis(250);

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
    /// The HTTP probe.
    Http(crate::http::HttpProber),
    /// The TLS probe.
    Tls(crate::tls::TlsProber),
    /// The ping component.
    Ping(crate::ping::Pinger),
}

/// A probe ready to run any number of times.
pub struct Probe {
    config: ProbeConfig,
    host: Host,
    runner: Arc<Runner>,
    /// `/probe` runs of this module at once.
    once: Arc<tokio::sync::Semaphore>,
    once_limit: usize,
    /// NTS sessions kept between runs, by target (bounded: `/probe` may name many).
    nts: std::sync::Mutex<std::collections::HashMap<String, crate::sntp::NtsSession>>,
    key_exchanges: std::sync::atomic::AtomicU64,
}

/// NTS sessions one probe keeps (one per target it ran against).
const MAX_NTS_SESSIONS: usize = 256;

/// The component `r` names, pulled now (a tag is always asked: it may have moved)
/// or, for a digest pulled before, from the cache; logged as tag → digest.
/// Blocking: called where configs are applied, off the async threads.
fn pull(host: &Host, probe: &str, r: &crate::oci::OciRef, insecure: bool) -> Result<Vec<u8>> {
    let registries = crate::oci::Registries::new(if insecure {
        vec![r.registry.clone()]
    } else {
        Vec::new()
    });
    let store = host
        .cache()
        .and_then(|c| crate::oci::store::Store::open(c).ok());
    let fetch = crate::oci::fetch(r, &registries, store.as_ref());
    let pulled = match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(fetch),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(fetch),
    }?;
    tracing::info!(
        probe,
        component = %r,
        digest = %pulled.digest,
        from_cache = pulled.offline,
        "component {r} is {}",
        pulled.pinned()
    );
    Ok(pulled.bytes)
}

/// The largest component file a probe may name; checked before it is read.
pub const MAX_COMPONENT_FILE: u64 = 64 << 20;

/// Read a component file, checking first that it is a regular file of at
/// most [`MAX_COMPONENT_FILE`] bytes that starts like a WebAssembly component
/// (a 1 GB file is refused from its size, a text file from its first bytes,
/// before either is read whole).
pub fn read_component(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: a FIFO named as a component must not block the reload.
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("cannot open component {}", path.display()))?;
    let meta = f.metadata()?;
    anyhow::ensure!(
        meta.is_file(),
        "component {} is not a regular file",
        path.display()
    );
    anyhow::ensure!(
        meta.len() <= MAX_COMPONENT_FILE,
        "component {} is {} MiB, more than the {} MiB a probe's component may be",
        path.display(),
        meta.len() >> 20,
        MAX_COMPONENT_FILE >> 20
    );
    let mut magic = [0u8; 8];
    f.read_exact(&mut magic)
        .ok()
        .filter(|_| magic[..4] == *b"\0asm")
        .with_context(|| format!("{} is not a WebAssembly file", path.display()))?;
    anyhow::ensure!(
        magic[4..] == [0x0d, 0x00, 0x01, 0x00],
        "{} is a core WebAssembly module, not a component (build it for wasm32-wasip2, or wrap it with wasm-tools component new)",
        path.display()
    );
    let mut bytes = magic.to_vec();
    f.take(MAX_COMPONENT_FILE - 8).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Runners already compiled and linked, by kind (custom components by their
/// bytes' digest), so that 1,000 probes of one kind share one copy of its
/// code; held weakly, so a runner no probe uses any more is freed.
#[derive(Default)]
pub struct Runners {
    ready: std::sync::Mutex<std::collections::HashMap<String, std::sync::Weak<Runner>>>,
}

impl Runners {
    /// The runner for `config`, made once per kind or component.
    pub fn get(&self, host: &Host, config: &ProbeConfig) -> Result<Arc<Runner>> {
        let (key, bytes) = match config.kind {
            Kind::Component => {
                let bytes = match config.component.as_ref().context("no component")? {
                    Source::File(path) => read_component(path)?,
                    Source::Oci(r) => pull(host, &config.name, r, config.insecure_registry)?,
                };
                let digest: String = crate::cache::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                (format!("component:{digest}"), Some(bytes))
            }
            Kind::Tcp if config.dialog.is_some() => ("tcp-dialog".to_string(), None),
            kind => (kind.name().to_string(), None),
        };
        if let Some(r) = self.lock().get(&key).and_then(std::sync::Weak::upgrade) {
            return Ok(r);
        }
        let runner = Arc::new(match config.kind {
            Kind::Sntp => Runner::Sntp(SntpClient::new(host)?),
            Kind::Tcp if config.dialog.is_some() => Runner::Tls(crate::tls::TlsProber::new(host)?),
            Kind::Tcp => Runner::Probe(Prober::new(host, ProbeKind::Tcp)?),
            Kind::Udp => Runner::Probe(Prober::new(host, ProbeKind::Udp)?),
            Kind::Dns => Runner::Dns(DnsClient::new(host)?),
            Kind::Echo => Runner::Echo(host.builtin(crate::components::Builtin::EchoClient)?),
            Kind::Http => Runner::Http(crate::http::HttpProber::new(host)?),
            Kind::Tls => Runner::Tls(crate::tls::TlsProber::new(host)?),
            Kind::Icmp => Runner::Ping(crate::ping::Pinger::new(host)?),
            Kind::Component => {
                Runner::Component(host.compile(&bytes.unwrap_or_default()).with_context(|| {
                    format!(
                        "cannot load {}",
                        config
                            .component
                            .as_ref()
                            .map_or_else(|| "?".to_string(), |c| c.to_string())
                    )
                })?)
            }
        });
        self.lock().insert(key, Arc::downgrade(&runner));
        Ok(runner)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, std::sync::Weak<Runner>>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forget the runners nobody holds any more.
    pub fn prune(&self) {
        self.lock().retain(|_, r| r.strong_count() > 0);
    }

    /// Runners alive (for tests and the logs).
    pub fn alive(&self) -> usize {
        self.lock()
            .values()
            .filter(|r| r.strong_count() > 0)
            .count()
    }
}

impl Probe {
    /// What it runs (shared by every probe of the same kind or component).
    pub fn runner(&self) -> &Arc<Runner> {
        &self.runner
    }

    /// A probe of `config` running `runner` (from [`Runners::get`]).
    pub fn new(
        host: &Host,
        config: ProbeConfig,
        runner: Arc<Runner>,
        limits: &super::Limits,
    ) -> Self {
        let once_limit = config.probe_concurrency.unwrap_or(limits.module_runs);
        Self {
            config,
            host: host.clone(),
            runner,
            once: Arc::new(tokio::sync::Semaphore::new(once_limit)),
            once_limit,
            nts: Default::default(),
            key_exchanges: Default::default(),
        }
    }

    /// The slots of `/probe` runs of this module.
    pub fn once_slots(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.once
    }

    /// How many `/probe` runs of this module may run at once.
    pub fn once_limit(&self) -> usize {
        self.once_limit
    }

    /// The configuration.
    pub fn config(&self) -> &ProbeConfig {
        &self.config
    }

    /// Run once against `target` (the probe's own, resolved now, when `None`).
    pub async fn run(&self, target: Option<Target>) -> RunResult {
        self.run_with(target, false).await
    }

    /// Run once, and with `debug` keep the sandbox's audit table in the result.
    pub async fn run_with(&self, target: Option<Target>, debug: bool) -> RunResult {
        self.run_within(target, debug, None, None).await
    }

    /// Run once within `timeout` when it is shorter than the probe's own (a
    /// scrape's timeout less `--timeout-offset`, as blackbox does).
    pub async fn run_within(
        &self,
        target: Option<Target>,
        debug: bool,
        timeout: Option<Duration>,
        hostname: Option<&str>,
    ) -> RunResult {
        let changed;
        let config = match (timeout.filter(|t| *t < self.config.timeout), hostname) {
            (None, None) => &self.config,
            (t, h) => {
                let mut c = self.config.clone();
                if let Some(t) = t {
                    c.timeout = t.max(Duration::from_millis(1));
                }
                if let Some(h) = h {
                    c.set_hostname(h);
                }
                changed = c;
                &changed
            }
        };
        let start = Instant::now();
        if let Some(why) = &config.unready {
            // A file the module names is missing (blackbox fails such runs too).
            return RunResult::failed("config", why.clone());
        }
        // A run keeps a few events and exact counts: 250 concurrent runs of a
        // component making 100,000 denied sends once held 1.85 GB of audit.
        let audit = Arc::new(Audit::bounded(
            self.config.name.clone(),
            true,
            RUN_AUDIT_EVENTS,
            RUN_AUDIT_TEXT,
        ));
        let deadline = config.deadline();
        let limit = deadline + DEADLINE_GRACE;
        let mut r = match tokio::time::timeout(limit, self.run_inner(config, target, &audit)).await
        {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => match command::trap_of(&e) {
                Some(wasmtime::Trap::Interrupt) => RunResult::failed(
                    "deadline",
                    format!(
                        "stopped at the sandbox deadline of {:.3} s, past its own timeout of {:.3} s (raise timeout = in the probe's config)",
                        deadline.as_secs_f64(),
                        config.timeout.as_secs_f64()
                    ),
                ),
                Some(_) => RunResult::failed("trap", command::one_line(&e)),
                None => RunResult::failed("error", command::one_line(&e)),
            },
            Err(_) => RunResult::failed(
                "deadline",
                format!(
                    "stopped at the sandbox deadline of {:.3} s (raise timeout = in the probe's config)",
                    deadline.as_secs_f64()
                ),
            ),
        };
        r.duration = start.elapsed();
        // blackbox's handler sets it for every run: the timeout in force.
        r.values
            .push(("probe_timeout_seconds", config.timeout.as_secs_f64()));
        r.denied = audit
            .denied_by_operation()
            .into_iter()
            .map(|(op, n)| (op.to_string(), n))
            .collect();
        if debug {
            r.audit_table = Some(audit.table());
        }
        r
    }

    /// An NTS run: the session kept from the last run against `target` (if
    /// it has cookies) makes it one UDP exchange; else a key exchange first.
    async fn run_nts(
        &self,
        client: &SntpClient,
        base: &Sandbox,
        settings: &super::config::NtsSettings,
        target: &Target,
        addr: std::net::SocketAddr,
        timeout_ms: u64,
    ) -> Result<RunResult> {
        use std::sync::atomic::Ordering;
        let key = target.to_string();
        let kept = self.nts_sessions().remove(&key);
        let request = crate::nts::NtsRequest {
            ke_name: target.bare_host(),
            ke_addr: addr,
            options: crate::sntp::NtsOptions {
                server_name: settings.server_name.clone(),
                roots: settings.roots.to_vec(),
                timeout_ms,
            },
            allowed: settings.allowed.clone(),
            query: QueryOptions {
                timeout_ms,
                tries: 2,
                samples: 1,
                burst: true,
                family: Family::Any,
            },
            budget: Some(Duration::from_millis(timeout_ms)),
        };
        let run = crate::nts::run(client, base, &request, kept).await?;
        let exchanges = self
            .key_exchanges
            .fetch_add(u64::from(run.key_exchanges), Ordering::Relaxed)
            + u64::from(run.key_exchanges);
        let cookies = run.session.as_ref().map_or(0, |s| s.cookies.len());
        if let Some(session) = run.session {
            let mut sessions = self.nts_sessions();
            if sessions.len() >= MAX_NTS_SESSIONS {
                // Full: forget one; it costs that target a key exchange.
                if let Some(k) = sessions.keys().next().cloned() {
                    sessions.remove(&k);
                }
            }
            sessions.insert(key, session);
        }
        let counts = |authenticated: f64, ke: f64| {
            vec![
                ("probe_nts_authenticated", authenticated),
                ("probe_nts_key_exchange_seconds", ke),
                ("probe_nts_key_exchanges", exchanges as f64),
                ("probe_nts_cookies", cookies as f64),
            ]
        };
        Ok(match run.outcome {
            Ok(r) => {
                let ke_ns = run.nts.as_ref().map_or(0, |n| n.ke_ns);
                let mut values = vec![
                    ("probe_sntp_offset_seconds", r.offset_ns as f64 / 1e9),
                    ("probe_sntp_delay_seconds", r.delay_ns as f64 / 1e9),
                    ("probe_sntp_stratum", f64::from(r.stratum)),
                ];
                values.extend(counts(
                    if run.nts.is_some() { 1.0 } else { 0.0 },
                    ke_ns as f64 / 1e9,
                ));
                RunResult::ok(
                    format!(
                        "offset {} ns, stratum {}, NTS-authenticated{}",
                        r.offset_ns,
                        r.stratum,
                        if run.key_exchanges == 0 {
                            " (cookies kept)"
                        } else {
                            ""
                        }
                    ),
                    values,
                )
            }
            Err(e) => RunResult {
                values: counts(0.0, 0.0),
                ..RunResult::failed(crate::sntp::error_kind(&e), crate::sntp::describe(&e))
            },
        })
    }

    fn nts_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, crate::sntp::NtsSession>> {
        self.nts.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn run_inner(
        &self,
        c: &ProbeConfig,
        target: Option<Target>,
        audit: &Arc<Audit>,
    ) -> Result<RunResult> {
        let timeout_ms = c.timeout.as_millis().max(1) as u64;
        let sandbox = |policy: ResolvedPolicy| {
            let mut s = Sandbox::new(c.name.clone(), policy);
            s.set_audit(audit.clone())
                .set_deadline(Some(c.deadline()))
                .set_max_sockets(super::limits::BUILTIN_SOCKETS)
                .set_max_memory(super::limits::BUILTIN_MEMORY)
                .set_discard_output(true);
            s
        };
        let target = target.or_else(|| c.own_target());
        if let Runner::Component(component) = &*self.runner {
            let allow = c.grants_for(target.as_ref()).map_err(anyhow::Error::msg)?;
            let names = allow.iter().any(|g| matches!(g.host, HostPattern::Name(_)));
            let policy = off_thread(names, move || {
                Ok(Policy::new(allow).resolve(&SystemResolver)?)
            })
            .await?;
            let mut s = sandbox(policy);
            let mut argv = vec![c.name.clone()];
            argv.extend(c.args_for(target.as_ref()));
            s.set_args(argv)
                .set_max_memory(c.max_memory)
                .set_max_sockets(super::limits::COMPONENT_SOCKETS);
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
                        ..RunResult::failed(reason, other.describe(WATCH_HINTS))
                    }
                }
            });
        }
        let target = target.context("the probe has no target")?;
        let lookup = Instant::now();
        let addr = match resolve(&target, c.preferred_ip_protocol, c.ip_protocol_fallback).await {
            Ok(addr) => addr,
            Err(e) => {
                return Ok(RunResult::failed(
                    "resolve",
                    format!("cannot resolve {target}: {}", command::one_line(&e)),
                ));
            }
        };
        let lookup_time = lookup.elapsed();
        let mut r = self
            .run_resolved(c, &target, addr, lookup_time, timeout_ms, &sandbox)
            .await?;
        resolved_values(&mut r, addr, lookup_time);
        Ok(r)
    }

    /// A built-in kind's run against `addr` (`target` resolved).
    async fn run_resolved(
        &self,
        c: &ProbeConfig,
        target: &Target,
        addr: SocketAddr,
        lookup: Duration,
        timeout_ms: u64,
        sandbox: &(dyn Fn(ResolvedPolicy) -> Sandbox + Sync),
    ) -> Result<RunResult> {
        let target = target.clone();
        Ok(match &*self.runner {
            Runner::Sntp(client) if c.nts.is_some() => {
                let settings = c.nts.as_ref().context("nts settings")?;
                self.run_nts(
                    client,
                    &sandbox(ResolvedPolicy::new(vec![])),
                    settings,
                    &target,
                    addr,
                    timeout_ms,
                )
                .await?
            }
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
                                // blackbox's tcp prober always sets it.
                                let regex = v.status == "mismatch" && c.expect.is_some();
                                values.push((
                                    "probe_failed_due_to_regex",
                                    f64::from(u8::from(regex)),
                                ));
                                let bytes = v.status == "mismatch"
                                    && c.expect.is_none()
                                    && c.expect_bytes.is_some();
                                values.push((
                                    "probe_failed_due_to_bytes",
                                    f64::from(u8::from(bytes)),
                                ));
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
                let settings = c.dns.clone().unwrap_or_default();
                let query = DnsQuery {
                    name: c.query.clone(),
                    record_type: c.record_type.clone(),
                    server: addr.ip().to_string(),
                    port: addr.port(),
                    tcp: settings.tcp,
                    timeout_ms,
                    recurse: settings.recursion,
                };
                match client.query_in(&s, &query).await? {
                    Ok(a) => {
                        let mut r = match super::dns_settings::judge(&settings, &c.record_type, &a)
                        {
                            (values, Ok(detail)) => RunResult::ok(detail, values),
                            (values, Err((reason, detail))) => RunResult {
                                values,
                                ..RunResult::failed(reason, detail)
                            },
                        };
                        // blackbox's phases; the guest times the exchange as a
                        // whole, a TCP connect included in "request".
                        for (phase, secs) in [
                            ("resolve", lookup.as_secs_f64()),
                            ("connect", 0.0),
                            ("request", a.query_ns as f64 / 1e9),
                        ] {
                            r.labeled.push((
                                "probe_dns_duration_seconds",
                                vec![("phase".to_string(), phase.to_string())],
                                secs,
                            ));
                        }
                        r
                    }
                    Err(e) => RunResult {
                        values: vec![("probe_dns_query_succeeded", 0.0)],
                        ..RunResult::failed(
                            crate::dns_probe::error_kind(&e),
                            crate::dns_probe::describe(&e),
                        )
                    },
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
            Runner::Http(prober) => {
                let s = sandbox(crate::http::client_policy(&[addr]));
                super::web_run::http(prober, &s, c, &target, addr, lookup).await?
            }
            Runner::Tls(prober) => {
                let s = sandbox(crate::tls::client_policy(addr));
                match &c.dialog {
                    Some(d) if c.kind == Kind::Tcp => {
                        super::tcp_dialog::run(prober, &s, c, d, &target, addr).await?
                    }
                    _ => super::web_run::tls(prober, &s, c, &target, addr, lookup).await?,
                }
            }
            Runner::Ping(pinger) => {
                let s = sandbox(crate::ping::client_policy(addr.ip()));
                super::icmp_probe::run(pinger, &s, c, addr, lookup).await?
            }
            Runner::Component(_) => unreachable!("handled above"),
        })
    }
}

/// blackbox's `chooseProtocol` values, which every prober that resolves a
/// target sets: the lookup time, the IP version and `probe_ip_addr_hash`
/// (FNV-1a of the address's 4 or 16 bytes, as blackbox hashes it), where the
/// kind's run has not set them itself.
fn resolved_values(r: &mut RunResult, addr: SocketAddr, lookup: Duration) {
    let bytes = match addr.ip() {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => a.octets().to_vec(),
        },
    };
    let hash = bytes.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    });
    for (name, value) in [
        ("probe_dns_lookup_time_seconds", lookup.as_secs_f64()),
        ("probe_ip_protocol", if addr.is_ipv4() { 4.0 } else { 6.0 }),
        ("probe_ip_addr_hash", f64::from(hash)),
    ] {
        if !r.values.iter().any(|(n, _)| *n == name) {
            r.values.push((name, value));
        }
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

/// A target to one address, as every netkit command resolves its target
/// (a name off the async threads: see [`off_thread`]).
/// With `preferred` (blackbox's `preferred_ip_protocol`) a name resolves to
/// that family first, and to any address when it has none and `fallback`.
pub async fn resolve(
    target: &Target,
    preferred: Option<crate::target::Family>,
    fallback: bool,
) -> Result<SocketAddr> {
    use crate::target::Family;
    let (host, port) = (target.bare_host(), target.port);
    let names = matches!(target.host, TargetHost::Name(_));
    off_thread(names, move || match preferred {
        None => Ok(crate::target::target(&host, port, Family::Any)?.addr),
        Some(family) => match crate::target::target(&host, port, family) {
            Ok(t) => Ok(t.addr),
            Err(_) if fallback => Ok(crate::target::target(&host, port, Family::Any)?.addr),
            Err(e) => Err(e),
        },
    })
    .await
}
