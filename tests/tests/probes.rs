//! `netkit tcp` / `netkit udp` and the probe components against real peers:
//! socat and ncat listeners, a closed port, a server that resets, a socat UDP
//! echo and a silent port; the grants; the stock wasmtime CLI.

use netkit_tests::*;
use serde_json::Value;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::Command;
use std::time::Duration;

fn netkit_probe(kind: &str, target: &str, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = Command::new(netkit())
        .args([kind, target, "--json", "--interval", "50ms"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {} {}", text(&out.stdout), text(&out.stderr)));
    (out.status.code(), v, text(&out.stderr))
}

fn statuses(v: &Value) -> Vec<String> {
    v["report"]["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("no attempts: {v}"))
        .iter()
        .map(|a| a["status"].as_str().unwrap().to_string())
        .collect()
}

/// socat echoing every TCP connection on a free port.
fn socat_tcp_echo() -> (Peer, SocketAddr) {
    let port = free_port();
    let peer = Peer::start(
        "socat",
        Command::new(socat()).args([
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ]),
    );
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    wait_for_tcp(addr, Duration::from_secs(10));
    (peer, addr)
}

#[test]
fn tcp_connects_sends_and_expects_against_socat() {
    let (_socat, addr) = socat_tcp_echo();
    let target = addr.to_string();
    let (code, v, stderr) = netkit_probe("tcp", &target, &["-c", "3"]);
    assert_eq!(code, Some(0), "{v} {stderr}");
    assert_eq!(statuses(&v), ["ok", "ok", "ok"]);
    assert_eq!(v["report"]["summary"]["sent"], 3);
    assert!(v["report"]["summary"]["rtt_min_ns"].as_u64().unwrap() > 0);
    let (code, v, _) = netkit_probe(
        "tcp",
        &target,
        &[
            "-c",
            "2",
            "--send",
            "PING 42\\n",
            "--expect",
            "^PING [0-9]+",
        ],
    );
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["report"]["attempts"][0]["received"], "PING 42\\n");
    assert!(v["report"]["attempts"][0]["reply_ns"].as_u64().is_some());
    // An echo never says PONG: the expectation fails, naming what was read.
    let (code, v, stderr) = netkit_probe(
        "tcp",
        &target,
        &[
            "-c", "1", "--send", "PING", "--expect", "PONG", "-t", "300ms",
        ],
    );
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(statuses(&v), ["mismatch"]);
    let detail = v["report"]["attempts"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("/PONG/") && detail.contains("PING"),
        "{detail}"
    );
    assert!(stderr.contains("1 of 1 attempts failed"), "{stderr}");
}

#[test]
fn tcp_reads_a_banner_from_ncat() {
    let port = free_port();
    let _ncat = Peer::start(
        "ncat",
        Command::new(ncat()).args([
            "-l",
            "127.0.0.1",
            &port.to_string(),
            "-k",
            "--sh-exec",
            "printf 'SSH-2.0-netkit_test\\r\\n'",
        ]),
    );
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    wait_for_tcp(addr, Duration::from_secs(10));
    let (code, v, stderr) = netkit_probe(
        "tcp",
        &addr.to_string(),
        &["-c", "2", "--expect", "^SSH-2\\.0-"],
    );
    assert_eq!(code, Some(0), "{v} {stderr}");
    assert!(
        v["report"]["attempts"][1]["received"]
            .as_str()
            .unwrap()
            .starts_with("SSH-2.0-netkit_test"),
        "{v}"
    );
}

#[test]
fn a_closed_port_is_refused_and_a_resetting_server_is_reset() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (code, v, _) = netkit_probe("tcp", &closed.to_string(), &["-c", "2"]);
    assert_eq!(code, Some(1));
    assert_eq!(statuses(&v), ["refused", "refused"]);
    assert_eq!(v["report"]["summary"]["loss_percent"], 100.0);
    // Accept, then close with SO_LINGER 0: the client gets a reset.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::sleep(Duration::from_millis(50));
            let _ = socket_linger_zero(&s);
            drop(s);
        }
    });
    let (code, v, _) = netkit_probe(
        "tcp",
        &addr.to_string(),
        &["-c", "1", "--send", "hi", "--expect", "never", "-t", "2s"],
    );
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(statuses(&v), ["reset"], "{v}");
}

