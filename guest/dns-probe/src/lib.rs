//! The netkit DNS probe component: `wasi:cli/run` for the command line and
//! `netkit:diag/dns-probe` for plugin hosts. The exchange is in `exchange.rs`,
//! the codec and checks in `dns-proto`.

mod exchange;

use clap::Parser;
use exports::netkit::diag::dns_probe::Guest as DnsProbe;
use exports::wasi::cli::run::Guest as Run;
use netkit::diag::dns_types::{DnsAnswer, DnsError, DnsQuery};

wit_bindgen::generate!({
    world: "dns-probe-component",
    path: "../../wit",
    generate_all,
});

struct Component;

impl DnsProbe for Component {
    fn query(query: DnsQuery) -> Result<DnsAnswer, DnsError> {
        exchange::query(&query)
    }
}

/// Ask a DNS server and print its answer like dig: header, every section with TTLs.
#[derive(Parser, Debug)]
#[command(name = "dns-probe.wasm", version)]
struct Args {
    #[command(flatten)]
    f: cli_args::flags::DnsFlags,
}

/// The answer as JSON, field for field as netkit prints it.
fn answer_json(a: &DnsAnswer) -> serde_json::Value {
    let records = |rs: &[netkit::diag::dns_types::DnsRecord]| {
        rs.iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name, "ttl": r.ttl, "class": r.class,
                    "record_type": r.record_type, "data": r.data,
                })
            })
            .collect::<Vec<_>>()
    };
    serde_json::json!({
        "server": a.server,
        "transport": a.transport,
        "id": a.id,
        "rcode": a.rcode,
        "flags": a.flags,
        "question": a.question,
        "query_ns": a.query_ns,
        "size": a.size,
        "retried_over_tcp": a.retried_over_tcp,
        "answer": records(&a.answer),
        "authority": records(&a.authority),
        "additional": records(&a.additional),
    })
}

impl Run for Component {
    fn run() -> Result<(), ()> {
        let Args { f } = Args::try_parse().unwrap_or_else(|e| e.exit());
        let fail = |kind: &str, m: String| cli_args::fail("dns-probe", f.json, kind, &m);
        let Some(server) = f.server.as_deref() else {
            return fail(
                "invalid-request",
                "give the server with --server IP[:PORT] (a component cannot read \
                 /etc/resolv.conf; `netkit dns` reads it for you)"
                    .into(),
            );
        };
        let addr = match dns_proto::parse_server(server) {
            Ok(a) => a,
            Err(e) => return fail("invalid-request", e),
        };
        let (name, record_type) = dns_proto::query_of(f.name.as_deref(), f.reverse, &f.record_type);
        let query = DnsQuery {
            name,
            record_type,
            server: addr.ip().to_string(),
            port: addr.port(),
            tcp: f.tcp,
            timeout_ms: cli_args::ms_at_least_1(f.timeout),
            recurse: !f.norecurse,
        };
        match exchange::query(&query) {
            Ok(a) => {
                let ok = a.rcode == "NOERROR";
                if f.json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": ok, "answer": answer_json(&a)})
                    );
                } else {
                    println!("{}", dns_proto::dns_answer_text!(&a));
                    if !ok {
                        eprintln!(
                            "dns-probe: {}: {}",
                            a.rcode,
                            dns_proto::rcode_meaning(&a.rcode)
                        );
                    }
                }
                if ok { Ok(()) } else { Err(()) }
            }
            Err(e) => fail(
                dns_proto::dns_error_kind!(DnsError, &e),
                dns_proto::dns_error_text!(DnsError, &e),
            ),
        }
    }
}

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/dns.wit");
