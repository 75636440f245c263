//! Subcommands: parse the request, build exact grants, run the component, print.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;
use netkit::audit::Audit;
use netkit::components::Builtin;
use netkit::echo::{self, ClientRequest, EchoError, Payload, ServerConfig, Transport};
use netkit::policy::Grant;
use netkit::policy::Policy;
use netkit::run;
use netkit::runtime::{Runtime, Sandbox};
use netkit::sntp::{self, Family, QueryOptions, ServerConfig as SntpServerConfig};
use serde_json::json;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use wasmtime::component::Component;

/// Sandboxed network diagnostics: WebAssembly components that may reach only
/// the host and port you name. Everything else they try is denied and shown.
#[derive(Parser, Debug)]
#[command(name = "netkit", version, propagate_version = true)]
pub struct Cli {
    /// Print a table of every network attempt (allowed and denied) when done.
    #[arg(long, global = true)]
    audit: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the echo server and client components on loopback and show what each may do and did.
    Demo,
    /// Run the echo server component, granted exactly HOST:PORT, until Ctrl-C.
    EchoServer(EchoServerArgs),
    /// Run the echo client component, granted only a connection to HOST:PORT.
    EchoClient(EchoClientArgs),
    /// Ask an SNTP/NTP server for the time, granted only datagrams to and from that server.
    Sntp(SntpArgs),
    /// Run the SNTP server component, granted exactly HOST:PORT, until Ctrl-C.
    SntpServer(SntpServerArgs),
    /// Run any wasi:cli/run component under exactly the grants given (default: no network).
    Run(RunArgs),
    /// Write the embedded components out as .wasm files, for `wasmtime run` or other hosts.
    Components {
        /// Directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
struct EchoServerArgs {
    /// Address to serve on: IP or name (resolved by netkit, not the component).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to serve on.
    #[arg(long, short)]
    port: u16,
    /// Serve UDP echo (RFC 862) instead of TCP.
    #[arg(long)]
    udp: bool,
    /// Accept clients only from this network (CIDR, e.g. 127.0.0.0/8); repeatable. Default: anyone.
    #[arg(long = "allow-from", value_name = "CIDR")]
    allow_from: Vec<IpNet>,
    /// Most TCP connections served at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: u32,
    /// Close a TCP connection idle this many seconds (0 = never).
    #[arg(long, default_value_t = 300.0)]
    idle_timeout: f64,
    /// Do not log every connection.
    #[arg(long, short)]
    quiet: bool,
    /// Use this component file instead of the embedded echo server.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct EchoClientArgs {
    /// Server: IP or name (resolved by netkit, not the component).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(long, short)]
    port: u16,
    /// Text to send [default: "This is a test message"].
    #[arg(long, short, conflicts_with = "size")]
    message: Option<String>,
    /// Send this many bytes of generated data instead, different for every exchange.
    #[arg(long, short)]
    size: Option<u64>,
    /// Number of exchanges (connect, send, read back, verify, close).
    #[arg(long, short, default_value_t = 1)]
    count: u32,
    /// Exchanges running at once.
    #[arg(long, default_value_t = 1)]
    concurrency: u32,
    /// Give up after this many seconds without progress.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Print one JSON object (report, grants, audit) instead of text.
    #[arg(long)]
    json: bool,
    /// Use this component file instead of the embedded echo client.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct SntpArgs {
    /// Server: HOST, HOST:PORT, IP or [IPv6]:PORT (default port 123). Names are resolved by netkit.
    server: String,
    /// Seconds to wait for a valid reply, per sample.
    #[arg(long, short, default_value_t = 5.0)]
    timeout: f64,
    /// Requests sent per sample, spread over the timeout.
    #[arg(long, default_value_t = 3)]
    tries: u32,
    /// Samples to take (1 s apart unless --burst); the one with the lowest delay is reported.
    #[arg(long, short, default_value_t = 1)]
    samples: u32,
    /// Take the samples back to back.
    #[arg(long)]
    burst: bool,
    /// Print one JSON object (report, grants, audit) instead of text.
    #[arg(long)]
    json: bool,
    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    ipv4: bool,
    /// Use IPv6 only.
    #[arg(short = '6')]
    ipv6: bool,
    /// Use this component file instead of the embedded SNTP client.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct SntpServerArgs {
    /// Address to serve on: IP or name (resolved by netkit).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// UDP port to serve on.
    #[arg(long, short)]
    port: u16,
    /// Stratum to announce (1..=15).
    #[arg(long, default_value_t = 10)]
    stratum: u8,
    /// Reference id: up to 4 characters for stratum 1 (e.g. GPS), an IPv4 address above
    /// [default: LOCL at stratum 1, else 127.127.1.1].
    #[arg(long)]
    refid: Option<String>,
    /// Answer each client at most once per this many milliseconds; RATE kiss-o'-death in between.
    #[arg(long, default_value_t = 0)]
    rate_limit_ms: u64,
    /// Answer only clients in this network (CIDR); repeatable. Default: anyone.
    #[arg(long = "allow-from", value_name = "CIDR")]
    allow_from: Vec<IpNet>,
    /// Do not log every request.
    #[arg(long, short)]
    quiet: bool,
    /// Use this component file instead of the embedded SNTP server.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// A network grant, repeatable: tcp-connect://HOST:PORT, tcp-listen://HOST:PORT,
    /// tcp-accept://CIDR:PORTS, udp://HOST:PORT, udp-bind://HOST:PORT. HOST is an IP,
    /// [IPv6], CIDR or name; PORT a number, a-b, or *.
    #[arg(long = "allow", value_name = "GRANT")]
    allow: Vec<Grant>,
    /// Stop the component after this many seconds.
    #[arg(long, value_name = "SECS")]
    deadline: Option<f64>,
    /// Cap on the component's memory, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    max_memory: usize,
    /// Let the component read this process's standard input (closed by default).
    #[arg(long)]
    stdin: bool,
    /// The component (.wasm) to run.
    component: PathBuf,
    /// Arguments for the component (after --).
    #[arg(last = true)]
    args: Vec<String>,
}

/// Run the parsed command.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Demo => demo(cli.audit).await,
        Command::EchoServer(a) => echo_server(a, cli.audit).await,
        Command::EchoClient(a) => echo_client(a, cli.audit).await,
        Command::Sntp(a) => sntp_query(a, cli.audit).await,
        Command::SntpServer(a) => sntp_server(a, cli.audit).await,
        Command::Run(a) => run_component(a, cli.audit).await,
        Command::Components { out } => write_components(&out),
    }
}

