//! The `netkit` binary's echo commands against each other and against socat/ncat.

use echo_proto::generated_payload;
use netkit_tests::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn demo_succeeds_offline() {
    let out = Command::new(netkit()).arg("demo").output().unwrap();
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("demo ok"), "{stdout}");
    assert!(stdout.contains("outside its grant: denied"), "{stdout}");
    assert!(
        stdout.contains("received \"This is a test message\""),
        "{stdout}"
    );
}

#[test]
fn netkit_client_against_netkit_echo_server() {
    let (server, addr) = netkit_echo_server(&["--quiet"]);
    let out = Command::new(netkit())
        .args(["echo-client", "--port", &addr.port().to_string()])
        .args([
            "--size",
            "100000",
            "--count",
            "6",
            "--concurrency",
            "3",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "client failed: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["report"]["exchanges"], 6);
    assert_eq!(v["report"]["total_bytes"], 600_000);
    assert_eq!(v["grants"][0], format!("tcp-connect://{addr}"));
    let out = server.terminate(LONG);
    let stderr = out.stderr;
    assert!(out.success, "server exit: {stderr}");
    assert!(
        stderr.contains("served 6 connections, 0 rejected, 600000 bytes echoed"),
        "{stderr}"
    );
}

#[test]
fn socat_half_closed_client_gets_one_mebibyte_back() {
    let (_server, addr) = netkit_echo_server(&["--quiet"]);
    let payload = generated_payload(7, 1 << 20);
    // socat half-closes the connection when its stdin ends, then reads until the server closes.
    let out = run_with_input(
        Command::new(socat()).args(["-t", "20", "-", &format!("TCP:{addr}")]),
        &payload,
    );
    assert!(out.status.success(), "socat: {}", text(&out.stderr));
    assert_eq!(out.stdout.len(), payload.len());
    assert!(out.stdout == payload, "echoed bytes differ");
}

#[test]
fn ncat_client_gets_message_back() {
    let (_server, addr) = netkit_echo_server(&[]);
    let out = run_with_input(
        Command::new(ncat()).args(["127.0.0.1", &addr.port().to_string()]),
        b"This is a test message",
    );
    assert!(out.status.success(), "ncat: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "This is a test message");
}

#[test]
fn netkit_client_against_socat_server() {
    let port = free_port();
    let _socat = Peer::start(
        "socat echo server",
        Command::new(socat()).args([
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ]),
    );
    wait_for_tcp(([127, 0, 0, 1], port).into(), LONG);
    let out = Command::new(netkit())
        .args(["echo-client", "--port", &port.to_string()])
        .args(["--size", "1048576", "--count", "4", "--concurrency", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "client failed: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("4 exchanges of 1048576 bytes"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn netkit_client_reports_refused_with_address() {
    let port = free_port();
    let out = Command::new(netkit())
        .args(["echo-client", "--port", &port.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
}

#[test]
fn two_hundred_concurrent_clients_get_their_own_bytes_back() {
    const CLIENTS: usize = 200;
    const SIZE: usize = 32 * 1024;
    let (server, addr) = netkit_echo_server(&["--quiet", "--max-connections", "400"]);
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let payload = generated_payload(i as u64 + 1000, SIZE);
                let mut s = TcpStream::connect(addr).expect("connect");
                // Every client is connected before any sends: all 200 are open at once.
                barrier.wait();
                s.set_read_timeout(Some(LONG)).unwrap();
                let mut writer = s.try_clone().unwrap();
                let data = payload.clone();
                let w = std::thread::spawn(move || writer.write_all(&data));
                let mut back = vec![0u8; SIZE];
                s.read_exact(&mut back).expect("read echo");
                w.join().unwrap().expect("write payload");
                back == payload
            })
        })
        .collect();
    let verified = clients
        .into_iter()
        .map(|c| c.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(
        verified, CLIENTS,
        "only {verified} of {CLIENTS} clients got their own bytes back"
    );
    let out = server.terminate(LONG);
    let stderr = out.stderr;
    let expected = format!(
        "served {CLIENTS} connections, 0 rejected, {} bytes echoed",
        CLIENTS * SIZE
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn silent_client_does_not_block_others() {
    let (_server, addr) = netkit_echo_server(&["--quiet"]);
    // One client connects and says nothing; another sends half a message and stalls.
    let silent = TcpStream::connect(addr).unwrap();
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled.write_all(b"half a mess").unwrap();
    let out = Command::new(netkit())
        .args(["echo-client", "--port", &addr.port().to_string()])
        .args(["--count", "20", "--concurrency", "4", "--timeout", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "clients were blocked: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("20 exchanges"),
        "{}",
        text(&out.stdout)
    );
    // The stalled client was echoed too, and the silent one is still connected.
    let mut back = [0u8; 11];
    stalled.set_read_timeout(Some(LONG)).unwrap();
    stalled.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"half a mess");
    silent.set_nonblocking(true).unwrap();
    let mut probe = [0u8; 1];
    let still_open =
        matches!((&silent).read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    assert!(still_open, "the silent client was disconnected");
}

#[test]
fn server_outside_allow_from_drops_clients_and_says_so() {
    let (server, addr) = netkit_echo_server(&["--allow-from", "10.0.0.0/8"]);
    // The kernel completes the handshake, but the host drops the client before the guest sees it.
    let mut s = TcpStream::connect(addr).unwrap();
    let _ = s.write_all(b"ping");
    let got = read_to_end_within(&mut s, Duration::from_secs(5));
    assert!(
        got.is_empty(),
        "a client outside --allow-from got an echo: {got:?}"
    );
    let out = server.terminate(LONG);
    let stderr = out.stderr;
    assert!(stderr.contains("denied tcp-accept 127.0.0.1:"), "{stderr}");
    // The client the host turned away is counted as rejected.
    assert!(
        stderr.contains("served 0 connections, 1 rejected"),
        "{stderr}"
    );
}

#[test]
fn udp_echo_server_answers_socat() {
    let port = free_port();
    let mut server = Peer::start(
        "netkit echo-server --udp",
        Command::new(netkit()).args(["echo-server", "--udp", "--port", &port.to_string()]),
    );
    server.wait_for_stderr("listening on udp", LONG);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    let mut answer = None;
    for _ in 0..100 {
        sock.send_to(b"datagram", ("127.0.0.1", port)).unwrap();
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            answer = Some((buf[..n].to_vec(), from));
            break;
        }
    }
    let (data, from) = answer.expect("no UDP echo came back");
    assert_eq!(data, b"datagram");
    assert_eq!(from.port(), port);
    let out = run_with_input(
        Command::new(socat()).args(["-t", "2", "-", &format!("UDP:127.0.0.1:{port}")]),
        b"via socat",
    );
    assert_eq!(text(&out.stdout), "via socat", "{}", text(&out.stderr));
    let out = server.terminate(LONG);
    assert!(out.success, "{}", out.stderr);
}

#[test]
fn components_are_written_out() {
    let dir = components_dir();
    for name in ["echo-server.wasm", "echo-client.wasm"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        // A component, not a core module: the layer field of the preamble is 1.
        assert_eq!(&bytes[..4], b"\0asm");
        assert_eq!(bytes[6..8], [1, 0], "{name} is not a component");
    }
}

#[test]
fn bad_component_path_is_a_clear_error() {
    let out = Command::new(netkit())
        .args([
            "echo-client",
            "--port",
            "9",
            "--component",
            "/nonexistent/x.wasm",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot read component /nonexistent/x.wasm"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
