//! `netkit echo-server`: TCP or UDP echo, granted exactly its address, until Ctrl-C.

use super::args::{ComponentFlag, ServerExtras};
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::EchoServerFlags;
use netkit::components::Builtin;
use netkit::echo::{self, ServerConfig};
use serde_json::json;
use std::process::ExitCode;

/// Echo every byte (TCP) or datagram (UDP) back, RFC 862.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: EchoServerFlags,
    #[command(flatten)]
    x: ServerExtras,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Serve until a signal.
pub async fn main(Args { f: a, x, c }: Args, audit: bool) -> Result<ExitCode> {
    let transport = echo::transport(a.udp);
    let Setup {
        target,
        host,
        component,
        mut job,
    } = job::setup(
        "echo-server",
        Builtin::EchoServer,
        resolve::target(&a.host, a.port, Family::of(x.family))?,
        &c,
        Format::new(x.json, audit),
        |addr| echo::server_policy(addr, transport, &x.allow_from),
    )
    .await?;
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
        max_datagram_rate: a.max_rate,
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
