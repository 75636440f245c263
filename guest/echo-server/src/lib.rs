//! The netkit echo server component: `wasi:cli/run` for the command line and
//! `netkit:diag/echo-server` for plugin hosts. The serving itself is in `serve.rs`.

mod serve;
mod tcp_loop;

use clap::Parser;
use echo_types::{EchoError, ServerConfig, ServerSummary, Transport};
use exports::netkit::diag::echo_server::Guest as EchoServer;
use exports::wasi::cli::run::Guest as Run;

wit_bindgen::generate!({
    world: "echo-server-component",
    path: "../../wit",
    with: { "netkit:diag/echo-types@0.1.0": echo_types },
    generate_all,
});

struct Component;

impl EchoServer for Component {
    fn serve(config: ServerConfig) -> Result<ServerSummary, EchoError> {
        serve::serve(config)
    }
}

/// A concurrent TCP echo server (or UDP echo with --udp), RFC 862.
///
/// Every TCP connection is echoed until the client closes; many clients are served at once.
#[derive(Parser, Debug)]
#[command(name = "echo-server.wasm", version)]
struct Args {
    #[command(flatten)]
    f: cli_args::flags::EchoServerFlags,
    #[command(flatten)]
    g: cli_args::flags::GuestServerFlags,
}

impl Run for Component {
    fn run() -> Result<(), ()> {
        let Args { f: args, g } = Args::try_parse().unwrap_or_else(|e| e.exit());
        let udp = args.udp;
        let config = ServerConfig {
            host: args.host,
            port: args.port,
            transport: if args.udp {
                Transport::Udp
            } else {
                Transport::Tcp
            },
            max_connections: args.max_connections,
            idle_timeout_ms: args.idle_timeout.as_millis() as u64,
            stop_on_stdin_eof: g.stop_on_eof,
            drain_timeout_ms: args.drain_timeout.as_millis() as u64,
            max_datagram_rate: args.max_rate,
            stop_after: g.stop_after,
            log_connections: !args.quiet,
        };
        match serve::serve(config) {
            Ok(s) => {
                eprintln!(
                    "echo-server: {}",
                    echo_proto::server_summary_line(
                        udp,
                        &s.local_address,
                        s.connections,
                        s.rejected,
                        s.bytes
                    )
                );
                Ok(())
            }
            Err(e) => {
                eprintln!("echo-server: {}", echo_types::describe(&e));
                Err(())
            }
        }
    }
}

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/echo.wit");
