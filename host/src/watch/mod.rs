//! `netkit watch`: probes run on schedule, each run a fresh instance in its own
//! sandbox granted only its target, their results kept as Prometheus metrics.
//! The HTTP endpoints are the command's (`cli/watch.rs`); this is the engine a
//! plugin host can embed.

pub mod config;
pub mod connections;
pub mod dns_settings;
pub mod history;
pub mod icmp_probe;
pub mod icmp_settings;
pub mod limits;
pub mod metrics;
pub mod modules;
pub mod reload;
pub mod result;
pub mod run;
pub mod server;
pub mod target;
pub mod tcp_dialog;
pub mod tcp_settings;
pub mod web_config;
pub mod web_probe;
mod web_run;

use crate::runtime::Host;
use config::{Config, ProbeConfig};
pub use limits::Limits;
use metrics::Metrics;
use run::{Probe, RunResult, Runners};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use target::Target;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

struct Scheduled {
    probe: Arc<Probe>,
    task: JoinHandle<()>,
}

/// What a reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Probes started (new).
    pub added: Vec<String>,
    /// Probes restarted (their configuration changed).
    pub changed: Vec<String>,
    /// Probes stopped (gone from the configuration).
    pub removed: Vec<String>,
    /// Probes left running as they were.
    pub unchanged: usize,
}

/// Why `/probe` would not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnceError {
    /// No probe of that name.
    UnknownModule(String),
    /// The target is neither the probe's own nor covered by its `allow_targets`.
    Forbidden(String),
    /// The target is not `HOST:PORT`.
    BadTarget(String),
    /// Too many `/probe` runs at once (all of them, or of this module): try again later.
    Busy(String),
}

/// The scheduled probes and their metrics.
pub struct Watcher {
    host: Host,
    metrics: Arc<Metrics>,
    probes: Mutex<HashMap<String, Scheduled>>,
    runners: Runners,
    limits: Limits,
    /// Runs of scheduled probes at once: a reservation `/probe` cannot take.
    scheduled: Arc<Semaphore>,
    /// Runs of `/probe` at once, over all modules (sized by the flag).
    once: Arc<Semaphore>,
    /// The config's `probe_concurrency`, at most the flag's.
    once_limit: std::sync::atomic::AtomicUsize,
    /// The exporter's own listen addresses: never a target of an open module.
    listening: Mutex<Vec<std::net::SocketAddr>>,
    runtime: tokio::runtime::Handle,
}

/// A pseudo-random fraction in [0, 1) (jitter: no two probes in lockstep).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(std::time::Instant::now()) % 10_000) as f64 / 10_000.0
}

