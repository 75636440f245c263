//! `netkit echo-client`: verified echo round trips, granted only the server.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::EchoClientFlags;
use netkit::components::Builtin;
use netkit::echo::{self, ClientRequest, Payload};
use serde_json::json;
use std::process::ExitCode;

/// The largest UDP payload over IPv4 (65535 − 8 − 20).
const MAX_DATAGRAM: u64 = 65_507;

/// Send a payload to an echo server, read it back, verify every byte, report round trips.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: EchoClientFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Run the exchanges.
pub async fn main(Args { f: a, c }: Args, audit: bool) -> Result<ExitCode> {
    let payload_len = a
        .size
        .unwrap_or(a.message.as_ref().map_or(22, |m| m.len() as u64));
    if a.udp && payload_len > MAX_DATAGRAM {
        super::usage_error(format!(
            "a UDP echo payload is at most {MAX_DATAGRAM} bytes (--size or --message), not {payload_len}"
        ));
    }
    let transport = echo::transport(a.udp);
    let Setup {
        target,
        host,
        component,
        mut job,
    } = job::setup(
        "echo-client",
        Builtin::EchoClient,
        resolve::target(&a.host, a.port, Family::of(a.family))?,
        &c,
        Format::new(a.json, audit),
        |addr| echo::client_policy(addr, transport),
    )
    .await?;
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
        timeout_ms: cli_args::ms_at_least_1(a.timeout),
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
