//! `netkit tls HOST:PORT`: the TLS handshake's facts and the chain as sent,
//! whether or not it verifies, granted only `tcp-connect://IP:PORT`.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::TlsFlags;
use netkit::tls::{self, Starttls, TlsOptions, TlsProbeError, TlsProbeOptions, TlsProber};
use serde_json::json;
use std::process::ExitCode;

/// Probe a TLS server like `openssl s_client -brief`, plus the chain and why it does (not) verify.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: TlsFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Run the probe: exit 0 when the handshake completed, the chain verified (or
/// `--insecure`) and nothing expires within `--warn-days`.
pub async fn main(Args { f, c }: Args, audit: bool) -> Result<ExitCode> {
    let (host_name, port) =
        tls_proto::text::split_target(&f.target, 443).unwrap_or_else(|e| super::usage_error(e));
    let roots = tls::roots(f.tls.ca.as_deref())?;
    let Setup {
        target,
        host,
        component,
        mut job,
    } = job::setup(
        "tls",
        netkit::components::Builtin::TlsProbe,
        resolve::target(&host_name, port, Family::of(f.family))?,
        &c,
        Format::new(f.json, audit),
        tls::client_policy,
    )
    .await?;
    // The guest keeps the timeout; the sandbox stops it shortly after, whatever the peer does.
    job.sandbox_mut()
        .set_deadline(Some(netkit::runtime::Sandbox::deadline_after(f.timeout)));
    let prober = TlsProber::from_component(&host, &component)?;
    let options = TlsProbeOptions {
        tls: TlsOptions {
            server_name: f.tls.sni.clone(),
            roots,
            insecure: f.tls.insecure,
            min_version: f.tls.min_version.map(tls::version),
            max_version: f.tls.max_version.map(tls::version),
            alpn: f.alpn.clone(),
            client_certificate: tls::client_certificate(
                f.tls.cert.as_deref(),
                f.tls.key.as_deref(),
            )?
            .as_ref()
            .map(tls::client_certificate_wit),
        },
        timeout_ms: cli_args::ms_at_least_1(f.timeout),
        starttls: f.starttls.map(|_| Starttls::Smtp),
    };
    let name = crate::cli::resolve_name(&host_name);
    let outcome = match prober
        .probe_in(job.sandbox(), &name, target.addr, &options)
        .await?
    {
        Ok(r) => {
            let report = tls::report(&r);
            let verified = report.handshake.verification.verified();
            let expiring = f.warn_days.and_then(|d| report.expiring_within(d));
            let ok = (verified || f.tls.insecure) && expiring.is_none();
            let outcome = Outcome::verdict(
                ok,
                "report",
                tls_proto::text::report_json(&report),
                Some(tls_proto::text::report_text(&report).trim_end().to_string()),
            );
            match (expiring, &report.handshake.verification.error) {
                (Some((which, t)), _) => outcome.note(format!(
                    "{which} expires {} (within --warn-days {})",
                    tls_proto::text::utc(t),
                    f.warn_days.unwrap_or(0)
                )),
                (None, Some(reason)) if !ok => outcome.note(format!(
                    "the certificate does not verify: {} ({}); --insecure reports it without failing",
                    reason.as_str(),
                    report.handshake.verification.detail
                )),
                _ => outcome,
            }
        }
        Err(e) => failure(&e),
    };
    Ok(job.finish(outcome))
}

/// A failed probe, with what the handshake learnt before it failed (the chain, when sent).
fn failure(e: &TlsProbeError) -> Outcome {
    let (kind, message) = tls::error(e);
    let h = match e {
        TlsProbeError::Timeout((_, h)) | TlsProbeError::HandshakeFailed((_, h)) => h.as_ref(),
        _ => None,
    };
    with_handshake(Outcome::failure(kind, message), h)
}

/// `outcome` with the facts of a failed handshake: its chain as text, the whole under `handshake`.
pub(super) fn with_handshake(mut outcome: Outcome, h: Option<&netkit::tls::Handshake>) -> Outcome {
    if let Some(h) = h {
        let h = tls::handshake(h);
        if !h.chain.is_empty() {
            outcome.stdout = Some(
                tls_proto::text::chain_table(&h.chain)
                    .trim_end()
                    .to_string(),
            );
        }
        outcome.value["handshake"] = json!(h);
    }
    outcome
}
