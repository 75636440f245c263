//! `netkit ping HOST`: ICMP echo like iputils ping (its flags, lines,
//! statistics and exit codes), granted `icmp://` the one address the host
//! resolves to. Lines print as replies come; Ctrl-C ends the run and prints the
//! statistics, as ping does.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::PingFlags;
use netkit::ping::{self, IpFamily, PingOptions, PingStep, Pinger};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Ping a host like iputils ping (-c -i -W -w -s -t -q -4 -6), granted ICMP echo to that address only.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: PingFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// How long one wait for an event lasts before netkit looks for Ctrl-C again.
const STEP_MS: u64 = 100;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Run the pings.
pub async fn main(Args { f, c }: Args, audit: bool) -> Result<ExitCode> {
    let o = f.options();
    if o.interval_ns < ping_proto::MIN_USER_INTERVAL_NS && !is_root() {
        super::usage_error(
            "-i below 0.2 s is for root only, as with iputils ping (cannot flood; minimal interval allowed for user is 200ms)"
                .into(),
        );
    }
    let family = Family::of(f.family);
    // iputils exits 2 when it cannot ping at all; a name that does not resolve is that.
    let target = match resolve::target(&f.host, 0, family) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("netkit: ping: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    if target.addr.ip().is_unspecified() {
        // Refused before anything is granted or shown as granted (issue 31).
        eprintln!(
            "netkit: ping: {} is the unspecified address, which no host answers as a destination: give the host to ping (127.0.0.1 or ::1 for this one)",
            target.addr.ip()
        );
        return Ok(ExitCode::from(2));
    }
    let Setup {
        target,
        host,
        component,
        mut job,
    } = job::setup(
        "ping",
        netkit::components::Builtin::Ping,
        target,
        &c,
        Format::new(f.json, audit),
        |addr| ping::client_policy(addr.ip()),
    )
    .await?;
    let ip = target.addr.ip();
    let pinger = Pinger::from_component(&host, &component)?;
    let ms = |ns: u64| ns.div_ceil(1_000_000);
    let options = PingOptions {
        count: o.count,
        interval_ms: ms(o.interval_ns),
        timeout_ms: ms(o.timeout_ns),
        deadline_ms: o.deadline_ns.map(ms),
        payload_size: o.payload_size,
        hop_limit: o.hop_limit,
        dont_fragment: o.dont_fragment,
        family: match (f.family.ipv4, f.family.ipv6) {
            (true, _) => IpFamily::Ipv4,
            (_, true) => IpFamily::Ipv6,
            _ => IpFamily::Any,
        },
    };
    if f.json {
        job.quiet();
    }
    let mut session = match pinger
        .start(job.sandbox(), &ip.to_string(), &options)
        .await?
    {
        Ok(s) => s,
        Err(e) => {
            let (kind, message) = ping::describe(&e);
            // iputils exits 2 when it cannot ping at all.
            return Ok(job.finish(Outcome {
                code: 2,
                ..Outcome::failure(kind, message)
            }));
        }
    };
    let address = session.address().await?;
    let shown_target = f
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if !f.json {
        println!(
            "{}",
            ping_proto::text::header(&shown_target, &address, ip.is_ipv6(), o.payload_size)
        );
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let watcher = tokio::spawn(async move {
        super::signal::shutdown().await;
        flag.store(true, Ordering::SeqCst);
    });
    let mut events = Vec::new();
    let mut stopped = false;
    loop {
        if interrupted.load(Ordering::SeqCst) && !stopped {
            session.stop().await?;
            stopped = true;
        }
        match session.next(STEP_MS).await? {
            PingStep::Event(e) => {
                let shown = ping::shown(&e);
                if f.json {
                    events.push(shown);
                } else if !f.quiet
                    && let Some(line) = ping_proto::text::line(&shown_target, &shown)
                {
                    println!("{line}");
                }
            }
            PingStep::Idle => {}
            PingStep::Done => break,
        }
    }
    watcher.abort();
    let stats = ping::statistics(&session.statistics().await?);
    let code = stats.exit_code(o.count, o.deadline_ns.is_some());
    let outcome = if f.json {
        let report =
            ping_proto::text::report_json(&shown_target, &address, o.payload_size, &events, &stats);
        Outcome::verdict(code == 0, "report", report, None)
    } else {
        let text = ping_proto::text::statistics(&shown_target, &stats);
        Outcome::verdict(
            code == 0,
            "report",
            serde_json::Value::Null,
            Some(text.trim_end().to_string()),
        )
    };
    Ok(job.finish(outcome))
}
