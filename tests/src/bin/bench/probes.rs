//! The probes: `netkit dns` against dig as processes, and the in-process DNS
//! and TCP probes (a fresh instance per probe, pooling allocator) against the
//! same exchange done natively with tokio.

use super::embedded::{allowed_cpus, per_call, pin};
use super::*;
use netkit::cache::CompileCache;
use netkit::dns_probe::{DnsClient, DnsQuery};
use netkit::probe::{Kind, ProbeOptions, Prober};
use netkit::runtime::Host;

/// Process rows (`netkit dns` vs `dig` vs `wasmtime run dns-probe.wasm`) and
/// in-process rows, against unbound on loopback.
pub fn section(rows: &mut Vec<Row>) {
    let u = start_unbound();
    // ------------------------------------------------------------ processes
    let group = "dns query, process";
    let server = u.server.clone();
    let dig_ms = process::time_process(20, {
        let port = u.port.to_string();
        move || {
            let mut c = Command::new(dig());
            c.args([
                "+time=2",
                "+tries=1",
                "-p",
                &port,
                "@127.0.0.1",
                "www.example.test",
            ]);
            c
        }
    });
    let netkit_ms = process::time_process(20, {
        let server = server.clone();
        move || {
            let mut c = Command::new(netkit());
            c.args(["dns", "--server", &server, "www.example.test"]);
            c
        }
    });
    let wasm = components_dir().join("dns-probe.wasm");
    let cli_ms = process::time_process(20, {
        let (server, wasm) = (server.clone(), wasm.clone());
        move || {
            let mut c = Command::new(wasmtime());
            c.args(["run", "-S", "inherit-network"]).arg(&wasm).args([
                "--server",
                &server,
                "www.example.test",
            ]);
            c
        }
    });
    for (what, ms) in [
        ("dig (bind9-dnsutils)", dig_ms),
        ("netkit dns (cache warm)", netkit_ms),
        ("wasmtime run dns-probe.wasm (cache warm)", cli_ms),
    ] {
        rows.push(Row {
            group,
            what: what.into(),
            value: ms,
            unit: "ms",
            ratio: format!("{:.2}x dig", ms / dig_ms),
        });
    }
    note(format!(
        "dig: dig -p {} @127.0.0.1 www.example.test",
        u.port
    ));
    note(format!(
        "netkit dns: {} dns --server {server} www.example.test",
        netkit().display()
    ));

    // ------------------------------------------------------------ in process
    const CALLS: usize = 2000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A TCP connect probe against a listener that accepts and closes, on a
    // thread of its own started before the caller is pinned (so it may run on
    // any CPU and keep the backlog empty).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            drop(s);
        }
    });
    let cpus = allowed_cpus();
    pin(0, &cpus[..1]);
    pin(u.peer.pid(), &cpus[..1]);
    let host =
        Host::with_options(CompileCache::default_dir().map(CompileCache::new), true).unwrap();
    let dns = DnsClient::new(&host).unwrap();
    let query = DnsQuery {
        name: "www.example.test".into(),
        record_type: "A".into(),
        server: "127.0.0.1".into(),
        port: u.port,
        tcp: false,
        timeout_ms: 2000,
        recurse: true,
    };
    let addr: SocketAddr = ([127, 0, 0, 1], u.port).into();
    let native_dns = async || {
        let id = rand_id();
        let (bytes, q) = dns_proto::build_query(
            "www.example.test",
            dns_proto::parse_type("A").unwrap(),
            id,
            true,
        )
        .unwrap();
        let sock = tokio::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
        sock.connect(addr).await.unwrap();
        sock.send(&bytes).await.unwrap();
        let mut buf = [0u8; 1500];
        let n = sock.recv(&mut buf).await.unwrap();
        let r = dns_proto::check_reply(&buf[..n], id, &q).unwrap();
        assert_eq!(r.answer.len(), 2);
    };
    let mut native = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..ECHO_ROUNDS {
        native.push(per_call(&rt, CALLS, native_dns));
        ours.push(per_call(&rt, CALLS, async || {
            let a = dns.query(&query).await.unwrap().unwrap();
            assert_eq!(a.answer.len(), 2);
        }));
    }
    push_pair(
        rows,
        "embedded dns query (unbound on the caller's CPU)",
        median(native),
        median(ours),
    );

    let prober = Prober::new(&host, Kind::Tcp).unwrap();
    let options = ProbeOptions {
        count: 1,
        interval_ms: 0,
        timeout_ms: 2000,
        send: None,
        expect: None,
        expect_bytes: None,
    };
    let native_tcp = async || {
        let s = tokio::net::TcpStream::connect(target).await.unwrap();
        drop(s);
    };
    let mut native = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..ECHO_ROUNDS {
        native.push(per_call(&rt, CALLS, native_tcp));
        ours.push(per_call(&rt, CALLS, async || {
            let r = prober.probe(target, &options).await.unwrap().unwrap();
            assert_eq!(r.attempts[0].status, netkit::probe::AttemptStatus::Ok);
        }));
    }
    push_pair(
        rows,
        "embedded tcp connect probe",
        median(native),
        median(ours),
    );
    pin(0, &cpus);
}

fn rand_id() -> u16 {
    super::embedded::rand_transmit() as u16
}

fn push_pair(rows: &mut Vec<Row>, group: &'static str, native: f64, ours: f64) {
    rows.push(Row {
        group,
        what: "native tokio exchange (floor)".into(),
        value: native,
        unit: "µs/call",
        ratio: "1.00x".into(),
    });
    rows.push(Row {
        group,
        what: "netkit: fresh instance per probe (InstancePre, pooling allocator)".into(),
        value: ours,
        unit: "µs/call",
        ratio: format!(
            "{:.2}x the native exchange (+{:.0} µs); goal 2x: {}",
            ours / native,
            ours - native,
            if ours <= 2.0 * native {
                "met"
            } else {
                "not met"
            }
        ),
    });
}
