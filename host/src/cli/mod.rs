//! The `netkit` command line: definitions here, one module per command, and
//! one shared path ([`job`]) from grants to printed result and exit code.

mod args;
mod completions;
mod components;
mod demo;
mod dns;
mod echo_client;
mod echo_server;
mod http;
mod inspect;
mod job;
mod keep;
mod lazy;
mod load;
mod output;
mod ping;
mod probe;
mod tls;
// Targets are resolved by the library (the same rules for `netkit watch`).
use netkit::target as resolve;
mod run;
mod signal;
mod sntp;
mod sntp_server;
mod watch;
mod watch_pages;

use clap::{Parser, Subcommand};
use lazy::Lazy;
use std::process::ExitCode;

/// The version line: netkit's and the wasmtime it embeds.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (wasmtime ",
    env!("NETKIT_WASMTIME_VERSION"),
    ")"
);

/// Sandboxed network diagnostics: WebAssembly components that may reach only
/// the host and port you name. Everything else they try is denied and shown.
#[derive(Parser, Debug)]
#[command(name = "netkit", version = VERSION, propagate_version = true)]
pub struct Cli {
    /// Print a table of every network attempt (allowed and denied) when done
    /// (with --json the audit is part of the JSON instead).
    #[arg(long, global = true)]
    audit: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the echo and SNTP servers and clients on loopback and show what each may do and did.
    Demo(Lazy<demo::Args>),
    /// Run the echo server component, granted exactly HOST:PORT, until Ctrl-C.
    EchoServer(Lazy<echo_server::Args>),
    /// Run the echo client component, granted only HOST:PORT.
    EchoClient(Lazy<echo_client::Args>),
    /// Ask an SNTP/NTP server for the time, granted only datagrams to and from that server.
    Sntp(Lazy<sntp::Args>),
    /// Run the SNTP server component, granted exactly HOST:PORT, until Ctrl-C.
    SntpServer(Lazy<sntp_server::Args>),
    /// Probe a TCP port (connect time, optional request and expected reply), granted only HOST:PORT.
    Tcp(Lazy<probe::TcpArgs>),
    /// Probe a UDP service (a datagram, its reply and round trip), granted only HOST:PORT.
    Udp(Lazy<probe::UdpArgs>),
    /// Ask a DNS server like dig (rcode, flags, sections, TTLs), granted only that server.
    Dns(Lazy<dns::Args>),
    /// Probe a TLS server (version, cipher, the chain as sent, why it does not verify), granted only HOST:PORT.
    Tls(Lazy<tls::Args>),
    /// Fetch a URL like blackbox's http prober (status, phases, checks), granted only its host:port and --allow-redirect ones.
    Http(Lazy<Box<http::Args>>),
    /// Ping a host like iputils ping (ICMP echo through netkit's host capability), granted icmp:// that address only.
    Ping(Lazy<ping::Args>),
    /// Probe on schedule and serve Prometheus metrics (like blackbox_exporter), every run sandboxed.
    Watch(Lazy<watch::Args>),
    /// Run any wasi:cli/run component under exactly the grants given (default: no network).
    Run(Lazy<run::Args>),
    /// Write the embedded components out as .wasm files (or push them to a registry), for other hosts.
    Components(Lazy<components::Args>),
    /// Show what a component is before it runs: digest, world, imports, exports, metadata, what --allow grants would give it.
    Inspect(Lazy<inspect::Args>),
    /// Print a shell completion script: `netkit completions bash > /etc/bash_completion.d/netkit`.
    Completions(Lazy<completions::Args>),
}

impl Cli {
    /// Whether the command does one thing and exits (a query, one component run):
    /// those run on one thread, without starting a worker pool they do not need.
    /// Servers and the demo get the multi-thread runtime.
    pub fn one_shot(&self) -> bool {
        !matches!(
            self.command,
            Command::Demo(_) | Command::EchoServer(_) | Command::SntpServer(_) | Command::Watch(_)
        )
    }
}

/// Run the parsed command; every error becomes one line and exit code 1.
pub async fn main(cli: Cli) -> ExitCode {
    let audit = cli.audit;
    let outcome = match cli.command {
        Command::Demo(Lazy(a)) => demo::main(a, audit).await,
        Command::EchoServer(Lazy(a)) => echo_server::main(a, audit).await,
        Command::EchoClient(Lazy(a)) => echo_client::main(a, audit).await,
        Command::Sntp(Lazy(a)) => sntp::main(a, audit).await,
        Command::SntpServer(Lazy(a)) => sntp_server::main(a, audit).await,
        Command::Tcp(Lazy(a)) => probe::tcp(a, audit).await,
        Command::Udp(Lazy(a)) => probe::udp(a, audit).await,
        Command::Dns(Lazy(a)) => dns::main(a, audit).await,
        Command::Tls(Lazy(a)) => tls::main(a, audit).await,
        Command::Http(Lazy(a)) => http::main(*a, audit).await,
        Command::Ping(Lazy(a)) => ping::main(a, audit).await,
        Command::Watch(Lazy(a)) => watch::main(a).await,
        Command::Run(Lazy(a)) => run::main(a, audit).await,
        Command::Components(Lazy(a)) => components::main(a).await,
        Command::Inspect(Lazy(a)) => inspect::main(a).await,
        Command::Completions(Lazy(a)) => completions::main(a),
    };
    outcome.unwrap_or_else(|e| {
        // One line: a trap by its reason, never wasm's backtrace (issue 31).
        eprintln!("netkit: {}", netkit::command::one_line(&e));
        ExitCode::FAILURE
    })
}

/// The clap command, for completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// A usage error found after parsing (one flag against another): clap's format, exit 2.
pub fn usage_error(message: String) -> ! {
    command()
        .error(clap::error::ErrorKind::ValueValidation, message)
        .exit()
}

/// A host as the user wrote it, without IPv6 brackets (the name for SNI and verification).
pub fn resolve_name(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}