fn load(rt: &Runtime, builtin: Builtin, path: Option<&Path>) -> Result<Component> {
    match path {
        None => rt.compile(builtin.bytes()),
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| {
                format!(
                    "cannot read component {} (get the built-in ones with `netkit components --out DIR`)",
                    p.display()
                )
            })?;
            rt.compile(&bytes)
                .with_context(|| format!("cannot load {}", p.display()))
        }
    }
}

/// Resolve `host:port` on the host side; the component only ever sees the IP.
fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    resolve_family(host, port, None)
}

/// Like [`resolve`], keeping only IPv4 (`Some(true)`) or IPv6 (`Some(false)`) addresses.
fn resolve_family(host: &str, port: u16, v4: Option<bool>) -> Result<SocketAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    (bare, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve host {host:?}"))?
        .find(|a| v4.is_none_or(|v4| a.is_ipv4() == v4))
        .with_context(|| match v4 {
            Some(true) => format!("host {host:?} has no IPv4 address"),
            Some(false) => format!("host {host:?} has no IPv6 address"),
            None => format!("host {host:?} has no addresses"),
        })
}

async fn sntp_query(a: SntpArgs, audit: bool) -> Result<ExitCode> {
    let (host, port) = sntp_proto::split_server(&a.server, 123).map_err(anyhow::Error::msg)?;
    let family = match (a.ipv4, a.ipv6) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let addr = resolve_family(&host, port, family)?;
    let rt = Runtime::new()?;
    let component = load(&rt, Builtin::SntpClient, a.component.as_deref())?;
    let policy = sntp::client_policy(addr);
    if !a.json {
        show_grants("sntp", &policy);
    }
    let sandbox = Sandbox::new("sntp", policy);
    let options = QueryOptions {
        timeout_ms: secs_to_ms(a.timeout).max(1),
        tries: a.tries,
        samples: a.samples,
        burst: a.burst,
        family: Family::Any,
    };
    let outcome = sntp::query(&rt, &component, &sandbox, addr, &options).await?;
    let log = sandbox.audit_log();
    if a.json {
        let mut body = match &outcome {
            Ok(r) => json!({ "ok": true, "report": r, "error_ns": sntp::error_ns(r) }),
            Err(e) => json!({ "ok": false, "error": e, "message": sntp::describe(e) }),
        };
        body["grants"] = json!(grant_list(sandbox.policy()));
        body["audit"] = json!(log.events());
        println!("{body}");
    } else if let Ok(r) = &outcome {
        println!("{}", sntp::text(r));
    }
    if audit {
        eprint!("{}", log.table());
    }
    match outcome {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("netkit: sntp: {}", sntp::describe(&e));
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn sntp_server(a: SntpServerArgs, audit: bool) -> Result<ExitCode> {
    let rt = Runtime::new()?;
    let component = load(&rt, Builtin::SntpServer, a.component.as_deref())?;
    let addr = resolve(&a.host, a.port)?;
    let policy = sntp::server_policy(addr, &a.allow_from);
    show_grants("sntp-server", &policy);
    let sandbox = Sandbox::new("sntp-server", policy);
    let config = SntpServerConfig {
        host: addr.ip().to_string(),
        port: addr.port(),
        stratum: a.stratum,
        reference_id: a.refid.unwrap_or_else(|| default_refid(a.stratum).into()),
        rate_limit_ms: a.rate_limit_ms,
        stop_on_stdin_eof: true,
        stop_after: None,
        log_requests: !a.quiet,
    };
    let mut server = sntp::start_server(&rt, &component, &sandbox, config);
    let outcome = tokio::select! {
        done = server.wait() => done?,
        () = shutdown_signal() => {
            eprintln!("netkit: stopping sntp-server (press Ctrl-C again to abort)");
            tokio::select! {
                done = server.stop() => done?,
                () = shutdown_signal() => bail!("aborted before the SNTP server stopped"),
            }
        }
    };
    if audit {
        eprint!("{}", sandbox.audit_log().table());
    }
    match outcome {
        Ok(s) => {
            eprintln!(
                "netkit: sntp-server on {} answered {} requests, {} rate-limited, {} ignored",
                s.local_address, s.answered, s.kissed, s.ignored
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("netkit: sntp-server: {}", sntp::describe(&e));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The reference id a local clock announces (what chronyd's `local` directive uses).
fn default_refid(stratum: u8) -> &'static str {
    if stratum <= 1 { "LOCL" } else { "127.127.1.1" }
}

async fn run_component(a: RunArgs, audit: bool) -> Result<ExitCode> {
    let bytes = std::fs::read(&a.component)
        .with_context(|| format!("cannot read component {}", a.component.display()))?;
    let (policy, names) = Policy::new(a.allow)
        .resolve_names()
        .map_err(anyhow::Error::msg)?;
    let rt = Runtime::new()?;
    let component = rt
        .compile(&bytes)
        .with_context(|| format!("cannot load {}", a.component.display()))?;
    let name = a
        .component
        .file_name()
        .map_or_else(|| "component".into(), |n| n.to_string_lossy().into_owned());
    if policy.grants().is_empty() {
        eprintln!("netkit: {name} granted: nothing (no network)");
    } else {
        show_grants(&name, &policy);
    }
    let mut sandbox = Sandbox::new(name.clone(), policy);
    sandbox.names(names);
    let mut argv = vec![name.clone()];
    argv.extend(a.args);
    if a.deadline.is_some_and(|d| !(d > 0.0 && d.is_finite())) {
        bail!("--deadline must be a positive number of seconds");
    }
    sandbox
        .args(argv)
        .inherit_stdin(a.stdin)
        .max_memory(a.max_memory.saturating_mul(1 << 20))
        .deadline(a.deadline.map(std::time::Duration::from_secs_f64));
    let exit = run::run_command(&rt, &component, &sandbox).await?;
    if audit {
        eprint!("{}", sandbox.audit_log().table());
    }
    if !matches!(exit, run::Exit::Code(_)) {
        eprintln!("netkit: {name} {exit}");
    }
    Ok(ExitCode::from(exit.code().clamp(0, 255) as u8))
}

fn grant_list(policy: &Policy) -> Vec<String> {
    policy.grants().iter().map(|g| g.to_string()).collect()
}

fn show_grants(who: &str, policy: &Policy) {
    let list: Vec<String> = policy.grants().iter().map(|g| g.to_string()).collect();
    eprintln!("netkit: {who} granted: {}", list.join(", "));
}

fn secs_to_ms(secs: f64) -> u64 {
    (secs.max(0.0) * 1000.0) as u64
}

async fn echo_server(a: EchoServerArgs, audit: bool) -> Result<ExitCode> {
    let rt = Runtime::new()?;
    let component = load(&rt, Builtin::EchoServer, a.component.as_deref())?;
    let addr = resolve(&a.host, a.port)?;
    let transport = if a.udp {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let policy = echo::server_policy(addr, transport, &a.allow_from);
    show_grants("echo-server", &policy);
    let sandbox = Sandbox::new("echo-server", policy);
    let config = ServerConfig {
        host: addr.ip().to_string(),
        port: addr.port(),
        transport,
        max_connections: a.max_connections,
        idle_timeout_ms: secs_to_ms(a.idle_timeout),
        stop_on_stdin_eof: true,
        stop_after: None,
        log_connections: !a.quiet,
    };
    let mut server = echo::start_server(&rt, &component, &sandbox, config);
    let outcome = tokio::select! {
        done = server.wait() => done?,
        () = shutdown_signal() => {
            eprintln!("netkit: stopping echo-server (press Ctrl-C again to abort)");
            tokio::select! {
                done = server.stop() => done?,
                () = shutdown_signal() => bail!("aborted before the echo server stopped"),
            }
        }
    };
    if audit {
        eprint!("{}", sandbox.audit_log().table());
    }
    match outcome {
        Ok(s) => {
            eprintln!(
                "netkit: echo-server on {} served {} connections ({} rejected), {} bytes echoed",
                s.local_address, s.connections, s.rejected, s.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("netkit: echo-server: {}", echo::describe(&e));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn echo_client(a: EchoClientArgs, audit: bool) -> Result<ExitCode> {
    let rt = Runtime::new()?;
    let component = load(&rt, Builtin::EchoClient, a.component.as_deref())?;
    let addr = resolve(&a.host, a.port)?;
    let policy = echo::client_policy(addr);
    if !a.json {
        show_grants("echo-client", &policy);
    }
    let sandbox = Sandbox::new("echo-client", policy);
    let payload = match (a.message, a.size) {
        (_, Some(n)) => Payload::Generated(n),
        (Some(m), None) => Payload::Message(m),
        (None, None) => Payload::Message(echo_proto::DEFAULT_MESSAGE.into()),
    };
    let request = ClientRequest {
        host: addr.ip().to_string(),
        port: addr.port(),
        payload,
        count: a.count,
        concurrency: a.concurrency,
        timeout_ms: secs_to_ms(a.timeout).max(1),
    };
    let outcome = echo::run_client(&rt, &component, &sandbox, &request).await?;
    let log = sandbox.audit_log();
    if a.json {
        let body = match &outcome {
            Ok(r) => json!({
                "ok": true,
                "report": r,
                "mb_per_s": echo::megabytes_per_second(r),
            }),
            Err(e) => json!({ "ok": false, "error": e, "message": echo::describe(e) }),
        };
        let mut body = body;
        body["grants"] = json!(
            sandbox
                .policy()
                .grants()
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
        );
        body["audit"] = json!(log.events());
        println!("{body}");
    } else if let Ok(r) = &outcome {
        println!("{}", client_text(r, &request.payload));
    }
    if audit {
        eprint!("{}", log.table());
    }
    finish_client(outcome.map(|_| ()))
}

fn finish_client(outcome: Result<(), EchoError>) -> Result<ExitCode> {
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("netkit: echo-client: {}", echo::describe(&e));
            Ok(ExitCode::FAILURE)
        }
    }
}

fn client_text(r: &echo::ClientReport, payload: &Payload) -> String {
    let ms = |ns: u64| ns as f64 / 1e6;
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
        echo::megabytes_per_second(r)
    )
}

fn write_components(out: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for b in Builtin::ALL {
        let path = out.join(b.file_name());
        std::fs::write(&path, b.bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{} ({} bytes)", path.display(), b.bytes().len());
    }
    Ok(ExitCode::SUCCESS)
}

fn free_loopback_port() -> Result<u16> {
    let l =
        std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free loopback port")?;
    Ok(l.local_addr()?.port())
}

async fn demo(audit: bool) -> Result<ExitCode> {
    let rt = Runtime::new()?;
    let server_component = rt.compile(Builtin::EchoServer.bytes())?;
    let client_component = rt.compile(Builtin::EchoClient.bytes())?;
    let addr: SocketAddr = ([127, 0, 0, 1], free_loopback_port()?).into();
    println!("== netkit demo: sandboxed components talking TCP and UDP on loopback ==");

    let server_policy = echo::server_policy(addr, Transport::Tcp, &["127.0.0.0/8".parse()?]);
    println!("echo-server  granted: {}", grants_text(&server_policy));
    let server_sandbox = Sandbox::new("echo-server", server_policy);
    let config = ServerConfig {
        host: addr.ip().to_string(),
        port: addr.port(),
        transport: Transport::Tcp,
        max_connections: 64,
        idle_timeout_ms: 10_000,
        stop_on_stdin_eof: true,
        stop_after: None,
        log_connections: false,
    };
    let server = echo::start_server(&rt, &server_component, &server_sandbox, config);

    let client_policy = echo::client_policy(addr);
    println!("echo-client  granted: {}", grants_text(&client_policy));
    let client_sandbox = Sandbox::new("echo-client", client_policy.clone());
    let mut failed = false;
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
            payload: payload.clone(),
            count,
            concurrency,
            timeout_ms: 5_000,
        };
        // Retry briefly while the server is still starting to listen.
        let mut outcome =
            echo::run_client(&rt, &client_component, &client_sandbox, &request).await?;
        for _ in 0..50 {
            if !matches!(outcome, Err(EchoError::Refused(_))) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            outcome = echo::run_client(&rt, &client_component, &client_sandbox, &request).await?;
        }
        match outcome {
            Ok(r) => println!("echo-client  {what}: {}", client_text(&r, &payload)),
            Err(e) => {
                failed = true;
                println!("echo-client  {what}: FAILED: {}", echo::describe(&e));
            }
        }
    }

    // What a denial looks like: the same client component asked to reach another port.
    let elsewhere = SocketAddr::new(addr.ip(), free_loopback_port()?);
    let stray = ClientRequest {
        host: elsewhere.ip().to_string(),
        port: elsewhere.port(),
        payload: Payload::Message("should never arrive".into()),
        count: 1,
        concurrency: 1,
        timeout_ms: 2_000,
    };
    let quiet_audit = Arc::new(Audit::new("echo-client", true));
    let mut stray_sandbox = Sandbox::new("echo-client", client_policy);
    stray_sandbox.audit(quiet_audit.clone());
    match echo::run_client(&rt, &client_component, &stray_sandbox, &stray).await? {
        Err(EchoError::Denied(msg)) => {
            println!("echo-client  asked for {elsewhere} outside its grant: denied ({msg})")
        }
        other => {
            failed = true;
            println!("echo-client  asked for {elsewhere} outside its grant: NOT DENIED: {other:?}");
        }
    }

    // The SNTP pair: a server component answering from the wall clock, a client querying it.
    let udp_port = std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let sntp_addr: SocketAddr = ([127, 0, 0, 1], udp_port).into();
    let sntp_server_policy = sntp::server_policy(sntp_addr, &["127.0.0.0/8".parse()?]);
    println!("sntp-server  granted: {}", grants_text(&sntp_server_policy));
    let sntp_server_sandbox = Sandbox::new("sntp-server", sntp_server_policy);
    let sntp_server_component = rt.compile(Builtin::SntpServer.bytes())?;
    let sntp_server = sntp::start_server(
        &rt,
        &sntp_server_component,
        &sntp_server_sandbox,
        SntpServerConfig {
            host: sntp_addr.ip().to_string(),
            port: sntp_addr.port(),
            stratum: 10,
            reference_id: default_refid(10).into(),
            rate_limit_ms: 0,
            stop_on_stdin_eof: true,
            stop_after: None,
            log_requests: false,
        },
    );
    let sntp_client_policy = sntp::client_policy(sntp_addr);
    println!("sntp         granted: {}", grants_text(&sntp_client_policy));
    let sntp_client_sandbox = Sandbox::new("sntp", sntp_client_policy);
    let sntp_client_component = rt.compile(Builtin::SntpClient.bytes())?;
    let options = QueryOptions {
        timeout_ms: 2_000,
        tries: 4,
        samples: 3,
        burst: true,
        family: Family::Any,
    };
    match sntp::query(
        &rt,
        &sntp_client_component,
        &sntp_client_sandbox,
        sntp_addr,
        &options,
    )
    .await?
    {
        Ok(r) => println!("sntp         {}", sntp::text(&r)),
        Err(e) => {
            failed = true;
            println!("sntp         FAILED: {}", sntp::describe(&e));
        }
    }
    match sntp_server.stop().await? {
        Ok(s) => println!(
            "sntp-server  answered {} requests on {}",
            s.answered, s.local_address
        ),
        Err(e) => {
            failed = true;
            println!("sntp-server  FAILED: {}", sntp::describe(&e));
        }
    }

    match server.stop().await? {
        Ok(s) => println!(
            "echo-server  served {} connections ({} rejected), {} bytes echoed, on {}",
            s.connections, s.rejected, s.bytes, s.local_address
        ),
        Err(e) => {
            failed = true;
            println!("echo-server  FAILED: {}", echo::describe(&e));
        }
    }
    println!(
        "audit: echo-server {} attempts ({} denied); echo-client {} attempts ({} denied), stray client {} attempts ({} denied)",
        server_sandbox.audit_log().events().len(),
        server_sandbox.audit_log().denied(),
        client_sandbox.audit_log().events().len(),
        client_sandbox.audit_log().denied(),
        quiet_audit.events().len(),
        quiet_audit.denied(),
    );
    if audit {
        print!("{}", server_sandbox.audit_log().table());
        print!("{}", client_sandbox.audit_log().table());
        print!("{}", quiet_audit.table());
    }
    println!("{}", if failed { "demo FAILED" } else { "demo ok" });
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn grants_text(policy: &Policy) -> String {
    policy
        .grants()
        .iter()
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
