//! `netkit dns` and dns-probe.wasm against a real DNS server (unbound, serving
//! a test zone on loopback), compared record for record with dig asking the
//! same server; truncation and the TCP retry; error rcodes; a silent server;
//! malformed and spoofed replies; the grants; the stock wasmtime CLI.

use netkit_tests::*;
use serde_json::Value;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

fn netkit_dns(server: &str, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = Command::new(netkit())
        .args(["dns", "--json", "--server", server])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {} {}", text(&out.stdout), text(&out.stderr)));
    (out.status.code(), v, text(&out.stderr))
}

#[test]
fn every_record_type_matches_dig_record_for_record() {
    let u = start_unbound();
    let cases: &[&[&str]] = &[
        &["www.example.test", "--type", "A"],
        &["www.example.test", "--type", "AAAA"],
        &["alias.example.test", "--type", "CNAME"],
        &["example.test", "--type", "MX"],
        &["example.test", "--type", "NS"],
        &["example.test", "--type", "TXT"],
        &["example.test", "--type", "SOA"],
        &["_sip._udp.example.test", "--type", "SRV"],
        &["example.test", "--type", "CAA"],
        &["-x", "192.0.2.10"],
    ];
    for args in cases {
        let (code, v, stderr) = netkit_dns(&u.server, args);
        assert_eq!(code, Some(0), "{args:?}: {v} {stderr}");
        assert_eq!(v["answer"]["rcode"], "NOERROR", "{args:?}: {v}");
        let ours = dns_records(&v, "answer");
        assert!(!ours.is_empty(), "{args:?}: no answer: {v}");
        let dig_args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "--type" { "-t" } else { a })
            .collect();
        assert_eq!(ours, dig_answer(&u.server, &dig_args), "{args:?}");
    }
}

#[test]
fn a_truncated_answer_is_asked_again_over_tcp() {
    let u = start_unbound();
    let (code, v, stderr) = netkit_dns(&u.server, &["big.example.test", "--type", "TXT"]);
    assert_eq!(code, Some(0), "{v} {stderr}");
    assert_eq!(v["answer"]["retried_over_tcp"], true, "{v}");
    assert_eq!(v["answer"]["transport"], "tcp", "{v}");
    assert!(v["answer"]["size"].as_u64().unwrap() > 1232, "{v}");
    let ours = dns_records(&v, "answer");
    assert_eq!(ours.len(), 12);
    assert_eq!(ours, dig_answer(&u.server, &["big.example.test", "TXT"]));
    // The same over TCP from the start; the grants are exactly the two.
    let (code, v, _) = netkit_dns(&u.server, &["www.example.test", "--tcp"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["answer"]["transport"], "tcp");
    assert_eq!(v["answer"]["retried_over_tcp"], false);
    assert_eq!(
        v["grants"],
        serde_json::json!([
            format!("udp://{}", u.server),
            format!("tcp-connect://{}", u.server)
        ])
    );
}

#[test]
fn error_rcodes_exit_1_and_are_named() {
    let u = start_unbound();
    for (name, rcode, meaning) in [
        ("nope.example.test", "NXDOMAIN", "does not exist"),
        ("x.refused.test", "REFUSED", "refused"),
    ] {
        let (code, v, stderr) = netkit_dns(&u.server, &[name]);
        assert_eq!(code, Some(1), "{name}: {v}");
        assert_eq!(v["ok"], false);
        assert_eq!(v["answer"]["rcode"], rcode, "{v}");
        assert!(
            stderr.contains(rcode) && stderr.contains(meaning),
            "{stderr}"
        );
    }
    // NXDOMAIN comes with the zone's SOA, as dig shows it.
    let (_, v, _) = netkit_dns(&u.server, &["nope.example.test"]);
    assert_eq!(dns_records(&v, "authority")[0].3, "SOA", "{v}");
}

#[test]
fn a_silent_server_times_out_with_a_named_error() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();
    let start = std::time::Instant::now();
    let (code, v, stderr) = netkit_dns(&server, &["www.example.test", "--timeout", "300ms"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["error"]["kind"], "timeout", "{v}");
    assert!(stderr.contains(&server), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// Makes a reply datagram from the query.
type Reply = fn(&[u8]) -> Vec<u8>;

/// A UDP server answering every query with each of `replies`, in order.
fn fake_server(replies: Vec<Reply>) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            for r in &replies {
                let _ = sock.send_to(&r(&buf[..n]), from);
            }
        }
    });
    addr
}

