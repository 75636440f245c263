//! `netkit demo`: the echo and SNTP servers and clients on loopback, each granted
//! exactly what it needs, and one client asked to go elsewhere (denied).

use anyhow::{Context, Result};
use netkit::audit::Audit;
use netkit::components::Builtin;
use netkit::echo::{self, ClientRequest, EchoError, Payload, ServerConfig, Transport};
use netkit::runtime::{Host, Sandbox};
use netkit::sntp::{self, QueryOptions, ServerConfig as SntpServerConfig};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Start the echo and SNTP server components on free loopback ports, run their
/// clients against them, show what each was granted and did, and one denial.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON object (every step, with grants and audits) instead of text.
    #[arg(long)]
    json: bool,
}

/// Each step's line, collected for text or JSON.
struct Steps {
    json: bool,
    failed: bool,
    list: Vec<Value>,
}

impl Steps {
    fn show(&mut self, who: &str, ok: bool, line: String) {
        self.failed |= !ok;
        if !self.json {
            println!("{who:<12} {line}");
        }
        self.list
            .push(json!({ "who": who, "ok": ok, "line": line }));
    }

    fn granted(&mut self, sandbox: &Sandbox) {
        let line = format!("granted: {}", sandbox.policy().summary());
        self.show(sandbox.label(), true, line);
    }
}

fn free_port(udp: bool) -> Result<u16> {
    let port = if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
    };
    Ok(port)
}

