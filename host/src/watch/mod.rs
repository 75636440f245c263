//! `netkit watch`: probes run on schedule, each run a fresh instance in its own
//! sandbox granted only its target, their results kept as Prometheus metrics.
//! The HTTP endpoints are the command's (`cli/watch.rs`); this is the engine a
//! plugin host can embed.

pub mod config;
pub mod metrics;
pub mod run;

use crate::runtime::Host;
use config::{Config, ProbeConfig};
use metrics::Metrics;
use run::{Probe, RunResult, Runners};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
    /// The target is not `HOST:PORT` or does not resolve.
    BadTarget(String),
}

/// The scheduled probes and their metrics.
pub struct Watcher {
    host: Host,
    metrics: Arc<Metrics>,
    probes: Mutex<HashMap<String, Scheduled>>,
    runners: Runners,
}

/// A pseudo-random fraction in [0, 1) (jitter: no two probes in lockstep).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(std::time::Instant::now()) % 10_000) as f64 / 10_000.0
}

impl Watcher {
    /// A watcher on `host` (use the pooling allocator: many short-lived instances).
    pub fn new(host: Host) -> Self {
        Self {
            host,
            metrics: Arc::new(Metrics::new()),
            probes: Mutex::new(HashMap::new()),
            runners: Runners::default(),
        }
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Put `config` in force: start new probes, restart changed ones, stop
    /// removed ones; unchanged ones keep running undisturbed. Nothing changes
    /// unless every new or changed probe could be compiled and linked.
    pub fn apply(&self, config: Config) -> anyhow::Result<Changes> {
        let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        let mut changes = Changes::default();
        let mut ready: Vec<(Arc<Probe>, bool)> = Vec::new();
        for c in &config.probes {
            match probes.get(&c.name) {
                Some(s) if s.probe.config() == c => changes.unchanged += 1,
                existing => {
                    let runner = self
                        .runners
                        .get(&self.host, c)
                        .map_err(|e| anyhow::anyhow!("probe {:?}: {e:#}", c.name))?;
                    let probe = Probe::new(&self.host, c.clone(), runner);
                    ready.push((Arc::new(probe), existing.is_some()));
                }
            }
        }
        let keep: Vec<&str> = config.probes.iter().map(|c| c.name.as_str()).collect();
        let gone: Vec<String> = probes
            .keys()
            .filter(|n| !keep.contains(&n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            if let Some(s) = probes.remove(&name) {
                s.task.abort();
                self.metrics.forget(s.probe.config());
                tracing::info!(probe = %name, "probe removed");
                changes.removed.push(name);
            }
        }
        for (probe, replaces) in ready {
            let name = probe.config().name.clone();
            if let Some(old) = probes.remove(&name) {
                old.task.abort();
                self.metrics.forget(old.probe.config());
            }
            let task = tokio::spawn(schedule(probe.clone(), self.metrics.clone()));
            probes.insert(name.clone(), Scheduled { probe, task });
            if replaces {
                changes.changed.push(name);
            } else {
                changes.added.push(name);
            }
        }
        Ok(changes)
    }

    /// Run probe `module` once against `target` (its own when `None`), as
    /// blackbox_exporter's `/probe` does; the result is not recorded.
    pub async fn probe_once(
        &self,
        module: &str,
        target: Option<&str>,
    ) -> Result<RunResult, OnceError> {
        let probe = {
            let probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
            probes
                .get(module)
                .map(|s| s.probe.clone())
                .ok_or_else(|| OnceError::UnknownModule(module.to_string()))?
        };
        let c = probe.config();
        let mut other = None;
        if let Some(t) = target
            && t != c.target
        {
            let addr = run::resolve(t)
                .await
                .map_err(|e| OnceError::BadTarget(format!("{e:#}")))?;
            if !c.allow_targets.iter().any(|p| p.covers(addr)) {
                return Err(OnceError::Forbidden(format!(
                    "probe {module:?} may check only {} and its allow_targets ({}), not {t}",
                    c.target,
                    if c.allow_targets.is_empty() {
                        "none".to_string()
                    } else {
                        c.allow_targets
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )));
            }
            other = Some(addr);
        }
        Ok(probe.run(other).await)
    }

    /// Stop every probe.
    pub fn stop(&self) {
        let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        for (_, s) in probes.drain() {
            s.task.abort();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A probe's loop: a random start within its first interval, then one run per
/// interval (a run never overlaps the next: it is stopped at its timeout);
/// one log line when it goes up or down.
async fn schedule(probe: Arc<Probe>, metrics: Arc<Metrics>) {
    let c: ProbeConfig = probe.config().clone();
    tokio::time::sleep(c.interval.mul_f64(jitter())).await;
    let mut ticks = tokio::time::interval(c.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut up: Option<bool> = None;
    loop {
        ticks.tick().await;
        let r = probe.run(None).await;
        metrics.record(&c, &r);
        if up != Some(r.success) {
            if r.success {
                tracing::info!(probe = %c.name, kind = c.kind.name(), target = %c.target, "up: {}", r.detail);
            } else {
                tracing::warn!(
                    probe = %c.name,
                    kind = c.kind.name(),
                    target = %c.target,
                    reason = r.reason.as_deref().unwrap_or("?"),
                    "down: {}",
                    r.detail
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
