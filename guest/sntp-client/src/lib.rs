//! The netkit SNTP client component: `wasi:cli/run` for the command line and
//! `netkit:diag/sntp-client` for plugin hosts. The exchange is in `query.rs`.

mod query;

use clap::Parser;
use exports::netkit::diag::sntp_client::Guest as SntpClient;
use exports::wasi::cli::run::Guest as Run;
use sntp_types::{Family, Leap, QueryOptions, Report, SntpError};

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

/// Ask an SNTP/NTP server for the time and how far our clock is off (RFC 4330).
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
        let (host, port) = match sntp_proto::split_server(&args.server, 123) {
            Ok(hp) => hp,
            Err(e) => {
                eprintln!("sntp-client: {e}");
                return Err(());
            }
        };
        let options = QueryOptions {
            timeout_ms: cli_args::ms_at_least_1(args.timeout),
            tries: args.tries,
            samples: args.samples,
            burst: args.burst,
            family: match (args.family.ipv4, args.family.ipv6) {
                (true, _) => Family::Ipv4,
                (_, true) => Family::Ipv6,
                _ => Family::Any,
            },
        };
        match query::query(&host, port, &options) {
            Ok(r) if args.json => println!("{}", to_json(&r)),
            Ok(r) => println!("{}", to_text(&r)),
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

fn to_text(r: &Report) -> String {
    sntp_proto::report_line!(Leap, r).text()
}

fn to_json(r: &Report) -> String {
    format!(
        concat!(
            "{{\"ok\":true,\"report\":{{\"server\":\"{}\",\"stratum\":{},\"leap\":\"{}\",\"version\":{},\"precision\":{},",
            "\"root_delay_ns\":{},\"root_dispersion_ns\":{},\"reference_id\":\"{}\",",
            "\"transmit_seconds\":{},\"transmit_nanos\":{},\"offset_ns\":{},\"delay_ns\":{},",
            "\"error_ns\":{},\"samples\":{}}}}}"
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
        r.samples
    )
}

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/sntp.wit");