impl Watcher {
    /// A watcher on `host` (made with [`Limits::host`]: its instance pool
    /// holds both reservations) within `limits`; call from inside a tokio runtime.
    pub fn new(host: Host, limits: Limits) -> Self {
        Self {
            host,
            metrics: Arc::new(Metrics::new()),
            probes: Mutex::new(HashMap::new()),
            runners: Runners::default(),
            scheduled: Arc::new(Semaphore::new(limits.scheduled_runs)),
            once: Arc::new(Semaphore::new(limits.probe_runs)),
            once_limit: std::sync::atomic::AtomicUsize::new(limits.probe_runs),
            listening: Mutex::new(Vec::new()),
            limits,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The metrics, shared (the HTTP server counts its connections there).
    pub fn metrics_shared(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// The Prometheus text of every metric, the compiled-components gauge
    /// counted now (a probe a reload stopped lets go of its runner when its
    /// task ends, just after the reload).
    pub fn metrics_text(&self) -> String {
        self.runners.prune();
        self.metrics.set_compiled(self.runners.alive());
        self.metrics.text()
    }

    /// Tell it the exporter's own listen addresses (refused as targets of open modules).
    pub fn set_listening(&self, addrs: &[std::net::SocketAddr]) {
        *self.listening.lock().unwrap_or_else(|p| p.into_inner()) = addrs.to_vec();
    }

    /// The names `/probe?module=` takes, sorted.
    pub fn module_names(&self) -> Vec<String> {
        let probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> = probes
            .values()
            .map(|s| s.probe.config())
            .filter(|c| c.module)
            .map(|c| c.name.clone())
            .collect();
        names.sort();
        names
    }

    /// The modules `/probe` may give any target (blackbox's behaviour), by name.
    pub fn open_modules(&self) -> Vec<String> {
        let probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        let mut open: Vec<String> = probes
            .values()
            .map(|s| s.probe.config())
            .filter(|c| c.module && c.open)
            .map(|c| c.name.clone())
            .collect();
        open.sort();
        open
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Put `config` in force: start new probes, restart changed ones, stop
    /// removed ones; unchanged ones keep running undisturbed. Nothing changes
    /// unless every new or changed probe could be compiled and linked.
    ///
    /// Blocking (it may compile): call it off the async threads
    /// ([`reload::Reloader`] does). The probes' lock is held only to read
    /// which probes run and to swap in the new ones, never while compiling;
    /// the cost is linear in the number of probes.
    pub fn apply(&self, config: Config) -> anyhow::Result<Changes> {
        let running: HashMap<String, Arc<Probe>> = {
            let probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
            probes
                .iter()
                .map(|(n, s)| (n.clone(), s.probe.clone()))
                .collect()
        };
        let mut changes = Changes::default();
        let mut ready: Vec<(Arc<Probe>, bool)> = Vec::new();
        for c in &config.probes {
            match running.get(&c.name) {
                Some(p) if p.config() == c && !c.follows_tag() => changes.unchanged += 1,
                // A tag may have moved: ask the registry again; the same digest
                // keeps the probe running undisturbed, a failed pull keeps the
                // component it has.
                Some(p) if p.config() == c => match self.runners.get(&self.host, c) {
                    Ok(runner) if Arc::ptr_eq(&runner, p.runner()) => changes.unchanged += 1,
                    Ok(runner) => {
                        let probe = Probe::new(&self.host, c.clone(), runner, &self.limits);
                        ready.push((Arc::new(probe), true));
                    }
                    Err(e) => {
                        tracing::warn!(
                            probe = %c.name,
                            "keeping the component it runs: {e:#}"
                        );
                        changes.unchanged += 1;
                    }
                },
                existing => {
                    let runner = self
                        .runners
                        .get(&self.host, c)
                        .map_err(|e| anyhow::anyhow!("probe {:?}: {e:#}", c.name))?;
                    let probe = Probe::new(&self.host, c.clone(), runner, &self.limits);
                    ready.push((Arc::new(probe), existing.is_some()));
                }
            }
        }
        drop(running);
        let keep: HashSet<&str> = config.probes.iter().map(|c| c.name.as_str()).collect();
        let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<String> = probes
            .keys()
            .filter(|n| !keep.contains(n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            if let Some(s) = probes.remove(&name) {
                s.task.abort();
                self.metrics.forget(s.probe.config());
                changes.removed.push(name);
            }
        }
        for (probe, replaces) in ready {
            let name = probe.config().name.clone();
            if let Some(old) = probes.remove(&name) {
                old.task.abort();
                self.metrics.forget(old.probe.config());
            }
            let task = if probe.config().scheduled {
                self.runtime.spawn(schedule(
                    probe.clone(),
                    self.metrics.clone(),
                    self.scheduled.clone(),
                ))
            } else {
                // A module only answers /probe: nothing runs on its own.
                self.runtime.spawn(async {})
            };
            probes.insert(name.clone(), Scheduled { probe, task });
            if replaces {
                changes.changed.push(name);
            } else {
                changes.added.push(name);
            }
        }
        drop(probes);
        let once = config
            .probe_concurrency
            .unwrap_or(self.limits.probe_runs)
            .min(self.limits.probe_runs);
        self.once_limit
            .store(once, std::sync::atomic::Ordering::Relaxed);
        // Compiled components no probe uses any more are freed.
        self.runners.prune();
        self.metrics.set_compiled(self.runners.alive());
        Ok(changes)
    }

    /// Run probe `module` once against `target` (its own when `None`), as
    /// blackbox_exporter's `/probe` does; the result is not recorded.
    /// Whether the probe may check `target` is decided on the target as
    /// written, before any name is resolved; a run takes a slot of `/probe`'s
    /// own (and of the module's) or is refused at once with [`OnceError::Busy`].
    pub async fn probe_once(
        &self,
        module: &str,
        target: Option<&str>,
        debug: bool,
        timeout: Option<Duration>,
        hostname: Option<&str>,
    ) -> Result<RunResult, OnceError> {
        let probe = {
            let probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
            probes
                .get(module)
                .filter(|s| s.probe.config().module)
                .map(|s| s.probe.clone())
                .ok_or_else(|| {
                    self.metrics.module_unknown();
                    OnceError::UnknownModule(module.to_string())
                })?
        };
        let c = probe.config();
        let own = c.own_target();
        let mut other = None;
        match target {
            None if own.is_none() && c.kind != config::Kind::Component => {
                return Err(OnceError::BadTarget("target parameter is missing".into()));
            }
            None => {}
            Some(t) => {
                let t = c.parse_target(t).map_err(OnceError::BadTarget)?;
                if own.as_ref() != Some(&t) {
                    self.may_check(module, c, own.as_ref(), &t)?;
                    other = Some(t);
                }
            }
        }
        if let Some(h) = hostname {
            c.check_hostname(h).map_err(OnceError::BadTarget)?;
        }
        let _permits = self.once_permits(&probe)?;
        Ok(probe.run_within(other, debug, timeout, hostname).await)
    }

    /// Whether module `c` may be given target `t` by `/probe`: decided on
    /// the target as written, before any lookup.
    fn may_check(
        &self,
        module: &str,
        c: &ProbeConfig,
        own: Option<&Target>,
        t: &Target,
    ) -> Result<(), OnceError> {
        if c.open {
            if t.is_link_local() {
                return Err(OnceError::Forbidden(format!(
                    "module {module:?} may not check {t}: a link-local address (169.254.0.0/16, fe80::/10: cloud metadata and credentials) is checked only by a module whose allow_targets lists it"
                )));
            }
            let listening = self.listening.lock().unwrap_or_else(|p| p.into_inner());
            if listening.iter().any(|l| t.names_listener(l)) {
                return Err(OnceError::Forbidden(format!(
                    "module {module:?} may not check {t}: it is netkit watch's own listen address, checked only by a module whose allow_targets lists it"
                )));
            }
            return Ok(());
        }
        // A URL: the same scheme as the probe's own (if it has one), and a
        // host and port allow_targets cover.
        let scheme_ok = own.is_none_or(|o| o.scheme() == t.scheme());
        if !scheme_ok || !c.allow_targets.iter().any(|p| p.covers(t)) {
            return Err(OnceError::Forbidden(forbidden(module, c, t)));
        }
        Ok(())
    }

    /// A slot of `/probe`'s and one of the module's, or why not.
    fn once_permits(
        &self,
        probe: &Probe,
    ) -> Result<(OwnedSemaphorePermit, OwnedSemaphorePermit), OnceError> {
        let module = probe.once_slots().clone().try_acquire_owned().map_err(|_| {
            self.metrics.rejected("module");
            OnceError::Busy(format!(
                "probe {:?} already has {} /probe runs in progress (its probe_concurrency); try again later",
                probe.config().name,
                probe.once_limit()
            ))
        })?;
        let limit = self.once_limit.load(std::sync::atomic::Ordering::Relaxed);
        let busy = || {
            self.metrics.rejected("probe_concurrency");
            OnceError::Busy(format!(
                "{limit} /probe runs are in progress (probe_concurrency in the config, at most --probe-concurrency); try again later"
            ))
        };
        let all = self.once.clone().try_acquire_owned().map_err(|_| busy())?;
        // Counted after taking a slot, so two requests racing for the last
        // one can both be refused but never both admitted.
        if self.limits.probe_runs - self.once.available_permits() > limit {
            return Err(busy());
        }
        Ok((all, module))
    }

    /// Stop every probe.
    pub fn stop(&self) {
        let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        for (_, s) in probes.drain() {
            s.task.abort();
        }
    }
}

/// The 403 text: what the probe may check, and how to allow more.
fn forbidden(module: &str, c: &ProbeConfig, t: &Target) -> String {
    let own = if c.target.is_empty() {
        "it has no target of its own".to_string()
    } else {
        format!("it checks {}", c.target)
    };
    let allowed = if c.allow_targets.is_empty() {
        "no other target (it has no allow_targets)".to_string()
    } else {
        format!(
            "only targets its allow_targets cover ({})",
            c.allow_targets
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "probe {module:?} may not check {t}: {own}, and /probe may give it {allowed}; a name is covered only by the same name, an address only by a network"
    )
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A probe's loop: a random start within its first interval, then one run per
/// interval (a run never overlaps the next: it is stopped at its timeout);
/// one log line when it goes up or down.
async fn schedule(probe: Arc<Probe>, metrics: Arc<Metrics>, slots: Arc<Semaphore>) {
    let c: ProbeConfig = probe.config().clone();
    tokio::time::sleep(c.interval.mul_f64(jitter())).await;
    let mut ticks = tokio::time::interval(c.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut up: Option<bool> = None;
    loop {
        let due = ticks.tick().await;
        let r = {
            // The scheduled runs' own reservation: never taken by /probe.
            let Ok(_slot) = slots.acquire().await else {
                return;
            };
            metrics.started_late(due.elapsed());
            probe.run(None).await
        };
        metrics.record(&c, &r);
        if up != Some(r.success) {
            if r.success {
                tracing::info!(probe = %c.name, kind = c.kind.name(), target = %c.target, "up: {}", probe_proto::escape_controls(&r.detail));
            } else {
                tracing::warn!(
                    probe = %c.name,
                    kind = c.kind.name(),
                    target = %c.target,
                    reason = r.reason.as_deref().unwrap_or("?"),
                    "down: {}",
                    probe_proto::escape_controls(&r.detail)
                );
            }
            up = Some(r.success);
        }
        // Keep at least a little air between runs of a probe that overruns.
        if r.duration >= c.interval {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Read and check the config file at `path`: blackbox_exporter's YAML
/// (`.yml`, `.yaml`; [`modules`]) or netkit's TOML.
pub fn load_config(path: &std::path::Path) -> Result<config::Config, config::ConfigError> {
    if modules::is_yaml(path) {
        return modules::load(path);
    }
    let text = cli_args::files::read_text(path, cli_args::files::Kind::Config)
        .map_err(|e| config::ConfigError(format!("the config: {e}")))?;
    config::parse(&text, path)
}
