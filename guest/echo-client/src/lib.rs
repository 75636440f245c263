//! The netkit echo client component: `wasi:cli/run` for the command line and
//! `netkit:diag/echo-client` for plugin hosts. The exchanges are in `exchange.rs`.

#[path = "../../shared/echo_errors.rs"]
mod errors;
mod exchange;

use clap::Parser;
use echo_proto::{DEFAULT_MESSAGE, megabytes_per_second};
use exports::netkit::diag::echo_client::Guest as EchoClient;
use exports::wasi::cli::run::Guest as Run;
use netkit::diag::echo_types::{ClientReport, ClientRequest, EchoError, Payload};

wit_bindgen::generate!({
    world: "echo-client-component",
    path: "../../wit",
    generate_all,
});

struct Component;

impl EchoClient for Component {
    fn run(request: ClientRequest) -> Result<ClientReport, EchoError> {
        wstd::runtime::block_on(exchange::run(request))
    }
}

/// Send a payload to an echo server, read it back, verify every byte, report round-trip times.
#[derive(Parser, Debug)]
#[command(name = "echo-client.wasm", version)]
struct Args {
    /// Server: IP address or host name.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(long, short)]
    port: u16,
    /// Text to send.
    #[arg(long, short, conflicts_with = "size")]
    message: Option<String>,
    /// Send this many bytes of generated data instead (different for every exchange).
    #[arg(long, short)]
    size: Option<u64>,
    /// Number of exchanges (each: connect, send, read back, verify, close).
    #[arg(long, short, default_value_t = 1)]
    count: u32,
    /// Exchanges running at once.
    #[arg(long, default_value_t = 1)]
    concurrency: u32,
    /// Give up after this many seconds without progress.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

impl Run for Component {
    fn run() -> Result<(), ()> {
        let args = Args::try_parse().unwrap_or_else(|e| e.exit());
        let payload = match (&args.message, args.size) {
            (_, Some(n)) => Payload::Generated(n),
            (Some(m), None) => Payload::Message(m.clone()),
            (None, None) => Payload::Message(DEFAULT_MESSAGE.to_string()),
        };
        let outcome = wstd::runtime::block_on(async {
            let ip = *netio::resolve(&args.host)
                .await
                .map_err(EchoError::InvalidRequest)?
                .first()
                .expect("resolve returns at least one address");
            exchange::run(ClientRequest {
                host: ip.to_string(),
                port: args.port,
                payload: payload.clone(),
                count: args.count,
                concurrency: args.concurrency,
                timeout_ms: (args.timeout.max(0.001) * 1000.0) as u64,
            })
            .await
        });
        match outcome {
            Ok(report) if args.json => println!("{}", to_json(&report)),
            Ok(report) => println!("{}", to_text(&report, &payload)),
            Err(e) => {
                eprintln!("echo-client: {}", errors::describe(&e));
                return Err(());
            }
        }
        Ok(())
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn to_text(r: &ClientReport, payload: &Payload) -> String {
    if let (Payload::Message(m), 1) = (payload, r.exchanges) {
        return format!(
            "received {m:?} ({} bytes) back from {} in {:.3} ms, verified",
            r.payload_bytes,
            r.server,
            ms(r.rtt_max_ns)
        );
    }
    format!(
        "{} exchanges of {} bytes with {} verified; rtt min {:.3} ms, median {:.3} ms, p99 {:.3} ms, max {:.3} ms; {:.2} MB/s",
        r.exchanges,
        r.payload_bytes,
        r.server,
        ms(r.rtt_min_ns),
        ms(r.rtt_median_ns),
        ms(r.rtt_p99_ns),
        ms(r.rtt_max_ns),
        megabytes_per_second(r.total_bytes, r.elapsed_ns)
    )
}

fn to_json(r: &ClientReport) -> String {
    format!(
        concat!(
            "{{\"server\":\"{}\",\"exchanges\":{},\"payload_bytes\":{},\"total_bytes\":{},",
            "\"rtt_min_ns\":{},\"rtt_median_ns\":{},\"rtt_p99_ns\":{},\"rtt_max_ns\":{},",
            "\"elapsed_ns\":{},\"mb_per_s\":{:.3}}}"
        ),
        r.server,
        r.exchanges,
        r.payload_bytes,
        r.total_bytes,
        r.rtt_min_ns,
        r.rtt_median_ns,
        r.rtt_p99_ns,
        r.rtt_max_ns,
        r.elapsed_ns,
        megabytes_per_second(r.total_bytes, r.elapsed_ns)
    )
}

export!(Component);
