//! iputils `ping`'s output, line for line (scripts parse it), and the JSON
//! netkit and the component print for `--json`.

use super::{IcmpError, IcmpKind, Reply, Shown, Statistics};
use serde_json::{Value, json};

/// `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.`, or for IPv6
/// `PING ::1(::1) 56 data bytes`.
pub fn header(target: &str, address: &str, v6: bool, payload: u32) -> String {
    if v6 {
        format!("PING {target}({address}) {payload} data bytes")
    } else {
        format!(
            "PING {target} ({address}) {payload}({}) bytes of data.",
            payload + 28
        )
    }
}

/// A time in ms as iputils prints a reply's: 3 decimals under 1 ms, 2 under
/// 10, 1 under 100, none above.
pub fn reply_time(rtt_ns: u64) -> String {
    // Whole microseconds, as iputils' timeval arithmetic has them.
    let us = rtt_ns / 1000;
    if us >= 100_000 - 50 {
        format!("{}", (us + 500) / 1000)
    } else if us >= 10_000 - 5 {
        format!("{}.{:01}", (us + 50) / 1000, ((us + 50) % 1000) / 100)
    } else if us >= 1000 {
        format!("{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10)
    } else {
        format!("{}.{:03}", us / 1000, us % 1000)
    }
}

/// The peer as iputils names it: `localhost (127.0.0.1)` for a name, the address alone for an address.
fn peer(target: &str, address: &str) -> String {
    if target == address {
        address.to_string()
    } else {
        format!("{target} ({address})")
    }
}

/// `64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms`, `(DUP!)` for a duplicate.
pub fn reply_line(target: &str, r: &Reply) -> String {
    let from = if r.source == target || target.parse::<std::net::IpAddr>().is_ok() {
        r.source.clone()
    } else {
        peer(target, &r.source)
    };
    let mut line = format!("{} bytes from {from}: icmp_seq={}", r.size, r.sequence);
    if let Some(ttl) = r.hop_limit {
        line.push_str(&format!(" ttl={ttl}"));
    }
    line.push_str(&format!(" time={} ms", reply_time(r.rtt_ns)));
    if r.duplicate {
        line.push_str(" (DUP!)");
    } else if r.out_of_order {
        line.push_str(" (out of order)");
    }
    line
}

/// `From 127.0.0.9 icmp_seq=1 Destination Host Unreachable`.
pub fn error_line(e: &IcmpError) -> String {
    format!("From {} icmp_seq={} {}", e.from, e.sequence, e.detail)
}

/// The line for `shown` (none for a lost request: iputils prints nothing then).
pub fn line(target: &str, shown: &Shown) -> Option<String> {
    match shown {
        Shown::Reply(r) => Some(reply_line(target, r)),
        Shown::Lost(_) => None,
        Shown::Error(e) => Some(error_line(e)),
    }
}

/// iputils' words for an ICMP error.
pub fn icmp_words(v6: bool, kind: IcmpKind, icmp_type: u8, code: u8) -> String {
    let words = match (v6, kind, code) {
        (false, IcmpKind::Unreachable, 0) => "Destination Net Unreachable",
        (false, IcmpKind::Unreachable, 1) => "Destination Host Unreachable",
        (false, IcmpKind::Unreachable, 2) => "Destination Protocol Unreachable",
        (false, IcmpKind::Unreachable, 3) => "Destination Port Unreachable",
        (false, IcmpKind::Unreachable, 4) => "Frag needed and DF set",
        (false, IcmpKind::Unreachable, 5) => "Source Route Failed",
        (false, IcmpKind::Unreachable, 9 | 10 | 13) => "Packet filtered",
        (false, IcmpKind::TimeExceeded, 0) => "Time to live exceeded",
        (false, IcmpKind::TimeExceeded, 1) => "Frag reassembly time exceeded",
        (true, IcmpKind::Unreachable, 0) => "Destination unreachable: No route",
        (true, IcmpKind::Unreachable, 1) => "Destination unreachable: Administratively prohibited",
        (true, IcmpKind::Unreachable, 3) => "Destination unreachable: Address unreachable",
        (true, IcmpKind::Unreachable, 4) => "Destination unreachable: Port unreachable",
        (true, IcmpKind::TimeExceeded, 0) => "Time exceeded: Hop limit",
        (true, IcmpKind::TimeExceeded, 1) => "Time exceeded: Defragmentation failure",
        _ => return format!("ICMP type {icmp_type} code {code}"),
    };
    words.to_string()
}

/// `%g` of a loss percentage: `0`, `100`, `33.3333`.
fn percent(p: f64) -> String {
    if p.fract() == 0.0 {
        return format!("{p:.0}");
    }
    let digits = 6 - (p.abs().log10().floor() as i32 + 1);
    let s = format!("{p:.*}", digits.max(0) as usize);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A time in ms with 3 decimals (iputils' statistics).
fn ms3(ns: u64) -> String {
    let us = (ns + 500) / 1000;
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// The statistics block, from the blank line on.
pub fn statistics(target: &str, s: &Statistics) -> String {
    let mut out = format!("\n--- {target} ping statistics ---\n");
    out.push_str(&format!(
        "{} packets transmitted, {} received, ",
        s.transmitted, s.received
    ));
    if s.duplicates > 0 {
        out.push_str(&format!("+{} duplicates, ", s.duplicates));
    }
    if s.errors > 0 {
        out.push_str(&format!("+{} errors, ", s.errors));
    }
    out.push_str(&format!(
        "{}% packet loss, time {}ms\n",
        percent(s.loss_percent()),
        s.time_ns / 1_000_000
    ));
    if let (true, Some(min), Some(avg), Some(max), Some(mdev)) = (
        s.received > 0,
        s.rtt_min_ns,
        s.rtt_avg_ns,
        s.rtt_max_ns,
        s.rtt_mdev_ns,
    ) {
        out.push_str(&format!(
            "rtt min/avg/max/mdev = {}/{}/{}/{} ms\n",
            ms3(min),
            ms3(avg),
            ms3(max),
            ms3(mdev)
        ));
    }
    out
}

fn kind_name(k: IcmpKind) -> &'static str {
    match k {
        IcmpKind::Unreachable => "destination-unreachable",
        IcmpKind::TimeExceeded => "time-exceeded",
        IcmpKind::Other => "icmp-error",
    }
}

/// One event as JSON.
pub fn event_json(shown: &Shown) -> Value {
    match shown {
        Shown::Reply(r) => json!({
            "type": "reply",
            "sequence": r.sequence,
            "size": r.size,
            "source": r.source,
            "hop_limit": r.hop_limit,
            "rtt_ms": r.rtt_ns as f64 / 1e6,
            "duplicate": r.duplicate,
            "out_of_order": r.out_of_order,
        }),
        Shown::Lost(seq) => json!({ "type": "lost", "sequence": seq }),
        Shown::Error(e) => json!({
            "type": kind_name(e.kind),
            "sequence": e.sequence,
            "from": e.from,
            "icmp_type": e.icmp_type,
            "icmp_code": e.code,
            "detail": e.detail,
        }),
    }
}

/// The statistics as JSON.
pub fn statistics_json(s: &Statistics) -> Value {
    let ms = |ns: Option<u64>| ns.map(|n| n as f64 / 1e6);
    json!({
        "transmitted": s.transmitted,
        "received": s.received,
        "duplicates": s.duplicates,
        "errors": s.errors,
        "loss_percent": s.loss_percent(),
        "time_ms": s.time_ns / 1_000_000,
        "rtt_min_ms": ms(s.rtt_min_ns),
        "rtt_avg_ms": ms(s.rtt_avg_ns),
        "rtt_max_ms": ms(s.rtt_max_ns),
        "rtt_mdev_ms": ms(s.rtt_mdev_ns),
    })
}

/// A whole run as JSON (the `report` of `--json`).
pub fn report_json(
    target: &str,
    address: &str,
    payload: u32,
    events: &[Shown],
    s: &Statistics,
) -> Value {
    json!({
        "target": target,
        "address": address,
        "payload_size": payload,
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "statistics": statistics_json(s),
    })
}

/// The kind's WIT name (`destination-unreachable`, ...).
pub fn icmp_kind_name(k: IcmpKind) -> &'static str {
    kind_name(k)
}

/// The kind of a WIT name.
pub fn icmp_kind_of(name: &str) -> IcmpKind {
    match name {
        "destination-unreachable" => IcmpKind::Unreachable,
        "time-exceeded" => IcmpKind::TimeExceeded,
        _ => IcmpKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(seq: u16, rtt_ns: u64) -> Reply {
        Reply {
            sequence: seq,
            size: 64,
            source: "127.0.0.1".into(),
            hop_limit: Some(64),
            rtt_ns,
            duplicate: false,
            out_of_order: false,
        }
    }

    #[test]
    fn lines_are_iputils_lines() {
        assert_eq!(
            header("127.0.0.1", "127.0.0.1", false, 56),
            "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."
        );
        assert_eq!(
            header("::1", "::1", true, 56),
            "PING ::1(::1) 56 data bytes"
        );
        assert_eq!(
            reply_line("127.0.0.1", &r(1, 45_000)),
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms"
        );
        assert_eq!(
            reply_line(
                "localhost",
                &Reply {
                    duplicate: true,
                    ..r(2, 1_234_567)
                }
            ),
            "64 bytes from localhost (127.0.0.1): icmp_seq=2 ttl=64 time=1.23 ms (DUP!)"
        );
        assert_eq!(
            reply_line(
                "127.0.0.1",
                &Reply {
                    hop_limit: None,
                    ..r(3, 12_345_678)
                }
            ),
            "64 bytes from 127.0.0.1: icmp_seq=3 time=12.3 ms"
        );
        assert_eq!(reply_time(123_456_789), "123");
        assert_eq!(reply_time(99_949_000), "99.9");
        let e = IcmpError {
            sequence: 4,
            kind: IcmpKind::TimeExceeded,
            from: "127.0.0.9".into(),
            icmp_type: 11,
            code: 0,
            detail: icmp_words(false, IcmpKind::TimeExceeded, 11, 0),
        };
        assert_eq!(
            error_line(&e),
            "From 127.0.0.9 icmp_seq=4 Time to live exceeded"
        );
        assert_eq!(
            icmp_words(true, IcmpKind::Other, 2, 0),
            "ICMP type 2 code 0"
        );
    }

    #[test]
    fn the_statistics_block_is_iputils_block() {
        let s = Statistics {
            transmitted: 2,
            received: 2,
            time_ns: 204_900_000,
            rtt_min_ns: Some(49_000),
            rtt_avg_ns: Some(68_000),
            rtt_max_ns: Some(87_000),
            rtt_mdev_ns: Some(19_000),
            ..Default::default()
        };
        assert_eq!(
            statistics("127.0.0.1", &s),
            "\n--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 204ms\n\
             rtt min/avg/max/mdev = 0.049/0.068/0.087/0.019 ms\n"
        );
        let lossy = Statistics {
            transmitted: 3,
            received: 0,
            duplicates: 1,
            errors: 2,
            ..Default::default()
        };
        assert_eq!(
            statistics("h", &lossy),
            "\n--- h ping statistics ---\n3 packets transmitted, 0 received, +1 duplicates, +2 errors, 100% packet loss, time 0ms\n"
        );
        assert_eq!(percent(100.0 / 3.0), "33.3333");
        assert_eq!(percent(200.0 / 3.0), "66.6667");
        assert_eq!(percent(0.5), "0.5");
    }

    #[test]
    fn json_names_every_field() {
        let v = event_json(&Shown::Reply(r(1, 1_500_000)));
        assert_eq!(v["rtt_ms"], 1.5);
        assert_eq!(v["hop_limit"], 64);
        assert_eq!(event_json(&Shown::Lost(9))["type"], "lost");
        let s = statistics_json(&Statistics {
            transmitted: 1,
            ..Default::default()
        });
        assert_eq!(s["loss_percent"], 100.0);
        assert!(s["rtt_avg_ms"].is_null());
    }
}
