//! Text shared by every front end (the components' own CLI and netkit's).

use crate::RttStats;
use crate::megabytes_per_second;

/// One exchange run, as plain values, for [`summary_line`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary<'a> {
    /// The server address.
    pub server: &'a str,
    /// Exchanges completed and verified.
    pub exchanges: u32,
    /// Bytes per exchange.
    pub payload_bytes: u64,
    /// Bytes over all exchanges.
    pub total_bytes: u64,
    /// Round-trip times.
    pub rtt: RttStats,
    /// Wall time of the run.
    pub elapsed_ns: u64,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The result line: the message itself for one exchange of a text message,
/// else counts, round trips and throughput.
pub fn summary_line(message: Option<&str>, r: &RunSummary<'_>) -> String {
    if let (Some(m), 1) = (message, r.exchanges) {
        return format!(
            "received {m:?} ({} bytes) back from {} in {:.3} ms, verified",
            r.payload_bytes,
            r.server,
            ms(r.rtt.max_ns)
        );
    }
    format!(
        "{} {} of {} bytes with {} verified; rtt min {:.3} ms, median {:.3} ms, p99 {:.3} ms, max {:.3} ms; {:.2} MB/s",
        r.exchanges,
        plural(r.exchanges.into(), "exchange", "exchanges"),
        r.payload_bytes,
        r.server,
        ms(r.rtt.min_ns),
        ms(r.rtt.median_ns),
        ms(r.rtt.p99_ns),
        ms(r.rtt.max_ns),
        megabytes_per_second(r.total_bytes, r.elapsed_ns)
    )
}

/// `one` or `many` by count: "1 connection", "2 connections".
pub fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// A server's closing line: what it served.
pub fn server_summary_line(
    udp: bool,
    local: &str,
    served: u64,
    rejected: u64,
    bytes: u64,
) -> String {
    let (one, many) = if udp {
        ("datagram", "datagrams")
    } else {
        ("connection", "connections")
    };
    format!(
        "served {served} {}, {rejected} rejected, {bytes} bytes echoed, on {local}",
        plural(served, one, many)
    )
}

/// The peer closed before echoing everything.
pub fn short_echo_message(server: &str, at: u64, expected: u64) -> String {
    format!("short echo from {server}: peer closed after {at} of {expected} bytes")
}

/// The echo differs from what was sent.
pub fn wrong_echo_message(server: &str, at: u64, expected: u64) -> String {
    format!("wrong echo from {server}: byte {at} of {expected} differs from what was sent")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(exchanges: u32) -> RunSummary<'static> {
        RunSummary {
            server: "127.0.0.1:7",
            exchanges,
            payload_bytes: 22,
            total_bytes: 22 * u64::from(exchanges),
            rtt: RttStats {
                min_ns: 1_000_000,
                median_ns: 2_000_000,
                p99_ns: 3_000_000,
                max_ns: 4_000_000,
            },
            elapsed_ns: 1_000_000_000,
        }
    }

    #[test]
    fn one_message_shows_the_message() {
        assert_eq!(
            summary_line(Some("hi"), &run(1)),
            "received \"hi\" (22 bytes) back from 127.0.0.1:7 in 4.000 ms, verified"
        );
    }

    #[test]
    fn counts_agree_in_number() {
        assert!(summary_line(None, &run(1)).starts_with("1 exchange of 22 bytes"));
        assert!(summary_line(None, &run(2)).starts_with("2 exchanges of 22 bytes"));
        assert_eq!(
            server_summary_line(false, "127.0.0.1:7", 1, 0, 5),
            "served 1 connection, 0 rejected, 5 bytes echoed, on 127.0.0.1:7"
        );
        assert!(server_summary_line(true, "x", 3, 0, 5).contains("served 3 datagrams"));
    }
}
