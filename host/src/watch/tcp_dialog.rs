//! blackbox_exporter's tcp `query_response` in full: the dialogs netkit's
//! plain tcp probe cannot hold (more than one send then one expect, `${N}`
//! in a send, `labels`, `starttls` at any step, any dialog over `tls: true`)
//! run in the TLS probe component's `tcp-dialog` export, granted only the
//! target. Its metrics are blackbox's for the tcp prober:
//! `probe_failed_due_to_regex`, `probe_failed_due_to_bytes`,
//! `probe_expect_info` (the steps' labels) and, after a handshake, the
//! `probe_ssl_*`/`probe_tls_*` of the chain.

use super::config::ProbeConfig;
use super::result::{Labeled, RunResult};
use super::target::Target;
use crate::runtime::Sandbox;
use crate::tls::{DialogError, DialogFailure, DialogOptions, Label, Step, TlsProber};
use anyhow::Result;
use std::net::SocketAddr;

use super::tcp_settings::Dialog;

/// The tcp dialog's own metrics (beside the shared `probe_failed_due_to_regex` and the TLS ones), with their help.
pub const VALUES: &[(&str, &str)] = &[(
    "probe_failed_due_to_bytes",
    "Whether the probe failed because of expect_bytes (1) or not (0)",
)];

/// The tcp dialog's labelled metrics.
pub const LABELED: &[(&str, &str)] = &[(
    "probe_expect_info",
    "Explicit content matched (a tcp query_response step's labels)",
)];

fn wit_steps(d: &Dialog) -> Vec<Step> {
    d.steps
        .iter()
        .map(|s| Step {
            expect: s.expect.clone(),
            expect_bytes: s.expect_bytes.clone(),
            labels: s
                .labels
                .iter()
                .map(|(name, value)| Label {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            send: s.send.clone(),
            starttls: s.starttls,
        })
        .collect()
}

/// One run of `dialog` against `addr` (`target` names it for TLS).
pub(super) async fn run(
    prober: &TlsProber,
    s: &Sandbox,
    c: &ProbeConfig,
    dialog: &Dialog,
    target: &Target,
    addr: SocketAddr,
) -> Result<RunResult> {
    let options = DialogOptions {
        steps: wit_steps(dialog),
        tls: dialog.tls,
        tls_options: super::web_run::tls_options(c),
        timeout_ms: c.timeout.as_millis().max(1) as u64,
    };
    let report = match prober
        .dialog_in(s, &target.bare_host(), addr, &options)
        .await?
    {
        Ok(r) => r,
        Err(e) => {
            let (reason, words) = match e {
                DialogError::InvalidRequest(w) => ("invalid-request", w),
                DialogError::NameNotFound(w) => ("resolve", w),
                DialogError::Connect(w) => ("connect", w),
                DialogError::Timeout(w) => ("timeout", w),
            };
            return Ok(RunResult {
                values: vec![
                    ("probe_failed_due_to_regex", 0.0),
                    ("probe_failed_due_to_bytes", 0.0),
                ],
                ..RunResult::failed(reason, words)
            });
        }
    };
    let failed = report.failure.as_ref().map(|(f, _)| *f);
    let mut values = vec![
        ("probe_tcp_connect_seconds", report.connect_ns as f64 / 1e9),
        (
            "probe_failed_due_to_regex",
            f64::from(u8::from(failed == Some(DialogFailure::Regex))),
        ),
        (
            "probe_failed_due_to_bytes",
            f64::from(u8::from(failed == Some(DialogFailure::Bytes))),
        ),
    ];
    let mut labeled: Vec<Labeled> = Vec::new();
    if let Some(h) = &report.handshake {
        super::web_run::tls_values(&crate::tls::handshake(h), &mut values, &mut labeled);
    }
    for info in &report.expect_info {
        labeled.push((
            "probe_expect_info",
            info.iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect(),
            1.0,
        ));
    }
    let transcript: String = report
        .transcript
        .iter()
        .map(|l| format!("\n{}", probe_proto::escape_controls(l)))
        .collect();
    Ok(match &report.failure {
        None => RunResult {
            labeled,
            ..RunResult::ok(
                format!(
                    "{} steps with {}{transcript}",
                    report.steps_done, report.target
                ),
                values,
            )
        },
        Some((f, words)) => {
            let reason = match (f, &report.handshake) {
                (DialogFailure::Verify, Some(h)) => crate::tls::handshake(h)
                    .verification
                    .error
                    .map_or("verify".to_string(), |r| format!("verify-{}", r.as_str())),
                (f, _) => failure_name(*f).to_string(),
            };
            RunResult {
                values,
                labeled,
                ..RunResult::failed(
                    reason,
                    format!(
                        "after {} of {} steps: {words}{transcript}",
                        report.steps_done,
                        dialog.steps.len()
                    ),
                )
            }
        }
    })
}

fn failure_name(f: DialogFailure) -> &'static str {
    match f {
        DialogFailure::Regex => "mismatch",
        DialogFailure::Bytes => "mismatch-bytes",
        DialogFailure::Closed => "closed",
        DialogFailure::Timeout => "timeout",
        DialogFailure::Io => "io",
        DialogFailure::Handshake => "handshake",
        DialogFailure::Verify => "verify",
    }
}
