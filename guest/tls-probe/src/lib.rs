//! The netkit TLS probe component: `wasi:cli/run` for the command line and
//! `netkit:diag/tls-probe` for plugin hosts. Connect, optionally STARTTLS,
//! handshake, and report every fact, whether or not the chain verifies.

mod convert;
mod dialog;

use clap::Parser;
use exports::netkit::diag::tls_probe::{
    Guest, Starttls, TlsProbeError, TlsProbeOptions, TlsReport,
};
use netio::TcpStream;
use netkit::diag::tls_types::TlsVersion;
use std::net::{IpAddr, SocketAddr};
use tls_proto::{NetioTransport, TlsError, TlsStream};

wit_bindgen::generate!({
    world: "tls-probe-component",
    path: "../../wit",
    generate_all,
});

struct Component;

fn now() -> u64 {
    netio::wasip2::clocks::monotonic_clock::now()
}

/// Why there is no address to connect to.
pub(crate) enum NoAddress {
    /// `connect-to` is not an IP address.
    Invalid(String),
    /// The name did not resolve (to that family).
    NotFound(String),
}

/// Where to connect: `connect_to` when given, else the first address of `host`.
pub(crate) fn address(
    host: &str,
    port: u16,
    connect_to: Option<&str>,
    v4: bool,
    v6: bool,
) -> Result<SocketAddr, NoAddress> {
    if let Some(ip) = connect_to {
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| NoAddress::Invalid(format!("connect-to {ip:?} is not an IP address")))?;
        return Ok(SocketAddr::new(ip, port));
    }
    let all = wstd::runtime::block_on(netio::resolve(host)).map_err(NoAddress::NotFound)?;
    all.into_iter()
        .find(|ip| (!v4 || ip.is_ipv4()) && (!v6 || ip.is_ipv6()))
        .map(|ip| SocketAddr::new(ip, port))
        .ok_or_else(|| NoAddress::NotFound(format!("{host:?} has no address of that family")))
}

/// The name to send as SNI and verify: the options' or the host asked for.
pub(crate) fn server_name(host: &str, given: Option<&String>) -> String {
    given.cloned().unwrap_or_else(|| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    })
}

/// The WIT TLS options as tls-proto's, for `server_name`.
pub(crate) fn tls_options(
    o: &netkit::diag::tls_types::TlsOptions,
    server_name: &str,
) -> tls_proto::TlsOptions {
    tls_proto::TlsOptions {
        server_name: server_name.to_string(),
        roots: o.roots.clone(),
        min_version: o.min_version.map(convert::version),
        max_version: o.max_version.map(convert::version),
        alpn: o.alpn.clone(),
        client_certificate: o
            .client_certificate
            .as_ref()
            .map(convert::client_certificate),
    }
}

fn probe(
    host: &str,
    port: u16,
    connect_to: Option<&str>,
    o: &TlsProbeOptions,
    v4: bool,
    v6: bool,
) -> Result<TlsReport, TlsProbeError> {
    if o.timeout_ms == 0 {
        return Err(TlsProbeError::InvalidRequest(
            "timeout must be more than 0".into(),
        ));
    }
    let start = now();
    let deadline = start.saturating_add(o.timeout_ms.saturating_mul(1_000_000));
    let addr = address(host, port, connect_to, v4, v6).map_err(|e| match e {
        NoAddress::Invalid(why) => TlsProbeError::InvalidRequest(why),
        NoAddress::NotFound(why) => TlsProbeError::NameNotFound(why),
    })?;
    let server_name = server_name(host, o.tls.server_name.as_ref());
    let tcp = match TcpStream::connect_until(addr, deadline) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(TlsProbeError::Timeout((
                "no TCP connection before the timeout".into(),
                None,
            )));
        }
        Err(e) => return Err(TlsProbeError::Connect(e.to_string())),
    };
    let connect_ns = now() - start;
    let mut transport = NetioTransport(tcp);
    if let Some(Starttls::Smtp) = o.starttls {
        tls_proto::starttls::smtp(&mut transport, deadline)
            .map_err(|e| TlsProbeError::HandshakeFailed((e, None)))?;
    }
    let options = tls_options(&o.tls, &server_name);
    match TlsStream::connect(transport, &options, deadline) {
        Ok((mut stream, h)) => {
            stream.close(deadline);
            Ok(TlsReport {
                target: addr.to_string(),
                server_name,
                connect_ns,
                handshake: convert::handshake(&h),
                now: convert::wall_now(),
            })
        }
        Err(e) => {
            let facts = e.handshake().map(convert::handshake);
            Err(match e {
                TlsError::Invalid(why) => TlsProbeError::InvalidRequest(why),
                TlsError::Timeout(_) => TlsProbeError::Timeout((e.to_string(), facts)),
                _ => TlsProbeError::HandshakeFailed((e.to_string(), facts)),
            })
        }
    }
}

