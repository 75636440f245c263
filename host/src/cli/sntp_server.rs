//! `netkit sntp-server`: SNTP answers from this machine's clock, granted exactly its address.

use super::args::{ComponentFlag, ServerExtras};
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::SntpServerFlags;
use netkit::components::Builtin;
use netkit::sntp::{self, ServerConfig};
use serde_json::json;
use std::process::ExitCode;

/// Answer SNTP clients (RFC 4330) from this machine's clock, for tests and offline demos.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: SntpServerFlags,
    #[command(flatten)]
    x: ServerExtras,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Serve until a signal.
pub async fn main(Args { f: a, x, c }: Args, audit: bool) -> Result<ExitCode> {
    let Setup {
        target,
        host,
        component,
        mut job,
    } = job::setup(
        "sntp-server",
        Builtin::SntpServer,
        resolve::target(&a.host, a.port, Family::of(x.family))?,
        &c,
        Format::new(x.json, audit),
        |addr| sntp::server_policy(addr, &x.allow_from),
    )
    .await?;
    if a.quiet {
        job.quiet();
    }
    let config = ServerConfig {
        host: target.addr.ip().to_string(),
        port: target.addr.port(),
        stratum: a.stratum,
        reference_id: a.reference_id(),
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
