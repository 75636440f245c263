//! `netkit sntp SERVER[:PORT]`: one validated SNTP query, granted only that server.

use super::job::{Format, Job};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use netkit::components::Builtin;
use netkit::runtime::Host;
use netkit::sntp::{self, QueryOptions};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Ask an SNTP/NTP server for the time; print it like ntpdig.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Server: HOST, HOST:PORT, IP or [IPv6]:PORT (default port 123). Names are resolved by netkit.
    server: String,
    /// How long to wait for a valid reply, per sample (e.g. 500ms, 2s; a plain number is seconds).
    #[arg(long, short, default_value = "5s", value_parser = cli_units::positive_secs)]
    timeout: Duration,
    /// Requests sent per sample, spread over the timeout (1-100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    tries: u32,
    /// Samples to take (1 s apart unless --burst); the one with the lowest delay is reported (1-100).
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    samples: u32,
    /// Take the samples back to back.
    #[arg(long)]
    burst: bool,
    /// Print one JSON object (report or error, grants, audit) instead of text.
    #[arg(long)]
    json: bool,
    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    ipv4: bool,
    /// Use IPv6 only.
    #[arg(short = '6')]
    ipv6: bool,
    /// Use this component file instead of the embedded SNTP client.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

/// Run the query.
pub async fn main(a: Args, audit: bool) -> Result<ExitCode> {
    let (host_name, port) = sntp_proto::split_server(&a.server, 123).map_err(anyhow::Error::msg)?;
    let target = resolve::target(&host_name, port, Family::from_flags(a.ipv4, a.ipv6))?;
    let host = Host::new()?;
    let component = super::load::component(&host, Builtin::SntpClient, a.component.as_deref())?;
    let policy = sntp::client_policy(target.addr).naming(target.name.as_deref(), target.addr.ip());
    let job = Job::new(
        "sntp",
        policy,
        Format {
            json: a.json,
            audit,
        },
    );
    let options = QueryOptions {
        timeout_ms: cli_units::ms_at_least_1(a.timeout),
        tries: a.tries,
        samples: a.samples,
        burst: a.burst,
        family: sntp::Family::Any,
    };
    let outcome = match sntp::query(&host, &component, job.sandbox(), target.addr, &options).await?
    {
        Ok(r) => {
            let line = sntp::report_line(&r);
            let mut value = json!(r);
            value["leap"] = json!(line.leap.wit_name());
            value["error_ns"] = json!(line.error_ns());
            Outcome::success("report", value, Some(line.text()))
        }
        Err(e) => Outcome::failure(sntp::error_kind(&e), sntp::describe(&e)),
    };
    Ok(job.finish(outcome))
}
