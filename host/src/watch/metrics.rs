//! The metrics `netkit watch` exposes, blackbox_exporter-style, and their text.

use super::config::ProbeConfig;
use super::icmp_probe::{RTT_BUCKETS, RTT_HISTOGRAM};
use super::run::{self, RunResult};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

type F64Gauge = Gauge<f64, AtomicU64>;

/// Now as Unix time, seconds.
fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The labels of a probe's own series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProbeLabels {
    /// The probe's name.
    pub probe: String,
    /// Its kind.
    pub kind: String,
    /// Its target.
    pub target: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabel {
    probe: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    probe: String,
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    probe: String,
    op: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WhyLabel {
    limit: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

/// A label set of a labelled value: the probe's labels, then the value's own.
type LabelSet = Vec<(String, String)>;

/// A probe's labelled series, to remove those its next run no longer sets.
type LabeledSeen = HashMap<String, Vec<(&'static str, LabelSet)>>;

/// A probe's failure reasons and denied operations so far.
type Seen = (Vec<String>, Vec<String>);

/// Every series of every scheduled probe.
pub struct Metrics {
    registry: Registry,
    success: Family<ProbeLabels, F64Gauge>,
    duration: Family<ProbeLabels, F64Gauge>,
    values: HashMap<&'static str, Family<ProbeLabels, F64Gauge>>,
    labeled: HashMap<&'static str, Family<LabelSet, F64Gauge>>,
    labeled_seen: Mutex<LabeledSeen>,
    runs: Family<NameLabel, Counter>,
    failures: Family<ReasonLabels, Counter>,
    denied: Family<OpLabels, Counter>,
    reloads: Family<ResultLabel, Counter>,
    last_reload_ok: Gauge,
    /// blackbox_exporter's names for the same, kept for its dashboards and alerts.
    bb_reload_ok: Gauge,
    bb_reload_time: F64Gauge,
    bb_module_unknown: Counter,
    compiled: Gauge,
    rejected: Family<WhyLabel, Counter>,
    connections_rejected: Family<ReasonLabel, Counter>,
    lag: Histogram,
    /// Round trips of scheduled icmp runs, accumulated (as smokeping_prober's).
    rtts: Family<ProbeLabels, Histogram, fn() -> Histogram>,
    /// The failure reasons and denied operations seen per probe (to remove its series).
    seen: Mutex<HashMap<String, Seen>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty families, registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let success = Family::default();
        let duration = Family::default();
        registry.register(
            "probe_success",
            "Whether the probe's last run succeeded (1) or not (0)",
            success.clone(),
        );
        registry.register(
            "probe_duration_seconds",
            "How long the probe's last run took",
            duration.clone(),
        );
        let mut values = HashMap::new();
        for (name, help) in run::values() {
            let f = Family::<ProbeLabels, F64Gauge>::default();
            registry.register(*name, *help, f.clone());
            values.insert(*name, f);
        }
        let mut labeled = HashMap::new();
        for (name, help) in run::labeled() {
            let f = Family::<LabelSet, F64Gauge>::default();
            registry.register(*name, *help, f.clone());
            labeled.insert(*name, f);
        }
        let runs = Family::default();
        let failures = Family::default();
        let denied = Family::default();
        registry.register("netkit_probe_runs", "Runs of each probe", runs.clone());
        registry.register(
            "netkit_probe_failures",
            "Failed runs of each probe, by reason",
            failures.clone(),
        );
        registry.register(
            "netkit_sandbox_denied",
            "Network attempts the probe's sandbox denied, by operation",
            denied.clone(),
        );
        let reloads = Family::default();
        let last_reload_ok = Gauge::default();
        let compiled = Gauge::default();
        let rejected = Family::default();
        registry.register(
            "netkit_config_reloads",
            "Config reloads done (concurrent requests share one), by result",
            reloads.clone(),
        );
        registry.register(
            "netkit_config_last_reload_successful",
            "Whether the last config reload succeeded (1) or was refused (0)",
            last_reload_ok.clone(),
        );
        last_reload_ok.set(1);
        registry.register(
            "netkit_compiled_components",
            "Compiled components in memory (one per kind or custom component in use)",
            compiled.clone(),
        );
        registry.register(
            "netkit_probe_requests_rejected",
            "/probe requests answered 503 at once, by the limit they hit",
            rejected.clone(),
        );
        let connections_rejected = Family::default();
        registry.register(
            "netkit_http_connections_rejected",
            "HTTP connections closed by the connection policy, by reason: evicted (the one waiting longest for a request head, to make room), max_connections (all busy), per_source",
            connections_rejected.clone(),
        );
        let bb_reload_ok = Gauge::default();
        let bb_reload_time = F64Gauge::default();
        let bb_module_unknown = Counter::default();
        registry.register(
            "blackbox_exporter_config_last_reload_successful",
            "Blackbox exporter config loaded successfully.",
            bb_reload_ok.clone(),
        );
        registry.register(
            "blackbox_exporter_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            bb_reload_time.clone(),
        );
        registry.register(
            "blackbox_module_unknown",
            "Count of unknown modules requested by probes",
            bb_module_unknown.clone(),
        );
        bb_reload_ok.set(1);
        bb_reload_time.set(unix_now());
        let lag = Histogram::new([0.001, 0.01, 0.1, 1.0, 10.0]);
        registry.register(
            "netkit_schedule_lag_seconds",
            "How late scheduled runs started after their due time (waiting for a slot included)",
            lag.clone(),
        );
        let rtts: Family<ProbeLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(rtt_histogram);
        registry.register(RTT_HISTOGRAM.0, RTT_HISTOGRAM.1, rtts.clone());
        Self {
            lag,
            rtts,
            reloads,
            last_reload_ok,
            bb_reload_ok,
            bb_reload_time,
            bb_module_unknown,
            compiled,
            rejected,
            connections_rejected,
            registry,
            success,
            duration,
            values,
            labeled,
            labeled_seen: Mutex::new(HashMap::new()),
            runs,
            failures,
            denied,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn labels(config: &ProbeConfig) -> ProbeLabels {
        ProbeLabels {
            probe: config.name.clone(),
            kind: config.kind.name().into(),
            target: config.target.clone(),
        }
    }

    /// Record a scheduled run of `config`.
    pub fn record(&self, config: &ProbeConfig, r: &RunResult) {
        let l = Self::labels(config);
        self.success
            .get_or_create(&l)
            .set(if r.success { 1.0 } else { 0.0 });
        self.duration
            .get_or_create(&l)
            .set(r.duration.as_secs_f64());
        for (name, v) in &r.values {
            if let Some(f) = self.values.get(name) {
                f.get_or_create(&l).set(*v);
            }
        }
        self.record_labeled(config, &l, r);
        for (_, v) in &r.observations {
            self.rtts.get_or_create(&l).observe(*v);
        }
        let probe = config.name.clone();
        self.runs
            .get_or_create(&NameLabel {
                probe: probe.clone(),
            })
            .inc();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (reasons, ops) = seen.entry(probe.clone()).or_default();
        if let Some(reason) = &r.reason {
            self.failures
                .get_or_create(&ReasonLabels {
                    probe: probe.clone(),
                    reason: reason.clone(),
                })
                .inc();
            if !reasons.contains(reason) {
                reasons.push(reason.clone());
            }
        }
        for (op, n) in &r.denied {
            self.denied
                .get_or_create(&OpLabels {
                    probe: probe.clone(),
                    op: op.clone(),
                })
                .inc_by(*n);
            if !ops.contains(op) {
                ops.push(op.clone());
            }
        }
    }

    fn record_labeled(&self, config: &ProbeConfig, l: &ProbeLabels, r: &RunResult) {
        let base = [
            ("probe".to_string(), l.probe.clone()),
            ("kind".to_string(), l.kind.clone()),
            ("target".to_string(), l.target.clone()),
        ];
        let now: Vec<(&'static str, LabelSet)> = r
            .labeled
            .iter()
            .map(|(name, extra, _)| {
                (
                    *name,
                    base.iter().cloned().chain(extra.iter().cloned()).collect(),
                )
            })
            .collect();
        let mut seen = self.labeled_seen.lock().unwrap_or_else(|p| p.into_inner());
        let before = seen
            .insert(config.name.clone(), now.clone())
            .unwrap_or_default();
        for (name, set) in before {
            // A label that changed (a new certificate, another version) drops its old series.
            if !now.iter().any(|(n, s)| *n == name && *s == set)
                && let Some(f) = self.labeled.get(name)
            {
                f.remove(&set);
            }
        }
        for ((name, set), (_, _, v)) in now.iter().zip(&r.labeled) {
            if let Some(f) = self.labeled.get(name) {
                f.get_or_create(set).set(*v);
            }
        }
    }

    /// Count a reload and its result.
    pub fn reloaded(&self, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.reloads
            .get_or_create(&ResultLabel {
                result: result.into(),
            })
            .inc();
        self.last_reload_ok.set(i64::from(ok));
        self.bb_reload_ok.set(i64::from(ok));
        if ok {
            self.bb_reload_time.set(unix_now());
        }
    }

    /// Count a `/probe` for a module the config does not have.
    pub fn module_unknown(&self) {
        self.bb_module_unknown.inc();
    }

    /// A scheduled run started `lag` after it was due.
    pub fn started_late(&self, lag: std::time::Duration) {
        self.lag.observe(lag.as_secs_f64());
    }

    /// How many compiled components are in memory.
    pub fn set_compiled(&self, n: usize) {
        self.compiled.set(n as i64);
    }

    /// Count a `/probe` refused at `limit` (`probe_concurrency` or `module`).
    pub fn rejected(&self, limit: &str) {
        self.rejected
            .get_or_create(&WhyLabel {
                limit: limit.into(),
            })
            .inc();
    }

    /// Count an HTTP connection closed by the connection policy for `reason`.
    pub fn connection_rejected(&self, reason: &str) {
        self.connections_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.into(),
            })
            .inc();
    }

    /// Drop every series of `config` (a probe removed or changed by a reload).
    pub fn forget(&self, config: &ProbeConfig) {
        let l = Self::labels(config);
        self.success.remove(&l);
        self.duration.remove(&l);
        self.rtts.remove(&l);
        for f in self.values.values() {
            f.remove(&l);
        }
        let gone = self
            .labeled_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&config.name)
            .unwrap_or_default();
        for (name, set) in gone {
            if let Some(f) = self.labeled.get(name) {
                f.remove(&set);
            }
        }
        let probe = config.name.clone();
        self.runs.remove(&NameLabel {
            probe: probe.clone(),
        });
        let (reasons, ops) = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&probe)
            .unwrap_or_default();
        for reason in reasons {
            self.failures.remove(&ReasonLabels {
                probe: probe.clone(),
                reason,
            });
        }
        for op in ops {
            self.denied.remove(&OpLabels {
                probe: probe.clone(),
                op,
            });
        }
    }

    /// The Prometheus text format of everything.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// An empty round-trip histogram with smokeping_prober's buckets.
fn rtt_histogram() -> Histogram {
    Histogram::new(RTT_BUCKETS)
}

/// One run's metrics, unlabelled, as blackbox_exporter's `/probe` returns them
/// (Prometheus adds the target's labels when it scrapes).
pub fn single_run_text(r: &RunResult) -> String {
    let mut registry = Registry::default();
    let gauge = |v: f64| {
        let g = F64Gauge::default();
        g.set(v);
        g
    };
    registry.register(
        "probe_success",
        "Whether the probe succeeded (1) or not (0)",
        gauge(if r.success { 1.0 } else { 0.0 }),
    );
    registry.register(
        "probe_duration_seconds",
        "How long the probe took",
        gauge(r.duration.as_secs_f64()),
    );
    for (name, v) in &r.values {
        let help = run::values()
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, h)| *h);
        registry.register(*name, help, gauge(*v));
    }
    for (name, help) in run::labeled() {
        let sets: Vec<_> = r.labeled.iter().filter(|(n, _, _)| n == name).collect();
        if sets.is_empty() {
            continue;
        }
        let f = Family::<LabelSet, F64Gauge>::default();
        for (_, set, v) in sets {
            f.get_or_create(set).set(*v);
        }
        registry.register(*name, *help, f);
    }
    if !r.observations.is_empty() {
        let h = rtt_histogram();
        for (_, v) in &r.observations {
            h.observe(*v);
        }
        registry.register(RTT_HISTOGRAM.0, RTT_HISTOGRAM.1, h);
    }
    let denied: u64 = r.denied.values().sum();
    registry.register(
        "netkit_sandbox_denied_attempts",
        "Network attempts this run's sandbox denied",
        gauge(denied as f64),
    );
    let mut out = String::new();
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}
