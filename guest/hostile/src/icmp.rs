//! Hostile uses of netkit's ICMP capability: what the caps must hold against.

use netio::icmp::{self, EchoRequest, EchoSocket, ErrorCode};
use netio::wasip2::clocks::monotonic_clock;
use std::net::IpAddr;

fn ip(target: &str) -> Result<IpAddr, String> {
    target.parse().map_err(|_| format!("bad address {target}"))
}

fn request(sequence: u16, payload: Vec<u8>, timeout_ms: u64) -> EchoRequest {
    EchoRequest {
        sequence,
        payload,
        hop_limit: None,
        dont_fragment: false,
        timeout_ns: timeout_ms * 1_000_000,
    }
}

/// Events until `ms` have passed: (replies, timeouts, others).
fn collect(socket: &EchoSocket, ms: u64) -> (Vec<(u16, u32)>, usize, usize) {
    let until = monotonic_clock::now() + ms * 1_000_000;
    let (mut replies, mut timeouts, mut other) = (Vec::new(), 0, 0);
    while monotonic_clock::now() < until {
        icmp::wait_events(socket, Some(until));
        for e in socket.receive(256) {
            match e.outcome {
                Ok(r) => replies.push((e.sequence, r.size)),
                Err(ErrorCode::Timeout) => timeouts += 1,
                Err(_) => other += 1,
            }
        }
    }
    (replies, timeouts, other)
}

/// One hostile ICMP action, or `None` if `action` is not one.
pub fn attempt(action: &str, target: &str) -> Option<Result<String, String>> {
    let d = |e: ErrorCode| icmp::describe(&e);
    Some(match action {
        // The largest payload is echoed; anything larger is refused, not sent.
        "icmp-big" => (|| {
            let s = icmp::open(ip(target)?).map_err(d)?;
            s.send(&request(1, vec![0xa5; 65507], 2000)).map_err(d)?;
            let (replies, _, _) = collect(&s, 1000);
            let over = s.send(&request(2, vec![0; 65508], 2000)).map_err(d);
            let huge = s.send(&request(3, vec![0; 1 << 20], 2000)).map_err(d);
            Err(format!(
                "replies {replies:?}; 65508 bytes: {}; 1 MiB: {}",
                over.err().unwrap_or("sent".into()),
                huge.err().unwrap_or("sent".into())
            ))
        })(),
        // 10,000 requests in flight on one socket, and sockets until refused.
        "icmp-flood" => (|| {
            let addr = ip(target)?;
            let s = icmp::open(addr).map_err(d)?;
            let mut sent = 0;
            let mut refusal = String::new();
            for seq in 0..10_000u16 {
                match s.send(&request(seq, vec![0x5a; 1000], 60_000)) {
                    Ok(()) => sent += 1,
                    Err(e) => {
                        if refusal.is_empty() {
                            refusal = d(e);
                        }
                    }
                }
            }
            let in_flight = s.in_flight();
            let mut sockets = vec![s];
            let socket_refusal = loop {
                match icmp::open(addr) {
                    Ok(s) => sockets.push(s),
                    Err(e) => break d(e),
                }
                if sockets.len() > 1000 {
                    break "no cap".into();
                }
            };
            let (replies, _, _) = collect(&sockets[0], 500);
            Err(format!(
                "{sent} sent, {in_flight} in flight, then: {refusal}; {} sockets, then: {socket_refusal}; {} replies",
                sockets.len(),
                replies.len()
            ))
        })(),
        // Sequence numbers across the wrap: 65534, 65535, 0, 1.
        "icmp-wrap" => (|| {
            let s = icmp::open(ip(target)?).map_err(d)?;
            for seq in [65534u16, 65535, 0, 1] {
                s.send(&request(seq, seq.to_be_bytes().to_vec(), 2000))
                    .map_err(d)?;
            }
            let (replies, timeouts, _) = collect(&s, 500);
            let seqs: Vec<u16> = replies.iter().map(|r| r.0).collect();
            Ok(format!("replies to {seqs:?}, {timeouts} timeouts"))
        })(),
        // Echo to a denied address, over and over.
        "icmp-denied" => (|| {
            let addr = ip(target)?;
            for _ in 0..10_000 {
                if let Ok(s) = icmp::open(addr) {
                    return s
                        .send(&request(1, Vec::new(), 1000))
                        .map(|()| format!("sent an echo to {addr}"))
                        .map_err(d);
                }
            }
            Err("10000 opens denied".into())
        })(),
        _ => return None,
    })
}
