//! The hostile-component suite: under a narrow grant, a component tries everything a
//! sandbox must stop. Every attempt must be blocked or stopped, denials must be audited,
//! a real listener on each forbidden address must see nothing, and netkit must survive.

use netkit_tests::*;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Output};

fn hostile(grants: &[String], action: &str, target: &str, extra: &[&str]) -> Output {
    run_hostile(grants, action, target, extra)
}

/// The attempt was blocked (not escaped), netkit did not crash, and said so.
fn assert_blocked(out: &Output, what: &str) {
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(!stdout.contains("ESCAPED"), "{what} escaped: {stdout}");
    assert!(!out.status.success(), "{what}: exit 0: {stdout} {stderr}");
    assert!(
        !stderr.contains("panicked"),
        "{what}: netkit panicked: {stderr}"
    );
}

fn assert_denial_audited(out: &Output, op: &str, target: &str) {
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("denied {op} {target}")),
        "denial of {op} {target} not shown: {stderr}"
    );
    let audited = stderr
        .lines()
        .any(|l| l.contains(op) && l.contains(target) && l.contains("DENIED"));
    assert!(
        audited,
        "denial of {op} {target} not in the audit table: {stderr}"
    );
}

fn tcp_tripwire() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

fn assert_no_connection(l: &TcpListener) {
    assert!(
        matches!(l.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the forbidden listener saw a connection"
    );
}

#[test]
fn granted_connect_works_so_the_harness_can_see_an_escape() {
    let (l, addr) = tcp_tripwire();
    let out = hostile(
        &[format!("tcp-connect://{addr}")],
        "tcp-connect",
        &addr.to_string(),
        &[],
    );
    assert!(
        text(&out.stdout).contains("ESCAPED"),
        "{}",
        text(&out.stderr)
    );
    l.set_nonblocking(false).unwrap();
    assert!(l.accept().is_ok(), "the granted listener saw no connection");
}

#[test]
fn tcp_connect_to_another_port_is_denied() {
    let (_granted, granted) = tcp_tripwire();
    let (wire, forbidden) = tcp_tripwire();
    let out = hostile(
        &[format!("tcp-connect://{granted}")],
        "tcp-connect",
        &forbidden.to_string(),
        &[],
    );
    assert_blocked(&out, "connect to another port");
    assert_denial_audited(&out, "tcp-connect", &forbidden.to_string());
    assert_no_connection(&wire);
}

#[test]
fn tcp_connect_to_another_host_is_denied() {
    let (_granted, granted) = tcp_tripwire();
    // 127.0.0.2 is another loopback address: a different host as far as grants go.
    let wire = TcpListener::bind("127.0.0.2:0").unwrap();
    wire.set_nonblocking(true).unwrap();
    let forbidden = wire.local_addr().unwrap();
    let out = hostile(
        &[format!("tcp-connect://{granted}")],
        "tcp-connect",
        &forbidden.to_string(),
        &[],
    );
    assert_blocked(&out, "connect to another host");
    assert_denial_audited(&out, "tcp-connect", &forbidden.to_string());
    assert_no_connection(&wire);
}

#[test]
fn ipv6_and_ipv4_mapped_tricks_are_denied() {
    let (_granted, granted) = tcp_tripwire();
    let wire6 = TcpListener::bind(("::1", granted.port())).unwrap();
    wire6.set_nonblocking(true).unwrap();
    for target in [
        format!("[::1]:{}", granted.port()),
        format!("[::ffff:127.0.0.1]:{}", granted.port()),
    ] {
        let out = hostile(
            &[format!("tcp-connect://{granted}")],
            "tcp-connect",
            &target,
            &[],
        );
        assert_blocked(&out, &target);
    }
    assert_no_connection(&wire6);
}

#[test]
fn udp_send_elsewhere_is_denied_and_nothing_arrives() {
    let granted = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let wire = UdpSocket::bind("127.0.0.1:0").unwrap();
    wire.set_nonblocking(true).unwrap();
    let forbidden = wire.local_addr().unwrap();
    let out = hostile(
        &[format!("udp://{granted}")],
        "udp-send",
        &forbidden.to_string(),
        &[],
    );
    assert_blocked(&out, "udp send elsewhere");
    assert_denial_audited(&out, "udp-send", &forbidden.to_string());
    let mut buf = [0u8; 16];
    assert!(
        wire.recv_from(&mut buf).is_err(),
        "a datagram reached the forbidden address"
    );
}

#[test]
fn listening_or_binding_elsewhere_is_denied() {
    let granted: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let other = free_port();
    let target = format!("127.0.0.1:{other}");
    let out = hostile(
        &[format!("tcp-listen://{granted}")],
        "tcp-listen",
        &target,
        &[],
    );
    assert_blocked(&out, "listen on another port");
    assert_denial_audited(&out, "tcp-bind", &target);
    assert!(
        std::net::TcpStream::connect(&target).is_err(),
        "something listens on {target}"
    );
    let udp_target = format!("127.0.0.1:{}", free_udp_port());
    let out = hostile(
        &[format!("udp-bind://{granted}")],
        "udp-bind",
        &udp_target,
        &[],
    );
    assert_blocked(&out, "udp bind elsewhere");
    assert_denial_audited(&out, "udp-bind", &udp_target);
}

#[test]
fn no_grant_means_no_network_at_all() {
    let (wire, addr) = tcp_tripwire();
    let out = hostile(&[], "tcp-connect", &addr.to_string(), &[]);
    assert_blocked(&out, "connect with no grant");
    assert!(
        text(&out.stderr).contains("granted: nothing"),
        "{}",
        text(&out.stderr)
    );
    assert_no_connection(&wire);
}

#[test]
fn files_are_not_reachable() {
    let out = hostile(&[], "read-file", "/etc/passwd", &[]);
    assert_blocked(&out, "read /etc/passwd");
    let out = hostile(&[], "read-file", "Cargo.toml", &[]);
    assert_blocked(&out, "read a relative path");
}

#[test]
fn environment_is_not_inherited() {
    let out = Command::new(netkit())
        .env("NETKIT_SECRET", "hunter2")
        .args(["run"])
        .arg(hostile_wasm())
        .args(["--", "env", "NETKIT_SECRET"])
        .output()
        .unwrap();
    assert_blocked(&out, "read an environment variable");
    assert!(!text(&out.stdout).contains("hunter2"));
    let out = hostile(&[], "list-env", "", &[]);
    assert_blocked(&out, "list the environment");
}

#[test]
fn name_lookups_are_refused() {
    let out = hostile(&[], "lookup", "localhost", &[]);
    assert_blocked(&out, "look up a name");
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline() {
    let out = hostile(&[], "spin", "", &["--deadline", "0.5"]);
    assert_blocked(&out, "spin");
    assert_eq!(out.status.code(), Some(124));
    assert!(
        text(&out.stderr).contains("stopped at the deadline of 0.500 s"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unbounded_memory_growth_is_stopped_at_the_cap() {
    let out = hostile(&[], "grow", "", &["--max-memory", "32"]);
    assert_blocked(&out, "grow");
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("out of memory: it tried to grow past the cap of 32 MiB"),
        "{}",
        text(&out.stderr)
    );
}