/// The query turned into a response header (QR, RA) with `ancount` answers.
fn response(query: &[u8], ancount: u8) -> Vec<u8> {
    let mut r = query.to_vec();
    r[2] |= 0x80;
    r[3] |= 0x80;
    r[7] = ancount;
    // No additional records (drop the query's OPT record): header + question only.
    r[11] = 0;
    let mut end = 12;
    while r[end] != 0 {
        end += usize::from(r[end]) + 1;
    }
    r.truncate(end + 5);
    r
}

#[test]
fn malformed_and_spoofed_replies_get_named_errors_or_are_ignored() {
    // An answer whose owner name points at itself: a compression loop.
    let looping = fake_server(vec![|q| {
        let mut r = response(q, 1);
        let at = r.len() as u8;
        r.extend_from_slice(&[0xc0, at, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        r
    }]);
    let (code, v, _) = netkit_dns(&looping, &["loop.test", "--timeout", "1s"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["error"]["kind"], "bad-reply", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed"),
        "{v}"
    );
    // Garbage, and an answer with another id, before the real answer: both ignored.
    let spoofed = fake_server(vec![
        |_| b"\x00\x01garbage".to_vec(),
        |q| {
            let mut r = response(q, 0);
            r[0] ^= 0xff;
            r
        },
        |q| {
            let mut r = response(q, 1);
            r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77]);
            r
        },
    ]);
    let (code, v, stderr) = netkit_dns(&spoofed, &["real.test"]);
    assert_eq!(code, Some(0), "{v} {stderr}");
    assert_eq!(dns_records(&v, "answer")[0].4, "192.0.2.77", "{v}");
    // Only a spoofed answer: a named bad-reply after the timeout.
    let only_spoofed = fake_server(vec![|q| {
        let mut r = response(q, 0);
        r[1] ^= 0x55;
        r
    }]);
    let (code, v, _) = netkit_dns(&only_spoofed, &["x.test", "--timeout", "500ms"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["error"]["kind"], "bad-reply", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match the query's id"),
        "{v}"
    );
}

#[test]
fn the_audit_shows_only_the_grant() {
    let u = start_unbound();
    let (code, v, _) = netkit_dns(&u.server, &["big.example.test", "-t", "TXT"]);
    assert_eq!(code, Some(0), "{v}");
    let grants: Vec<&str> = v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    let events = v["audit"].as_array().unwrap();
    assert!(events.len() >= 4, "{v}");
    for e in events {
        assert_eq!(e["result"], "allowed", "{e}");
        assert!(grants.contains(&e["grant"].as_str().unwrap()), "{e}");
    }
    assert!(
        events.iter().any(|e| e["operation"] == "tcp-connect"),
        "{v}"
    );
    assert_eq!(v["denied"], 0);
}

#[test]
fn runs_under_the_stock_wasmtime_cli() {
    let u = start_unbound();
    let wasm = components_dir().join("dns-probe.wasm");
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(&wasm)
        .args(["--server", &u.server, "www.example.test", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        dns_records(&v, "answer"),
        dig_answer(&u.server, &["www.example.test"])
    );
    // The same JSON fields as netkit's (netkit adds grants and audit).
    let (_, ours, _) = netkit_dns(&u.server, &["www.example.test"]);
    let keys = |v: &Value| {
        v["answer"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(keys(&v), keys(&ours));
    // NXDOMAIN exits 1 there too; text output reads like dig.
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(&wasm)
        .args(["--server", &u.server, "nope.example.test"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("status: NXDOMAIN"),
        "{}",
        text(&out.stdout)
    );
    // Without --server the component says what to do (it cannot read resolv.conf).
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(&wasm)
        .arg("www.example.test")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--server"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_input_gets_a_clear_error() {
    for (args, needle) in [
        (
            &["dns", "--server", "127.0.0.1", "-t", "HINFO", "x.test"][..],
            "one of A, AAAA",
        ),
        (
            &["dns", "--server", "not-an-ip", "x.test"][..],
            "not an address",
        ),
        (
            &["dns", "--server", "127.0.0.1", "-x", "nope"][..],
            "invalid IP",
        ),
    ] {
        let out = Command::new(netkit()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = Command::new(netkit())
        .args(["dns", "--server", "127.0.0.1:9", &"a".repeat(70)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a valid DNS name"),
        "{}",
        text(&out.stderr)
    );
}