/// Run the demo.
pub async fn main(a: Args, audit: bool) -> Result<ExitCode> {
    let host = Host::new()?;
    let mut steps = Steps {
        json: a.json,
        failed: false,
        list: Vec::new(),
    };
    if !a.json {
        println!("== netkit demo: sandboxed components talking TCP and UDP on loopback ==");
    }
    let loopback = ["127.0.0.0/8".parse().context("loopback network")?];

    // The echo pair.
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port(false)?));
    // Room for every connection the server takes (as `netkit echo-server`
    // gives it): connections the client has closed stay held until the
    // server notices, which on a loaded machine can take a while.
    const MAX_CONNECTIONS: u32 = 64;
    let mut server_box = Sandbox::new(
        "echo-server",
        echo::server_policy(addr, Transport::Tcp, &loopback),
    );
    server_box.set_max_sockets(MAX_CONNECTIONS as usize + 16);
    steps.granted(&server_box);
    let config = ServerConfig {
        host: addr.ip().to_string(),
        port: addr.port(),
        transport: Transport::Tcp,
        max_connections: MAX_CONNECTIONS,
        idle_timeout_ms: 10_000,
        stop_on_stdin_eof: true,
        drain_timeout_ms: 1_000,
        max_datagram_rate: 0,
        stop_after: None,
        log_connections: false,
    };
    let server = echo::start_server(
        &host,
        &host.builtin(Builtin::EchoServer)?,
        &server_box,
        config,
    );
    let client_component = host.builtin(Builtin::EchoClient)?;
    let client_box = Sandbox::new("echo-client", echo::client_policy(addr, Transport::Tcp));
    steps.granted(&client_box);
    let runs = [
        (
            "the original message",
            Payload::Message(echo_proto::DEFAULT_MESSAGE.into()),
            1,
            1,
        ),
        (
            "64 KiB x 32 exchanges, 8 at once",
            Payload::Generated(64 * 1024),
            32,
            8,
        ),
    ];
    for (what, payload, count, concurrency) in runs {
        let request = ClientRequest {
            host: addr.ip().to_string(),
            port: addr.port(),
            transport: Transport::Tcp,
            payload,
            count,
            concurrency,
            timeout_ms: 5_000,
        };
        // Retry briefly while the server is still starting to listen.
        let mut outcome = echo::run_client(&host, &client_component, &client_box, &request).await?;
        for _ in 0..50 {
            if !matches!(outcome, Err(EchoError::Refused(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            outcome = echo::run_client(&host, &client_component, &client_box, &request).await?;
        }
        match outcome {
            Ok(r) => steps.show(
                "echo-client",
                true,
                format!("{what}: {}", echo::summary_line(&r, &request.payload)),
            ),
            Err(e) => steps.show(
                "echo-client",
                false,
                format!("{what}: FAILED: {}", echo::describe(&e)),
            ),
        }
    }

    // What a denial looks like: the same client component asked to reach another port.
    let elsewhere = SocketAddr::new(addr.ip(), free_port(false)?);
    let stray = ClientRequest {
        host: elsewhere.ip().to_string(),
        port: elsewhere.port(),
        transport: Transport::Tcp,
        payload: Payload::Message("should never arrive".into()),
        count: 1,
        concurrency: 1,
        timeout_ms: 2_000,
    };
    let mut stray_box = Sandbox::new(
        "echo-client (stray)",
        echo::client_policy(addr, Transport::Tcp),
    );
    stray_box.set_audit(Arc::new(Audit::new("echo-client (stray)", true)));
    match echo::run_client(&host, &client_component, &stray_box, &stray).await? {
        Err(EchoError::Denied(msg)) => steps.show(
            "echo-client",
            true,
            format!("asked for {elsewhere} outside its grant: denied ({msg})"),
        ),
        other => steps.show(
            "echo-client",
            false,
            format!("asked for {elsewhere} outside its grant: NOT DENIED: {other:?}"),
        ),
    }

    // The SNTP pair: a server component answering from the wall clock, a client querying it.
    let sntp_addr = SocketAddr::from(([127, 0, 0, 1], free_port(true)?));
    let sntp_server_box = Sandbox::new("sntp-server", sntp::server_policy(sntp_addr, &loopback));
    steps.granted(&sntp_server_box);
    let sntp_server = sntp::start_server(
        &host,
        &host.builtin(Builtin::SntpServer)?,
        &sntp_server_box,
        SntpServerConfig {
            host: sntp_addr.ip().to_string(),
            port: sntp_addr.port(),
            stratum: 10,
            reference_id: "127.127.1.1".into(), // what a local clock at stratum 10 announces
            rate_limit_ms: 0,
            stop_on_stdin_eof: true,
            stop_after: None,
            log_requests: false,
        },
    );
    let sntp_box = Sandbox::new("sntp", sntp::client_policy(sntp_addr));
    steps.granted(&sntp_box);
    let options = QueryOptions {
        timeout_ms: 2_000,
        tries: 4,
        samples: 3,
        burst: true,
        family: sntp::Family::Any,
    };
    let component = host.builtin(Builtin::SntpClient)?;
    // The server binds its port on a task of its own: retry briefly while it is not there yet.
    let outcome = sntp::when_listening(Duration::from_secs(1), || {
        sntp::query(&host, &component, &sntp_box, sntp_addr, &options)
    })
    .await?;
    match outcome {
        Ok(r) => steps.show("sntp", true, sntp::report_line(&r).text()),
        Err(e) => steps.show("sntp", false, format!("FAILED: {}", sntp::describe(&e))),
    }
    match sntp_server.stop().await? {
        Ok(s) => steps.show(
            "sntp-server",
            true,
            format!("answered {} requests on {}", s.answered, s.local_address),
        ),
        Err(e) => steps.show(
            "sntp-server",
            false,
            format!("FAILED: {}", sntp::describe(&e)),
        ),
    }
    match server.stop().await? {
        Ok(s) => steps.show(
            "echo-server",
            true,
            echo_proto::server_summary_line(
                false,
                &s.local_address,
                s.connections,
                s.rejected,
                s.bytes,
            ),
        ),
        Err(e) => steps.show(
            "echo-server",
            false,
            format!("FAILED: {}", echo::describe(&e)),
        ),
    }

    let boxes = [
        &server_box,
        &client_box,
        &stray_box,
        &sntp_server_box,
        &sntp_box,
    ];
    let counts: Vec<String> = boxes
        .iter()
        .map(|b| {
            format!(
                "{} {} ({} denied)",
                b.label(),
                b.audit().total(),
                b.audit().denied()
            )
        })
        .collect();
    let ok = !steps.failed;
    if a.json {
        let audits: Vec<Value> = boxes
            .iter()
            .map(|b| json!({ "who": b.label(), "grants": b.policy().summary(), "audit": b.audit().events() }))
            .collect();
        println!(
            "{}",
            json!({ "ok": ok, "steps": steps.list, "sandboxes": audits })
        );
    } else {
        println!("audit: {}", counts.join("; "));
        if audit {
            for b in boxes {
                print!("{}", b.audit().table());
            }
        }
        println!("{}", if ok { "demo ok" } else { "demo FAILED" });
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
