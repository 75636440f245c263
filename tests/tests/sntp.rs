//! SNTP against real peers: chronyd (IPv4 and IPv6), chronyd -Q and ntpdig as
//! reference clients, our own server, and the stock wasmtime CLI.

use netkit_tests::*;
use std::process::Command;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

/// Offsets are compared to the microsecond: these tests run one at a time so that
/// they do not steal each other's CPU in the middle of an exchange.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn netkit_sntp(server: &str, extra: &[&str]) -> (bool, serde_json::Value, String) {
    let out = Command::new(netkit())
        .args(["sntp", server, "--json"])
        .args(extra)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {} {}", text(&out.stdout), text(&out.stderr)));
    (out.status.success(), v, text(&out.stderr))
}

fn offset_secs(v: &serde_json::Value) -> f64 {
    v["report"]["offset_ns"].as_i64().expect("offset_ns") as f64 / 1e9
}

#[test]
fn chronyd_ipv4_and_ipv6_agree_with_chronyd_q() {
    let _serial = serial();
    let chrony = start_chrony(free_udp_port(), "");
    for server in [
        format!("127.0.0.1:{}", chrony.port),
        format!("[::1]:{}", chrony.port),
    ] {
        let (ok, v, stderr) = netkit_sntp(&server, &["--samples", "8", "--burst"]);
        assert!(ok, "{server}: {v} {stderr}");
        assert_eq!(v["report"]["stratum"], 10, "{v}");
        assert_eq!(v["report"]["leap"], "no-warning", "{v}");
        assert_eq!(v["report"]["reference_id"], "127.127.1.1", "{v}");
        let ours = offset_secs(&v);
        let host = if server.starts_with('[') {
            "::1"
        } else {
            "127.0.0.1"
        };
        let theirs = chronyd_q_offset(host, chrony.port);
        assert!(
            (ours - theirs).abs() < 0.001,
            "{server}: netkit offset {ours:.6} s vs chronyd -Q {theirs:.6} s"
        );
    }
}

