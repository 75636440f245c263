//! The netkit SNTP client component: `wasi:cli/run` for the command line,
//! `netkit:diag/sntp-client` and `netkit:diag/nts-client` for plugin hosts.
//! The exchange is in `query.rs`, NTS in `nts.rs`.

mod nts;
mod query;

use clap::Parser;
use exports::netkit::diag::nts_client::Guest as NtsClient;
use exports::netkit::diag::sntp_client::Guest as SntpClient;
use exports::wasi::cli::run::Guest as Run;
use sntp_types::{
    Family, Leap, NtsOptions, NtsQueryResult, NtsSession, QueryOptions, Report, SntpError,
};

wit_bindgen::generate!({
    world: "sntp-client-component",
    path: "../../wit",
    with: { "netkit:diag/sntp-types@0.1.0": sntp_types },
    generate_all,
});

struct Component;

impl SntpClient for Component {
    fn query(server: String, port: u16, options: QueryOptions) -> Result<Report, SntpError> {
        query::query(&server, port, &options)
    }
}

impl NtsClient for Component {
    fn key_exchange(
        server: String,
        port: u16,
        connect_to: Option<String>,
        options: NtsOptions,
    ) -> Result<NtsSession, SntpError> {
        nts::key_exchange(&server, port, connect_to.as_deref(), &options, Family::Any)
    }

    fn authenticated_query(session: NtsSession, options: QueryOptions) -> NtsQueryResult {
        nts::query(&session, &options)
    }
}

/// Ask an SNTP/NTP server for the time and how far our clock is off (RFC 4330),
/// with --nts authenticated by NTS (RFC 8915).
///
/// Prints one line like ntpdig: corrected time, offset, error bound, server, stratum, leap.
#[derive(Parser, Debug)]
#[command(name = "sntp-client.wasm", version)]
struct Args {
    #[command(flatten)]
    f: cli_args::flags::SntpFlags,
}

impl Run for Component {
    fn run() -> Result<(), ()> {
        let Args { f: args } = Args::try_parse().unwrap_or_else(|e| e.exit());
        let default_port = if args.nts {
            nts_proto::ke::DEFAULT_PORT
        } else {
            123
        };
        let fail = |kind: &str, m: String| cli_args::fail("sntp-client", args.json, kind, &m);
        let (host, port) = match sntp_proto::split_server(&args.server, default_port) {
            Ok(hp) => hp,
            Err(e) => return fail("invalid-request", e),
        };
        let family = match (args.family.ipv4, args.family.ipv6) {
            (true, _) => Family::Ipv4,
            (_, true) => Family::Ipv6,
            _ => Family::Any,
        };
        let options = QueryOptions {
            timeout_ms: cli_args::ms_at_least_1(args.timeout),
            tries: args.tries,
            samples: args.samples,
            burst: args.burst,
            family,
        };
        let result = if args.nts {
            match nts_run(&args, &host, port, &options) {
                Ok(r) => r,
                Err((kind, m)) => return fail(kind, m),
            }
        } else {
            query::query(&host, port, &options).map(|r| (r, None))
        };
        match result {
            Ok((r, nts)) if args.json => println!("{}", to_json(&r, nts.as_ref())),
            Ok((r, nts)) => {
                println!("{}", to_text(&r));
                if let Some(n) = &nts {
                    println!("{}", nts_text(n));
                }
            }
            Err(e) if args.json => {
                println!("{}", sntp_types::error_json(&e));
                return Err(());
            }
            Err(e) => {
                eprintln!("sntp-client: {}", sntp_types::describe(&e));
                return Err(());
            }
        }
        Ok(())
    }
}

/// A report and, with NTS, how it was authenticated; or the typed failure.
type Answer = Result<(Report, Option<sntp_types::NtsInfo>), SntpError>;

/// `--nts`: key exchange, the negotiated server checked against
/// `--allow-ntp-server`, then the authenticated query.
fn nts_run(
    args: &cli_args::flags::SntpFlags,
    host: &str,
    port: u16,
    options: &QueryOptions,
) -> Result<Answer, (&'static str, String)> {
    let allowed = args
        .allow_ntp_server
        .iter()
        .map(|a| nts_proto::server::Allowed::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ("invalid-request", format!("--allow-ntp-server {e}")))?;
    let roots =
        tls_proto::pem::read_roots(args.ca.as_deref()).map_err(|e| ("invalid-request", e))?;
    let nts_options = NtsOptions {
        server_name: None,
        roots,
        timeout_ms: options.timeout_ms,
    };
    let session = match nts::key_exchange(host, port, None, &nts_options, options.family) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let ke_ip = session
        .ke_server
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip())
        .map_err(|e| ("invalid-request", e.to_string()))?;
    nts_proto::server::check(host, ke_ip, &session.ntp_server, session.ntp_port, &allowed)
        .map_err(|e| ("denied", e))?;
    let result = nts::query(&session, options);
    Ok(result.outcome.map(|r| (r, result.nts)))
}

fn to_text(r: &Report) -> String {
    sntp_proto::report_line!(Leap, r).text()
}

fn nts_text(n: &sntp_types::NtsInfo) -> String {
    nts_proto::text::summary(
        &n.ke_server,
        &n.ntp_server,
        &n.aead,
        n.cookies_left,
        n.ke_ns,
    )
}

fn to_json(r: &Report, nts: Option<&sntp_types::NtsInfo>) -> String {
    let nts = match nts {
        Some(n) => format!(
            ",\"authenticated\":true,\"nts\":{{\"ke_server\":\"{}\",\"ntp_server\":\"{}\",\"aead\":\"{}\",\"cookies_left\":{},\"ke_ns\":{}}}",
            n.ke_server, n.ntp_server, n.aead, n.cookies_left, n.ke_ns
        ),
        None => ",\"authenticated\":false".into(),
    };
    format!(
        concat!(
            "{{\"ok\":true,\"report\":{{\"server\":\"{}\",\"stratum\":{},\"leap\":\"{}\",\"version\":{},\"precision\":{},",
            "\"root_delay_ns\":{},\"root_dispersion_ns\":{},\"reference_id\":\"{}\",",
            "\"transmit_seconds\":{},\"transmit_nanos\":{},\"offset_ns\":{},\"delay_ns\":{},",
            "\"error_ns\":{},\"samples\":{}{}}}}}"
        ),
        r.server,
        r.stratum,
        sntp_proto::leap_indicator!(Leap, r.leap).wit_name(),
        r.version,
        r.precision,
        r.root_delay_ns,
        r.root_dispersion_ns,
        r.reference_id.replace(['"', '\\'], "?"),
        r.transmit_seconds,
        r.transmit_nanos,
        r.offset_ns,
        r.delay_ns,
        sntp_proto::report_line!(Leap, r).error_ns(),
        r.samples,
        nts
    )
}

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/sntp.wit");
