//! `netkit sntp-server`: SNTP answers from this machine's clock, granted exactly its address.

use super::job::{Format, Job};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use ipnet::IpNet;
use netkit::components::Builtin;
use netkit::runtime::Host;
use netkit::sntp::{self, ServerConfig};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Answer SNTP clients (RFC 4330) from this machine's clock, for tests and offline demos.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to serve on: IP or name (resolved by netkit).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// UDP port to serve on.
    #[arg(long, short)]
    port: u16,
    /// Stratum to announce (1-15).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=15))]
    stratum: u8,
    /// Reference id: up to 4 characters for stratum 1 (e.g. GPS), an IPv4 address above
    /// [default: LOCL at stratum 1, else 127.127.1.1].
    #[arg(long)]
    refid: Option<String>,
    /// Answer each client at most once per this long, RATE kiss-o'-death in between
    /// (e.g. 2s, 500ms; a plain number is milliseconds; 0 = no limit).
    #[arg(long, visible_alias = "rate-limit-ms", default_value = "0", value_parser = cli_units::millis)]
    rate_limit: Duration,
    /// Answer only clients in this network (CIDR); repeatable. Default: anyone.
    #[arg(long = "allow-from", value_name = "CIDR")]
    allow_from: Vec<IpNet>,
    /// Do not log every request, nor every denial (they are still counted and audited).
    #[arg(long, short)]
    quiet: bool,
    /// Print one JSON object (summary or error, grants, audit) when stopped.
    #[arg(long)]
    json: bool,
    /// Use IPv4 only (for a host name).
    #[arg(short = '4', conflicts_with = "ipv6")]
    ipv4: bool,
    /// Use IPv6 only (for a host name).
    #[arg(short = '6')]
    ipv6: bool,
    /// Use this component file instead of the embedded SNTP server.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

/// The reference id a local clock announces (what chronyd's `local` directive uses).
pub fn default_refid(stratum: u8) -> &'static str {
    if stratum <= 1 { "LOCL" } else { "127.127.1.1" }
}

/// Serve until a signal.
pub async fn main(a: Args, audit: bool) -> Result<ExitCode> {
    let target = resolve::target(&a.host, a.port, Family::from_flags(a.ipv4, a.ipv6))?;
    let host = Host::new()?;
    let component = super::load::component(&host, Builtin::SntpServer, a.component.as_deref())?;
    let policy = sntp::server_policy(target.addr, &a.allow_from)
        .naming(target.name.as_deref(), target.addr.ip());
    let mut job = Job::new(
        "sntp-server",
        policy,
        Format {
            json: a.json,
            audit,
        },
    );
    if a.quiet {
        job.quiet();
    }
    let config = ServerConfig {
        host: target.addr.ip().to_string(),
        port: target.addr.port(),
        stratum: a.stratum,
        reference_id: a.refid.unwrap_or_else(|| default_refid(a.stratum).into()),
        rate_limit_ms: a.rate_limit.as_millis() as u64,
        stop_on_stdin_eof: true,
        stop_after: None,
        log_requests: !a.quiet,
    };
    let server = sntp::start_server(&host, &component, job.sandbox(), config);
    let outcome = match super::signal::serve_until_signal("sntp-server", server).await? {
        Ok(s) => {
            // Datagrams from outside --allow-from never reach the component.
            let refused = job.sandbox().audit().denied();
            let line = format!(
                "answered {} {}, {} rate-limited, {} ignored, {refused} refused by --allow-from, on {}",
                s.answered,
                echo_proto::plural(s.answered, "request", "requests"),
                s.kissed,
                s.ignored,
                s.local_address
            );
            let mut value = json!(s);
            value["refused_by_allow_from"] = json!(refused);
            Outcome::success("summary", value, None).note(line)
        }
        Err(e) => Outcome::failure(sntp::error_kind(&e), sntp::describe(&e)),
    };
    Ok(job.finish(outcome))
}
