//! The echo client against scripted misbehaving servers, and the server's connection limit.

use netkit_tests::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

/// A one-connection server on loopback that runs `behave` on its client.
fn scripted(behave: impl FnOnce(TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((s, _)) = listener.accept() {
            behave(s);
        }
    });
    addr
}

fn client(addr: SocketAddr, extra: &[&str]) -> (bool, String) {
    let out = Command::new(netkit())
        .args(["echo-client", "--port", &addr.port().to_string()])
        .args(extra)
        .output()
        .unwrap();
    (out.status.success(), text(&out.stderr))
}

#[test]
fn short_echo_is_reported_with_byte_counts() {
    let addr = scripted(|mut s| {
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"This is");
    });
    let (ok, stderr) = client(addr, &[]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "short echo from {addr}: peer closed after 7 of 22 bytes"
        )),
        "{stderr}"
    );
}

#[test]
fn wrong_echo_is_reported_with_offset() {
    let addr = scripted(|mut s| {
        let mut buf = [0u8; 22];
        let _ = s.read_exact(&mut buf);
        buf[10] ^= 0xff;
        let _ = s.write_all(&buf);
    });
    let (ok, stderr) = client(addr, &[]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("wrong echo from {addr}: byte 10 of 22")),
        "{stderr}"
    );
}

#[test]
fn silent_server_times_out() {
    let addr = scripted(|s| {
        std::thread::sleep(Duration::from_secs(5));
        drop(s);
    });
    let (ok, stderr) = client(addr, &["--timeout", "0.5"]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("receive from {addr}: no progress for 500 ms")),
        "{stderr}"
    );
}

#[test]
fn reset_is_reported() {
    let addr = scripted(|s| {
        // Closing with unread data in the receive buffer makes the kernel send a reset.
        std::thread::sleep(Duration::from_millis(200));
        drop(s);
    });
    let out = Command::new(netkit())
        .args(["echo-client", "--port", &addr.port().to_string()])
        .args(["--size", "4000000", "--timeout", "5", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    // Classified from the stream error, not from its text.
    assert_eq!(v["error"]["kind"], "reset", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.to_lowercase().contains("reset"), "{message}");
}

#[test]
fn server_rejects_clients_beyond_max_connections() {
    let (server, addr) = netkit_echo_server(&["--max-connections", "1"]);
    let mut first = TcpStream::connect(addr).unwrap();
    first.write_all(b"one").unwrap();
    let mut back = [0u8; 3];
    first.set_read_timeout(Some(LONG)).unwrap();
    first.read_exact(&mut back).unwrap();
    // The first client is still connected, so the second is closed without an echo.
    let mut second = TcpStream::connect(addr).unwrap();
    let _ = second.write_all(b"two");
    let got = read_to_end_within(&mut second, LONG);
    assert!(got.is_empty(), "second client was served: {got:?}");
    drop(first);
    let done = server.terminate(LONG);
    assert!(done.stderr.contains("reject 127.0.0.1:"), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("served 1 connection, 1 rejected, 3 bytes echoed"),
        "{}",
        done.stderr
    );
}
