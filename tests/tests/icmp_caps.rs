//! netkit's ICMP capability against a hostile component (guest/hostile): a
//! denied destination is audited and never sent (the kernel's OutEchos
//! counter does not move), and payload, in-flight and socket caps hold.
//! One test at a time: OutEchos counts the whole system's echo requests.

use netkit_tests::*;
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn hostile(grant: &str, action: &str, target: &str) -> (Option<i32>, String, String) {
    let out = run_hostile(&[grant.to_string()], action, target, &[]);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_denied_destination_is_audited_and_never_sent() {
    require_ping_group();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = icmp_out_echos();
    let (code, out, err) = hostile("icmp://127.0.0.2", "icmp-denied", "127.0.0.1");
    let after = icmp_out_echos();
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("BLOCKED icmp-denied 127.0.0.1: 10000 opens denied"),
        "{out}"
    );
    assert_eq!(after, before, "a denied echo reached the kernel:\n{err}");
    assert!(
        err.contains("denied icmp-echo 127.0.0.1: no grant covers it"),
        "{err}"
    );
    assert!(err.contains("more denied icmp-echo to 127.0.0.1"), "{err}");
    // The same request, granted, is sent: the counter does count this.
    let (code, out, err) = hostile("icmp://127.0.0.1", "icmp-denied", "127.0.0.1");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(icmp_out_echos() > after, "{out}");
    assert!(
        err.contains("icmp-echo") && err.contains("icmp://127.0.0.1"),
        "{err}"
    );
}

#[test]
fn ten_thousand_requests_in_flight_stay_within_the_caps() {
    require_ping_group();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = icmp_out_echos();
    let answered_before = netkit_tests::icmp_counter("InEchoReps");
    let (code, out, err) = hostile("icmp://127.0.0.1", "icmp-flood", "127.0.0.1");
    let sent = icmp_out_echos() - before;
    let answered = netkit_tests::icmp_counter("InEchoReps") - answered_before;
    assert_eq!(code, Some(1), "{out}{err}");
    // At most 1,024 requests wait for an answer (answered ones make room:
    // issue 31, a long ping counted loss that did not happen).
    assert!(
        out.contains("1024 in flight, then: 1024 requests in flight on this socket, the cap"),
        "{out}"
    );
    assert!(
        out.contains("16 sockets, then: 16 sockets held, the cap"),
        "{out}"
    );
    let replies: u64 = out
        .rsplit("; ")
        .next()
        .and_then(|t| t.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    // Replies only to requests sent, none twice (loopback may drop some past its buffer).
    assert!((1..=sent).contains(&replies), "{out}");
    assert!(
        sent <= 1024 + 16 + answered,
        "{sent} echo requests left, {answered} answered: more than 1024 unanswered"
    );
}

#[test]
fn payloads_past_the_largest_datagram_are_refused_not_sent() {
    require_ping_group();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (code, out, err) = hostile("icmp://127.0.0.1", "icmp-big", "127.0.0.1");
    assert_eq!(code, Some(1), "{out}{err}");
    // 65507 bytes of payload (the IPv4 maximum) come back whole: 65515 with the header.
    assert!(out.contains("replies [(1, 65515)]"), "{out}");
    assert!(
        out.contains(
            "65508 bytes: a payload of 65508 bytes is over the largest echo payload (65507 bytes)"
        ),
        "{out}"
    );
    assert!(
        out.contains("1 MiB: a payload of 1048576 bytes is over"),
        "{out}"
    );
}

#[test]
fn sequence_numbers_wrap() {
    require_ping_group();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (code, out, err) = hostile("icmp://[::1]", "icmp-wrap", "::1");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("replies to [65534, 65535, 0, 1], 0 timeouts"),
        "{out}"
    );
}
