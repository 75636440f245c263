//! The netkit echo client component: `wasi:cli/run` for the command line and
//! `netkit:diag/echo-client` for plugin hosts. The exchanges are in `exchange.rs`.

mod exchange;

use clap::Parser;
use echo_proto::{DEFAULT_MESSAGE, megabytes_per_second};
use echo_types::{ClientReport, ClientRequest, EchoError, Payload, Transport};
use exports::netkit::diag::echo_client::Guest as EchoClient;
use exports::wasi::cli::run::Guest as Run;

wit_bindgen::generate!({
    world: "echo-client-component",
    path: "../../wit",
    with: { "netkit:diag/echo-types@0.1.0": echo_types },
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
    #[command(flatten)]
    f: cli_args::flags::EchoClientFlags,
}

impl Run for Component {
    fn run() -> Result<(), ()> {
        let Args { f: args } = Args::try_parse().unwrap_or_else(|e| e.exit());
        let payload = match (&args.message, args.size) {
            (_, Some(n)) => Payload::Generated(n),
            (Some(m), None) => Payload::Message(m.clone()),
            (None, None) => Payload::Message(DEFAULT_MESSAGE.to_string()),
        };
        let outcome = wstd::runtime::block_on(async {
            let ip = netio::resolve(&args.host)
                .await
                .map_err(EchoError::InvalidRequest)?
                .into_iter()
                .find(|ip| {
                    (!args.family.ipv4 || ip.is_ipv4()) && (!args.family.ipv6 || ip.is_ipv6())
                })
                .ok_or_else(|| {
                    EchoError::InvalidRequest(format!(
                        "{:?} has no address of the family asked for",
                        args.host
                    ))
                })?;
            exchange::run(ClientRequest {
                host: ip.to_string(),
                port: args.port,
                transport: if args.udp {
                    Transport::Udp
                } else {
                    Transport::Tcp
                },
                payload: payload.clone(),
                count: args.count,
                concurrency: args.concurrency,
                timeout_ms: cli_args::ms_at_least_1(args.timeout),
            })
            .await
        });
        match outcome {
            Ok(report) if args.json => println!("{}", to_json(&report)),
            Ok(report) => println!("{}", to_text(&report, &payload)),
            Err(e) if args.json => {
                println!("{}", echo_types::error_json(&e));
                return Err(());
            }
            Err(e) => {
                eprintln!("echo-client: {}", echo_types::describe(&e));
                return Err(());
            }
        }
        Ok(())
    }
}

fn to_text(r: &ClientReport, payload: &Payload) -> String {
    let message = match payload {
        Payload::Message(m) => Some(m.as_str()),
        Payload::Generated(_) => None,
    };
    echo_proto::summary_line(message, &echo_proto::run_summary!(r))
}

fn to_json(r: &ClientReport) -> String {
    format!(
        concat!(
            "{{\"ok\":true,\"report\":{{\"server\":\"{}\",\"exchanges\":{},\"payload_bytes\":{},",
            "\"total_bytes\":{},\"rtt_min_ns\":{},\"rtt_median_ns\":{},\"rtt_p99_ns\":{},",
            "\"rtt_max_ns\":{},\"elapsed_ns\":{},\"mb_per_s\":{:.3}}}}}"
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

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/echo.wit");
