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
    /// IP address to bind (IPv4 or IPv6 literal).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind (0 picks a free one).
    #[arg(long, short)]
    port: u16,
    /// Echo UDP datagrams instead of TCP streams.
    #[arg(long)]
    udp: bool,
    /// Most TCP connections served at once; more are closed at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: u32,
    /// Close a TCP connection idle this long (e.g. 30s, 5m; a plain number is seconds; 0 = never).
    #[arg(long, default_value = "300s", value_parser = cli_units::secs)]
    idle_timeout: std::time::Duration,
    /// Stop after serving this many connections (TCP) or datagrams (UDP).
    #[arg(long)]
    stop_after: Option<u64>,
    /// After end-of-file on stdin, keep serving open connections this long (e.g. 1s; 0 = at once).
    #[arg(long, default_value = "1s", value_parser = cli_units::secs)]
    drain_timeout: std::time::Duration,
    /// Stop cleanly when standard input reaches end-of-file.
    #[arg(long)]
    stop_on_eof: bool,
    /// Do not log each connection.
    #[arg(long, short)]
    quiet: bool,
}

impl Run for Component {
    fn run() -> Result<(), ()> {
        let args = Args::try_parse().unwrap_or_else(|e| e.exit());
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
            stop_on_stdin_eof: args.stop_on_eof,
            drain_timeout_ms: args.drain_timeout.as_millis() as u64,
            stop_after: args.stop_after,
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