/// SO_LINGER with a zero timeout: closing sends RST instead of FIN.
fn socket_linger_zero(s: &std::net::TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a linger struct of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn udp_round_trips_with_socat_and_times_out_on_a_silent_port() {
    let port = free_udp_port();
    let _socat = Peer::start(
        "socat",
        Command::new(socat()).args([
            &format!("UDP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ]),
    );
    std::thread::sleep(Duration::from_millis(300));
    let target = format!("127.0.0.1:{port}");
    let (code, v, stderr) = netkit_probe(
        "udp",
        &target,
        &["-c", "3", "--send-hex", "00 ff 10", "--expect-hex", "ff10"],
    );
    assert_eq!(code, Some(0), "{v} {stderr}");
    assert_eq!(statuses(&v), ["ok", "ok", "ok"]);
    assert_eq!(v["report"]["attempts"][0]["received"], "\\x00\\xff\\x10");
    // Only its grant, and every attempt within it.
    assert_eq!(v["grants"], serde_json::json!([format!("udp://{target}")]));
    for e in v["audit"].as_array().unwrap() {
        assert_eq!(e["result"], "allowed", "{e}");
    }
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (code, v, _) = netkit_probe(
        "udp",
        &silent.local_addr().unwrap().to_string(),
        &["-c", "2", "--send", "x", "-t", "200ms"],
    );
    assert_eq!(code, Some(1));
    assert_eq!(statuses(&v), ["timeout", "timeout"]);
    // Nothing bound at all: the kernel's port unreachable reads as refused.
    let gone = free_udp_port();
    let (_, v, _) = netkit_probe(
        "udp",
        &format!("127.0.0.1:{gone}"),
        &["-c", "1", "--send", "x", "-t", "500ms"],
    );
    assert_eq!(statuses(&v), ["refused"], "{v}");
}

#[test]
fn the_audit_shows_only_the_grant() {
    let (_socat, addr) = socat_tcp_echo();
    let (_, v, _) = netkit_probe("tcp", &addr.to_string(), &["-c", "2"]);
    assert_eq!(
        v["grants"],
        serde_json::json!([format!("tcp-connect://{addr}")])
    );
    for e in v["audit"].as_array().unwrap() {
        assert_eq!(e["result"], "allowed", "{e}");
        assert_eq!(e["grant"], format!("tcp-connect://{addr}"), "{e}");
    }
    // Two probes, each a (wildcard, ephemeral) bind and a connect: four checks.
    assert_eq!(v["attempts"], 4, "{v}");
    assert_eq!(v["denied"], 0);
}

#[test]
fn both_probes_run_under_the_stock_wasmtime_cli() {
    let (_socat, addr) = socat_tcp_echo();
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(components_dir().join("tcp-probe.wasm"))
        .args([
            &addr.to_string(),
            "-c",
            "2",
            "-i",
            "50ms",
            "--send",
            "hello",
            "--expect",
            "hel+o",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("seq=2 {addr} connected in")),
        "{stdout}"
    );
    assert!(stdout.contains("2 sent, 2 ok, 0.0% loss"), "{stdout}");
    let port = free_udp_port();
    let _udp = Peer::start(
        "socat",
        Command::new(socat()).args([
            &format!("UDP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ]),
    );
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(components_dir().join("udp-probe.wasm"))
        .args([
            &format!("127.0.0.1:{port}"),
            "-c",
            "1",
            "--send",
            "ping",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["attempts"][0]["received"], "ping", "{v}");
    // The same report fields as netkit's.
    let (_, ours, _) = netkit_probe(
        "udp",
        &format!("127.0.0.1:{port}"),
        &["-c", "1", "--send", "ping"],
    );
    let keys = |v: &Value| {
        v["report"]["attempts"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(keys(&v), keys(&ours));
}

#[test]
fn bad_input_gets_a_clear_error() {
    for (args, needle) in [
        (&["tcp", "127.0.0.1"][..], "no port"),
        (
            &["tcp", "127.0.0.1:22", "--send-hex", "abc"][..],
            "3 hex digits",
        ),
        (
            &["tcp", "127.0.0.1:22", "--expect", "(open"][..],
            "not a valid regular expression",
        ),
        (&["udp", "127.0.0.1:53"][..], "needs something to send"),
        (&["tcp", "127.0.0.1:22", "-c", "0"][..], "0"),
    ] {
        let out = Command::new(netkit()).args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}
