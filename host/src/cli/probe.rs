//! `netkit tcp HOST:PORT` and `netkit udp HOST:PORT`: probes granted only that
//! target. Each attempt is one call of the component (a fresh instance), so its
//! line is printed as it ends; the statistics follow.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::ProbeFlags;
use netkit::probe::{self, Kind, ProbeOptions, Prober};
use std::process::ExitCode;
use std::time::Instant;

/// Probe a TCP port like tcping: connect latency, optionally --send and --expect.
#[derive(clap::Args, Debug)]
pub struct TcpArgs {
    #[command(flatten)]
    f: ProbeFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Probe a UDP service: --send a datagram, time the reply, optionally --expect it.
#[derive(clap::Args, Debug)]
pub struct UdpArgs {
    #[command(flatten)]
    f: ProbeFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Run `netkit tcp`.
pub async fn tcp(TcpArgs { f, c }: TcpArgs, audit: bool) -> Result<ExitCode> {
    main(Kind::Tcp, f, c, audit).await
}

/// Run `netkit udp`.
pub async fn udp(UdpArgs { f, c }: UdpArgs, audit: bool) -> Result<ExitCode> {
    main(Kind::Udp, f, c, audit).await
}

async fn main(kind: Kind, a: ProbeFlags, c: ComponentFlag, audit: bool) -> Result<ExitCode> {
    let (host_name, port) =
        probe_proto::split_target(&a.target).unwrap_or_else(|e| super::usage_error(e));
    let send = a.payload().unwrap_or_else(|e| super::usage_error(e));
    let expect_bytes = a.expect_bytes().unwrap_or_else(|e| super::usage_error(e));
    if let Err(e) = probe_proto::Expectation::new(a.expect.as_deref(), expect_bytes.clone()) {
        super::usage_error(e);
    }
    if kind == Kind::Udp && send.is_none() {
        super::usage_error(
            "a UDP probe needs something to send: --send TEXT or --send-hex HEX".into(),
        );
    }
    let Setup {
        target,
        host,
        component,
        job,
    } = job::setup(
        kind.label(),
        kind.builtin(),
        resolve::target(&host_name, port, Family::of(a.family))?,
        &c,
        Format::new(a.json, audit),
        |addr| probe::client_policy(kind, addr),
    )
    .await?;
    let prober = Prober::from_component(&host, kind, &component)?;
    let one = ProbeOptions {
        count: 1,
        interval_ms: 0,
        timeout_ms: cli_args::ms_at_least_1(a.timeout),
        send,
        expect: a.expect.clone(),
        expect_bytes,
    };
    let shown = target.addr.to_string();
    let mut attempts = Vec::new();
    let mut next = Instant::now();
    for seq in 1..=a.count {
        tokio::time::sleep_until(next.into()).await;
        next = Instant::now() + a.interval;
        let mut attempt = match prober.probe_in(job.sandbox(), target.addr, &one).await? {
            Ok(mut report) if !report.attempts.is_empty() => report.attempts.remove(0),
            Ok(_) => anyhow::bail!("the {} probe returned no attempt", kind.label()),
            Err(e) => {
                return Ok(job.finish(Outcome::failure(probe::error_kind(&e), probe::describe(&e))));
            }
        };
        attempt.seq = seq;
        if !a.json {
            println!(
                "{}",
                probe_proto::attempt_text(&shown, kind.verb(), &probe::view(&attempt))
            );
        }
        attempts.push(attempt);
        if seq == a.count {
            // Nothing to wait for after the last attempt.
            break;
        }
    }
    let views: Vec<_> = attempts.iter().map(probe::view).collect();
    let summary = probe_proto::summary_of(&views);
    let value = probe_proto::report_json(&shown, &views);
    let outcome = Outcome::verdict(
        summary.all_ok(),
        "report",
        value,
        Some(probe_proto::summary_line(&shown, &summary)),
    );
    let outcome = if summary.all_ok() {
        outcome
    } else {
        outcome.note(format!(
            "{} of {} attempts failed",
            summary.sent - summary.ok,
            summary.sent
        ))
    };
    Ok(job.finish(outcome))
}
