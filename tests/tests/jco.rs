//! netkit's components unmodified under Node.js through jco, against the same
//! real peers as the wasmtime CLI tests: socat (echo, tcp, udp), chronyd (sntp),
//! unbound (dns); and the SNTP query through jco's typed bindings, as a
//! JavaScript host embeds it. Where preview2-shim differs from wasmtime (a
//! refused UDP port is not reported: it reads as a timeout) the test says so.

use netkit_tests::jco::{jco_run, jco_transpile, js_dir};
use netkit_tests::*;
use std::process::Command;

fn wasm(name: &str) -> std::path::PathBuf {
    components_dir().join(name)
}

#[test]
fn echo_tcp_and_udp_probes_run_under_jco_against_socat() {
    let tcp = free_port();
    let _echo = Peer::start(
        "socat tcp echo",
        Command::new(socat()).args([
            &format!("TCP-LISTEN:{tcp},fork,reuseaddr,bind=127.0.0.1"),
            "EXEC:cat",
        ]),
    );
    let udp = free_udp_port();
    let _uecho = Peer::start(
        "socat udp echo",
        Command::new(socat()).args([
            &format!("UDP-RECVFROM:{udp},fork,bind=127.0.0.1"),
            "EXEC:cat",
        ]),
    );
    wait_for_tcp(
        ([127, 0, 0, 1], tcp).into(),
        std::time::Duration::from_secs(5),
    );
    let out = jco_run(
        &wasm("echo-client.wasm"),
        &["--host", "127.0.0.1", "--port", &tcp.to_string(), "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ok"], true, "{v}");

    let target = format!("127.0.0.1:{tcp}");
    let out = jco_run(&wasm("tcp-probe.wasm"), &[&target, "-c", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 sent, 2 ok, 0.0% loss"),
        "{}",
        text(&out.stdout)
    );

    let target = format!("127.0.0.1:{udp}");
    let out = jco_run(
        &wasm("udp-probe.wasm"),
        &[&target, "--send", "ping", "-c", "2"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 sent, 2 ok, 0.0% loss"),
        "{}",
        text(&out.stdout)
    );

    // A closed TCP port is refused there as under wasmtime, and exits 1.
    let closed = format!("127.0.0.1:{}", free_port());
    let out = jco_run(&wasm("tcp-probe.wasm"), &[&closed, "-c", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("refused: connect to"),
        "{}",
        text(&out.stdout)
    );
    // A closed UDP port: wasmtime reports the ICMP port unreachable as refused;
    // preview2-shim does not pass it on, so it reads as a timeout.
    let closed = format!("127.0.0.1:{}", free_udp_port());
    let out = jco_run(
        &wasm("udp-probe.wasm"),
        &[&closed, "--send", "x", "-c", "1", "--timeout", "300ms"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("timeout: no reply before the timeout"),
        "{}",
        text(&out.stdout)
    );
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(wasm("udp-probe.wasm"))
        .args([&closed, "--send", "x", "-c", "1", "--timeout", "300ms"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("refused"),
        "wasmtime: {}",
        text(&out.stdout)
    );
}

#[test]
fn sntp_under_jco_against_chronyd_and_through_its_typed_bindings() {
    let chrony = start_chrony(free_udp_port(), "");
    let server = format!("127.0.0.1:{}", chrony.port);
    let out = jco_run(&wasm("sntp-client.wasm"), &[&server]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(" s10 no-leap"),
        "{}",
        text(&out.stdout)
    );

    // The typed export, called from JavaScript: records in, a record (or the
    // sntp-error variant) out.
    let module = jco_transpile(&wasm("sntp-client.wasm"), "sntp");
    let query = |port: u16, timeout_ms: &str| {
        let out = Command::new("node")
            .arg(js_dir().join("sntp_query.mjs"))
            .arg(&module)
            .args(["127.0.0.1", &port.to_string(), timeout_ms])
            .current_dir(js_dir())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("no JSON ({e}): {}", text(&out.stderr)));
        (out.status.code(), v)
    };
    let (code, v) = query(chrony.port, "2000");
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["report"]["server"], server.as_str(), "{v}");
    assert_eq!(v["report"]["stratum"], 10, "{v}");
    assert_eq!(v["report"]["leap"], "no-warning", "{v}");
    // chronyd's own view of the offset is near ours (both are this machine's clock).
    let offset_ns: f64 = v["report"]["offsetNs"].as_str().unwrap().parse().unwrap();
    assert!(offset_ns.abs() < 50e6, "{v}");
    // A closed port: the variant's case, as the WIT says (a timeout under the shim).
    let (code, v) = query(free_udp_port(), "300");
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["error"]["tag"], "timeout", "{v}");
}

#[test]
fn dns_under_jco_against_unbound_matches_dig() {
    let u = start_unbound();
    let out = jco_run(
        &wasm("dns-probe.wasm"),
        &["--server", &u.server, "www.example.test", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ours = dns_records(&v, "answer");
    let dig = dig_answer(&u.server, &["www.example.test"]);
    assert!(!dig.is_empty());
    assert_eq!(ours, dig, "{v}");
    let out = jco_run(
        &wasm("dns-probe.wasm"),
        &["--server", &u.server, "nope.example.test"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("NXDOMAIN"),
        "{}",
        text(&out.stdout)
    );
}
