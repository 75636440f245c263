//! `netkit echo-server`: TCP or UDP echo, granted exactly its address, until Ctrl-C.

use super::job::{Format, Job};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use ipnet::IpNet;
use netkit::components::Builtin;
use netkit::echo::{self, ServerConfig, Transport};
use netkit::runtime::Host;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Echo every byte (TCP) or datagram (UDP) back, RFC 862.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to serve on: IP or name (resolved by netkit, not the component).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to serve on.
    #[arg(long, short)]
    port: u16,
    /// Serve UDP echo (RFC 862) instead of TCP.
    #[arg(long)]
    udp: bool,
    /// Accept clients only from this network (CIDR, e.g. 127.0.0.0/8); repeatable. Default: anyone.
    #[arg(long = "allow-from", value_name = "CIDR")]
    allow_from: Vec<IpNet>,
    /// Most TCP connections served at once (1-100000); more are closed at once and counted.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_connections: u32,
    /// Close a TCP connection idle this long (e.g. 30s, 5m; a plain number is seconds; 0 = never).
    #[arg(long, default_value = "300s", value_parser = cli_units::secs)]
    idle_timeout: Duration,
    /// On Ctrl-C or SIGTERM, stop accepting and keep serving open connections this
    /// long before stopping (e.g. 1s, 500ms; a plain number is seconds; 0 = at once).
    #[arg(long, default_value = "1s", value_parser = cli_units::secs)]
    drain_timeout: Duration,
    /// Do not log every connection, nor every denial (they are still counted and audited).
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
    /// Use this component file instead of the embedded echo server.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

/// Serve until a signal.
pub async fn main(a: Args, audit: bool) -> Result<ExitCode> {
    let target = resolve::target(&a.host, a.port, Family::from_flags(a.ipv4, a.ipv6))?;
    let host = Host::new()?;
    let component = super::load::component(&host, Builtin::EchoServer, a.component.as_deref())?;
    let transport = if a.udp {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let policy = echo::server_policy(target.addr, transport, &a.allow_from)
        .naming(target.name.as_deref(), target.addr.ip());
    let mut job = Job::new(
        "echo-server",
        policy,
        Format {
            json: a.json,
            audit,
        },
    );
    // The listener and every client served, plus room for those turned away.
    job.sandbox_mut()
        .set_max_sockets(a.max_connections as usize + 16);
    if a.quiet {
        job.quiet();
    }
    let config = ServerConfig {
        host: target.addr.ip().to_string(),
        port: target.addr.port(),
        transport,
        max_connections: a.max_connections,
        idle_timeout_ms: a.idle_timeout.as_millis() as u64,
        stop_on_stdin_eof: true,
        drain_timeout_ms: a.drain_timeout.as_millis() as u64,
        stop_after: None,
        log_connections: !a.quiet,
    };
    let server = echo::start_server(&host, &component, job.sandbox(), config);
    let outcome = match super::signal::serve_until_signal("echo-server", server).await? {
        Ok(s) => {
            // Clients refused by --allow-from never reach the component: the host
            // turned them away (a reset for TCP, a dropped datagram for UDP).
            let refused = job.sandbox().audit().denied();
            let rejected = s.rejected + refused;
            let line = echo_proto::server_summary_line(
                a.udp,
                &s.local_address,
                s.connections,
                rejected,
                s.bytes,
            );
            let mut value = json!(s);
            value["rejected"] = json!(rejected);
            value["refused_by_allow_from"] = json!(refused);
            Outcome::success("summary", value, None).note(line)
        }
        Err(e) => Outcome::failure(echo::error_kind(&e), echo::describe(&e)),
    };
    Ok(job.finish(outcome))
}