impl Guest for Component {
    fn probe(
        host: String,
        port: u16,
        connect_to: Option<String>,
        options: TlsProbeOptions,
    ) -> Result<TlsReport, TlsProbeError> {
        probe(&host, port, connect_to.as_deref(), &options, false, false)
    }
}

/// Probe a TLS server: version, cipher, group, ALPN, the chain as sent, and why it does (not) verify.
#[derive(Parser, Debug)]
#[command(name = "tls-probe.wasm", version)]
struct Args {
    #[command(flatten)]
    f: cli_args::flags::TlsFlags,
}

impl exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let Args { f } = Args::try_parse().unwrap_or_else(|e| e.exit());
        let fail = |kind: &str, m: String| cli_args::fail("tls-probe", f.json, kind, &m);
        let (host, port) = match tls_proto::text::split_target(&f.target, 443) {
            Ok(t) => t,
            Err(e) => return fail("invalid-request", e),
        };
        let roots = match tls_proto::pem::read_roots(f.tls.ca.as_deref()) {
            Ok(r) => r,
            Err(e) => return fail("invalid-request", e),
        };
        let client_certificate = match tls_proto::pem::read_client_certificate(
            f.tls.cert.as_deref(),
            f.tls.key.as_deref(),
        ) {
            Ok(c) => c.as_ref().map(convert::client_certificate_to_wit),
            Err(e) => return fail("invalid-request", e),
        };
        let options = TlsProbeOptions {
            tls: netkit::diag::tls_types::TlsOptions {
                server_name: f.tls.sni.clone(),
                roots,
                insecure: f.tls.insecure,
                min_version: f.tls.min_version.map(convert::version_arg),
                max_version: f.tls.max_version.map(convert::version_arg),
                alpn: f.alpn.clone(),
                client_certificate,
            },
            timeout_ms: cli_args::ms_at_least_1(f.timeout),
            starttls: f.starttls.map(|_| Starttls::Smtp),
        };
        match probe(&host, port, None, &options, f.family.ipv4, f.family.ipv6) {
            Ok(r) => {
                let report = convert::report(&r);
                let verified = report.handshake.verification.verified();
                let expiring = f.warn_days.and_then(|d| report.expiring_within(d));
                let ok = (verified || f.tls.insecure) && expiring.is_none();
                if f.json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": ok, "report": tls_proto::text::report_json(&report)})
                    );
                } else {
                    print!("{}", tls_proto::text::report_text(&report));
                    if let Some((which, t)) = expiring {
                        eprintln!("tls-probe: {which} expires {}", tls_proto::text::utc(t));
                    }
                }
                if ok { Ok(()) } else { Err(()) }
            }
            Err(e) => {
                let (kind, message) = convert::error(&e);
                fail(kind, message)
            }
        }
    }
}

export!(Component);

#[allow(dead_code)]
fn _versions_are_exhaustive(v: TlsVersion) {
    match v {
        TlsVersion::Tls12 | TlsVersion::Tls13 => {}
    }
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/tls.wit");