#[test]
fn text_output_has_the_ntpdig_layout() {
    let _serial = serial();
    let chrony = start_chrony(free_udp_port(), "");
    let out = Command::new(netkit())
        .args(["sntp", &format!("127.0.0.1:{}", chrony.port)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let fields: Vec<&str> = line.split_whitespace().collect();
    // 2026-11-25 02:01:36.167580 (+0000) -0.000023 +/- 0.000315 127.0.0.1 s10 no-leap
    assert_eq!(fields.len(), 9, "{line}");
    assert_eq!(fields[2], "(+0000)");
    assert_eq!(fields[4], "+/-");
    assert_eq!(&fields[6..], ["127.0.0.1", "s10", "no-leap"]);
    assert!(fields[3].parse::<f64>().unwrap().abs() < 0.01, "{line}");
    assert!(fields[5].parse::<f64>().unwrap() >= 0.0, "{line}");
}

#[test]
fn ntpdig_and_netkit_agree_against_chronyd_on_port_123() {
    let _serial = serial();
    let _lock = port_123();
    let _chrony = start_chrony(123, "");
    let (ok, v, stderr) = netkit_sntp("127.0.0.1", &["--samples", "4", "--burst"]);
    assert!(ok, "{v} {stderr}");
    let ours = offset_secs(&v);
    let out = Command::new(ntpdig())
        .args(["-j", "-t", "2", "127.0.0.1"])
        .output()
        .unwrap();
    let dig: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ntpdig JSON");
    let theirs = dig["offset"].as_f64().unwrap();
    // ntpdig is a Python program: its own error bound ("precision") covers its timing jitter.
    let bound = 0.001 + dig["precision"].as_f64().unwrap_or(0.0);
    assert!(
        (ours - theirs).abs() < bound,
        "netkit {ours:.6} vs ntpdig {theirs:.6} (bound {bound:.6})"
    );
}

#[test]
fn ntpdig_accepts_our_server() {
    let _serial = serial();
    let _lock = port_123();
    let mut server = Peer::start(
        "netkit sntp-server",
        Command::new(netkit()).args([
            "sntp-server",
            "--port",
            "123",
            "--stratum",
            "3",
            "--refid",
            "10.1.2.3",
        ]),
    );
    server.wait_for_stderr("serving on udp 127.0.0.1:123", LONG);
    let offset = ntpdig_offset("127.0.0.1");
    let out = Command::new(ntpdig())
        .args(["-j", "-t", "2", "127.0.0.1"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stratum"], 3, "{v}");
    assert!(
        offset.abs() < 0.05,
        "ntpdig offset against our server: {offset}"
    );
    let done = server.terminate(LONG);
    assert!(done.success, "{}", done.stderr);
    assert!(
        done.stderr.contains("answered 2 requests"),
        "{}",
        done.stderr
    );
}

#[test]
fn netkit_client_against_netkit_server_ipv4_and_ipv6() {
    let _serial = serial();
    for host in ["127.0.0.1", "::1"] {
        let port = free_udp_port();
        let mut server = Peer::start(
            "netkit sntp-server",
            Command::new(netkit()).args([
                "sntp-server",
                "--host",
                host,
                "--port",
                &port.to_string(),
                "--quiet",
            ]),
        );
        server.wait_for_stderr("serving on udp", LONG);
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let (ok, v, stderr) = netkit_sntp(&target, &[]);
        assert!(ok, "{v} {stderr}");
        assert_eq!(v["report"]["stratum"], 10);
        assert_eq!(v["report"]["reference_id"], "127.127.1.1");
        assert!(offset_secs(&v).abs() < 0.01, "{v}");
        assert_eq!(
            v["grants"][0],
            format!(
                "udp://{}",
                if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                }
            )
        );
        server.terminate(LONG);
    }
}

// chronyd 4.3 (Debian 12, the only chrony this platform's registry has) parses no
// `kod` option in `ratelimit` and never sends Kiss-o'-Death; the RATE path is shown
// against our own server's rate limiter here, and against scripted replies in sntp_faults.rs.
#[test]
fn rate_limited_server_yields_rate_kiss_of_death_never_a_wrong_time() {
    let _serial = serial();
    let port = free_udp_port();
    let mut server = Peer::start(
        "netkit sntp-server --rate-limit-ms",
        Command::new(netkit()).args([
            "sntp-server",
            "--port",
            &port.to_string(),
            "--rate-limit-ms",
            "60000",
        ]),
    );
    server.wait_for_stderr("serving on udp", LONG);
    let target = format!("127.0.0.1:{port}");
    let (ok, v, stderr) = netkit_sntp(&target, &[]);
    assert!(ok, "first query must be answered: {v} {stderr}");
    assert!(offset_secs(&v).abs() < 0.01, "{v}");
    let (ok, v, stderr) = netkit_sntp(&target, &[]);
    assert!(!ok, "second query within the interval must be refused: {v}");
    assert_eq!(v["error"]["kind"], "kiss-of-death", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("RATE"),
        "{v}"
    );
    assert!(stderr.contains("kiss-o'-death RATE"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let done = server.terminate(LONG);
    assert!(
        done.stderr.contains("answered 1 request, 1 rate-limited"),
        "{}",
        done.stderr
    );
}

#[test]
fn sntp_client_runs_under_wasmtime_with_names_and_ips() {
    let _serial = serial();
    let chrony = start_chrony(free_udp_port(), "");
    let wasm = components_dir().join("sntp-client.wasm");
    for server in [
        format!("127.0.0.1:{}", chrony.port),
        format!("localhost:{}", chrony.port),
    ] {
        let out = Command::new(wasmtime())
            .args(["run", "-S", "inherit-network", "-S", "allow-ip-name-lookup"])
            .arg(&wasm)
            .args([server.as_str(), "-4"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{server}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(" s10 no-leap"),
            "{}",
            text(&out.stdout)
        );
    }
    // Without the grants it fails cleanly, naming what was refused.
    let out = Command::new(wasmtime())
        .arg("run")
        .arg(&wasm)
        .arg(format!("127.0.0.1:{}", chrony.port))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("permission denied"),
        "{}",
        text(&out.stderr)
    );
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(&wasm)
        .arg(format!("localhost:{}", chrony.port))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("look up \"localhost\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sntp_server_runs_under_wasmtime() {
    let _serial = serial();
    let port = free_udp_port();
    let wasm = components_dir().join("sntp-server.wasm");
    let mut server = Peer::start(
        "wasmtime run sntp-server.wasm",
        Command::new(wasmtime())
            .args(["run", "-S", "inherit-network"])
            .arg(&wasm)
            .args(["--port", &port.to_string(), "--stop-after", "1"]),
    );
    server.wait_for_stderr("serving on udp", LONG);
    let (ok, v, stderr) = netkit_sntp(&format!("127.0.0.1:{port}"), &[]);
    assert!(ok, "{v} {stderr}");
    let done = server.wait(LONG);
    assert!(done.success, "{}", done.stderr);
    assert!(done.stderr.contains("1 answered"), "{}", done.stderr);
}
