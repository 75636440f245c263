//! What one run found, whatever its prober: the leaf every prober's run
//! returns into (nothing here points back up).

use std::collections::BTreeMap;
use std::time::Duration;

/// A labelled value: the metric, its own labels, the value.
pub type Labeled = (&'static str, Vec<(String, String)>, f64);

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
    /// Values with labels of their own (`probe_http_duration_seconds{phase}`,
    /// `probe_tls_version_info{version}`, ...): metric, labels, value.
    pub labeled: Vec<Labeled>,
    /// The sandbox's audit table (what the probe tried, allowed and denied),
    /// for `/probe?debug=true` only.
    pub audit_table: Option<String>,
    /// Samples for histograms (`probe_icmp_rtt_seconds`): metric, value.
    pub observations: Vec<(&'static str, f64)>,
}

impl RunResult {
    /// A failed run: its reason label and one line on what happened.
    pub fn failed(reason: impl Into<String>, detail: String) -> Self {
        Self {
            success: false,
            duration: Duration::ZERO,
            reason: Some(reason.into()),
            detail,
            values: Vec::new(),
            denied: BTreeMap::new(),
            labeled: Vec::new(),
            audit_table: None,
            observations: Vec::new(),
        }
    }

    /// A run that succeeded: what it found and its values.
    pub fn ok(detail: String, values: Vec<(&'static str, f64)>) -> Self {
        Self {
            success: true,
            duration: Duration::ZERO,
            reason: None,
            detail,
            values,
            denied: BTreeMap::new(),
            labeled: Vec::new(),
            audit_table: None,
            observations: Vec::new(),
        }
    }
}
