//! Embedding netkit in a plugin host: serve SNTP with one component and query it
//! with another, through typed exports (records and results, not argv), each
//! component granted exactly one address. Runs offline on loopback.
//!
//! `cargo run -p netkit --example embed_sntp`

use anyhow::{Result, anyhow};
use netkit::components::Builtin;
use netkit::runtime::{Host, Sandbox};
use netkit::sntp::{self, Family, QueryOptions, ServerConfig, SntpClient};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<()> {
    let rt = Host::new()?;

    // An SNTP server component on a free loopback port, granted only that port.
    let addr: SocketAddr = UdpSocket::bind("127.0.0.1:0")?.local_addr()?;
    let server = sntp::start_server(
        &rt,
        &rt.compile(Builtin::SntpServer.bytes())?,
        &Sandbox::new("sntp-server", sntp::server_policy(addr, &[])),
        ServerConfig {
            host: addr.ip().to_string(),
            port: addr.port(),
            stratum: 3,
            reference_id: "192.0.2.1".into(),
            rate_limit_ms: 0,
            stop_on_stdin_eof: true,
            stop_after: None,
            log_requests: false,
        },
    );

    // The client is compiled and linked once, then instantiated per query.
    let client = SntpClient::new(&rt)?;
    let options = QueryOptions {
        timeout_ms: 2_000,
        tries: 4,
        samples: 1,
        burst: true,
        family: Family::Any,
    };
    for _ in 0..3 {
        // The server binds its port on a task of its own: the first query
        // may come before it has, and is then retried for up to a second.
        let report = sntp::when_listening(Duration::from_secs(1), || client.query(addr, &options))
            .await?
            .map_err(|e| anyhow!(sntp::describe(&e)))?;
        println!(
            "stratum {} from {} (ref {}): offset {} ns, delay {} ns",
            report.stratum, report.server, report.reference_id, report.offset_ns, report.delay_ns
        );
    }

    let summary = server
        .stop()
        .await?
        .map_err(|e| anyhow!(sntp::describe(&e)))?;
    println!("server answered {} queries", summary.answered);
    Ok(())
}
