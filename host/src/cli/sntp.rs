//! `netkit sntp SERVER[:PORT]`: one validated SNTP query, granted only that
//! server; with `--nts`, an NTS key exchange granted only the KE server, then
//! the authenticated query granted only the NTP server it named.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family};
use anyhow::Result;
use cli_args::flags::SntpFlags;
use netkit::components::Builtin;
use netkit::nts::{self, NtsRequest};
use netkit::sntp::{self, NtsInfo, NtsOptions, QueryOptions, Report, SntpClient, SntpError};
use serde_json::json;
use std::process::ExitCode;

/// Ask an SNTP/NTP server for the time; print it like ntpdig. With --nts,
/// authenticated by NTS (RFC 8915).
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: SntpFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Run the query.
pub async fn main(Args { f: a, c }: Args, audit: bool) -> Result<ExitCode> {
    let default_port = if a.nts {
        nts_proto::ke::DEFAULT_PORT
    } else {
        123
    };
    let (host_name, port) =
        sntp_proto::split_server(&a.server, default_port).map_err(anyhow::Error::msg)?;
    let options = QueryOptions {
        timeout_ms: cli_args::ms_at_least_1(a.timeout),
        tries: a.tries,
        samples: a.samples,
        burst: a.burst,
        family: match (a.family.ipv4, a.family.ipv6) {
            (true, _) => sntp::Family::Ipv4,
            (_, true) => sntp::Family::Ipv6,
            _ => sntp::Family::Any,
        },
    };
    // Before any grant is shown: bad --allow-ntp-server or --ca is the user's to fix.
    let nts_setup = if a.nts {
        let allowed = a
            .allow_ntp_server
            .iter()
            .map(|s| nts_proto::server::Allowed::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("--allow-ntp-server {e}"))?;
        Some((allowed, netkit::tls::roots(a.ca.as_deref())?))
    } else {
        None
    };
    let Setup {
        target,
        host,
        component,
        mut job,
    } = job::setup(
        "sntp",
        Builtin::SntpClient,
        resolve::target(&host_name, port, Family::of(a.family))?,
        &c,
        Format::new(a.json, audit),
        if a.nts {
            nts::ke_policy
        } else {
            sntp::client_policy
        },
    )
    .await?;
    let result = match nts_setup {
        None => sntp::query(&host, &component, job.sandbox(), target.addr, &options)
            .await?
            .map(|r| (r, None)),
        Some((allowed, roots)) => {
            let client = SntpClient::from_component(&host, &component)?;
            let request = NtsRequest {
                ke_name: host_name.clone(),
                ke_addr: target.addr,
                options: NtsOptions {
                    server_name: None,
                    roots,
                    timeout_ms: options.timeout_ms,
                },
                allowed,
                query: options,
                budget: None,
            };
            let run = nts::run(&client, job.sandbox(), &request, None).await?;
            for policy in run.granted.iter().skip(1) {
                job.also_granted(policy);
            }
            let nts = run.nts;
            run.outcome.map(|r| (r, nts))
        }
    };
    Ok(job.finish(outcome(result)))
}

/// The report (with its NTS part) or the failure, as every format shows it.
fn outcome(result: Result<(Report, Option<NtsInfo>), SntpError>) -> Outcome {
    match result {
        Ok((r, nts)) => {
            let line = sntp::report_line(&r);
            let mut text = line.text();
            let mut value = json!(r);
            value["leap"] = json!(line.leap.wit_name());
            value["error_ns"] = json!(line.error_ns());
            value["authenticated"] = json!(nts.is_some());
            if let Some(n) = &nts {
                text = format!("{text}\n{}", nts::summary(n));
                value["nts"] = json!(n);
            }
            Outcome::success("report", value, Some(text))
        }
        Err(e) => Outcome::failure(sntp::error_kind(&e), sntp::describe(&e)),
    }
}
