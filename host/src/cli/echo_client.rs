//! `netkit echo-client`: verified echo round trips, granted only the server.

use super::job::{Format, Job};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use netkit::components::Builtin;
use netkit::echo::{self, ClientRequest, Payload, Transport};
use netkit::runtime::Host;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The largest UDP payload over IPv4 (65535 − 8 − 20).
const MAX_DATAGRAM: u64 = 65_507;

/// Send a payload to an echo server, read it back, verify every byte, report round trips.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Server: IP or name (resolved by netkit, not the component).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(long, short)]
    port: u16,
    /// Text to send [default: "This is a test message"].
    #[arg(long, short, conflicts_with = "size")]
    message: Option<String>,
    /// Send this many bytes of generated data instead, different for every exchange
    /// (e.g. 4096, 64KiB, 1GiB; at most 65507 bytes with --udp).
    #[arg(long, value_parser = cli_units::bytes)]
    size: Option<u64>,
    /// Number of exchanges (connect, send, read back, verify, close), 1 or more.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
    /// Exchanges running at once (1-10000).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    concurrency: u32,
    /// Give up after this long without progress (e.g. 500ms, 10s; a plain number is seconds).
    #[arg(long, short, default_value = "10s", value_parser = cli_units::positive_secs)]
    timeout: Duration,
    /// Echo over UDP (one datagram per exchange) instead of TCP.
    #[arg(long)]
    udp: bool,
    /// Use IPv4 only (for a host name).
    #[arg(short = '4', conflicts_with = "ipv6")]
    ipv4: bool,
    /// Use IPv6 only (for a host name).
    #[arg(short = '6')]
    ipv6: bool,
    /// Print one JSON object (report or error, grants, audit) instead of text.
    #[arg(long)]
    json: bool,
    /// Use this component file instead of the embedded echo client.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

/// Run the exchanges.
pub async fn main(a: Args, audit: bool) -> Result<ExitCode> {
    let payload_len = a
        .size
        .unwrap_or(a.message.as_ref().map_or(22, |m| m.len() as u64));
    if a.udp && payload_len > MAX_DATAGRAM {
        super::usage_error(format!(
            "a UDP echo payload is at most {MAX_DATAGRAM} bytes (--size or --message), not {payload_len}"
        ));
    }
    let target = resolve::target(&a.host, a.port, Family::from_flags(a.ipv4, a.ipv6))?;
    let host = Host::new()?;
    let component = super::load::component(&host, Builtin::EchoClient, a.component.as_deref())?;
    let transport = if a.udp {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let policy = echo::client_policy(target.addr, transport)
        .naming(target.name.as_deref(), target.addr.ip());
    let mut job = Job::new(
        "echo-client",
        policy,
        Format {
            json: a.json,
            audit,
        },
    );
    // One socket per exchange in flight, and a few to spare.
    job.sandbox_mut()
        .set_max_sockets(a.concurrency as usize + 16);
    let payload = match (a.message, a.size) {
        (_, Some(n)) => Payload::Generated(n),
        (Some(m), None) => Payload::Message(m),
        (None, None) => Payload::Message(echo_proto::DEFAULT_MESSAGE.into()),
    };
    let request = ClientRequest {
        host: target.addr.ip().to_string(),
        port: target.addr.port(),
        transport,
        payload,
        count: a.count,
        concurrency: a.concurrency,
        timeout_ms: cli_units::ms_at_least_1(a.timeout),
    };
    let outcome = match echo::run_client(&host, &component, job.sandbox(), &request).await? {
        Ok(r) => {
            let mut value = json!(r);
            value["mb_per_s"] = json!(echo::megabytes_per_second(&r));
            Outcome::success(
                "report",
                value,
                Some(echo::summary_line(&r, &request.payload)),
            )
        }
        Err(e) => Outcome::failure(echo::error_kind(&e), echo::describe(&e)),
    };
    Ok(job.finish(outcome))
}
