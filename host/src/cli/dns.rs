//! `netkit dns NAME`: what a DNS server really answers (rcode, flags, every
//! section with TTLs), granted only that server: UDP, and TCP for truncation.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::Target;
use anyhow::Result;
use cli_args::flags::DnsFlags;
use netkit::dns_probe::{self, DnsClient, DnsQuery};
use serde_json::json;
use std::net::SocketAddr;
use std::process::ExitCode;

/// Ask a DNS server like dig: --type, -x, --server, --tcp; exit 0 only on NOERROR.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: DnsFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

/// Run the query.
pub async fn main(Args { f: a, c }: Args, audit: bool) -> Result<ExitCode> {
    let (name, record_type) = dns_proto::query_of(a.name.as_deref(), a.reverse, &a.record_type);
    let addr = match &a.server {
        Some(s) => dns_proto::parse_server(s)
            .unwrap_or_else(|e| super::usage_error(format!("--server {e}"))),
        None => SocketAddr::new(dns_probe::system_server()?, 53),
    };
    let Setup {
        target,
        host,
        component,
        job,
    } = job::setup(
        "dns",
        netkit::components::Builtin::DnsProbe,
        Target { addr, name: None },
        &c,
        Format::new(a.json, audit),
        dns_probe::client_policy,
    )
    .await?;
    let client = DnsClient::from_component(&host, &component)?;
    let query = DnsQuery {
        name,
        record_type,
        server: target.addr.ip().to_string(),
        port: target.addr.port(),
        tcp: a.tcp,
        timeout_ms: cli_args::ms_at_least_1(a.timeout),
        recurse: !a.norecurse,
    };
    let outcome = match client.query_in(job.sandbox(), &query).await? {
        Ok(answer) => {
            let ok = answer.rcode == "NOERROR";
            let outcome = Outcome::verdict(
                ok,
                "answer",
                json!(answer),
                Some(dns_probe::answer_text(&answer)),
            );
            if ok {
                outcome
            } else {
                outcome.note(format!(
                    "{}: {}",
                    answer.rcode,
                    dns_proto::rcode_meaning(&answer.rcode)
                ))
            }
        }
        Err(e) => Outcome::failure(dns_probe::error_kind(&e), dns_probe::describe(&e)),
    };
    Ok(job.finish(outcome))
}
