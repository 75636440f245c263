//! `netkit sntp SERVER[:PORT]`: one validated SNTP query, granted only that server.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::SntpFlags;
use netkit::components::Builtin;
use netkit::sntp::{self, QueryOptions};
use serde_json::json;
use std::process::ExitCode;

/// Ask an SNTP/NTP server for the time; print it like ntpdig.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: SntpFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Run the query.
pub async fn main(Args { f: a, c }: Args, audit: bool) -> Result<ExitCode> {
    let (host_name, port) = sntp_proto::split_server(&a.server, 123).map_err(anyhow::Error::msg)?;
    let Setup {
        target,
        host,
        component,
        job,
    } = job::setup(
        "sntp",
        Builtin::SntpClient,
        resolve::target(&host_name, port, Family::of(a.family))?,
        c.component.as_deref(),
        Format::new(a.json, audit),
        sntp::client_policy,
    )?;
    let options = QueryOptions {
        timeout_ms: cli_args::ms_at_least_1(a.timeout),
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
