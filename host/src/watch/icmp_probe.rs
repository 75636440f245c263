//! The watch kind `icmp`: blackbox_exporter's icmp prober (its option and
//! metric names), and what blackbox refused to add (#115): several packets per
//! run, sent and received counts, and the round trips as a histogram with
//! smokeping_prober's buckets.

use super::config::ProbeConfig;
use super::run::RunResult;
use crate::ping::{IpFamily, PingEvent, PingOptions, PingStep, Pinger};
use crate::runtime::Sandbox;
use anyhow::Result;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// smokeping_prober's default buckets: 50 µs doubling 20 times (to 26.2 s).
pub const RTT_BUCKETS: [f64; 20] = [
    0.00005, 0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512,
    0.1024, 0.2048, 0.4096, 0.8192, 1.6384, 3.2768, 6.5536, 13.1072, 26.2144,
];

/// The histogram of round trips.
pub const RTT_HISTOGRAM: (&str, &str) = (
    "probe_icmp_rtt_seconds",
    "Round trips of the ICMP echo replies (smokeping_prober's buckets)",
);

/// The most packets one run may send.
pub const MAX_PACKETS: u32 = 100;

/// The icmp kind's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IcmpSettings {
    /// Echo requests per run (`packets`, default 1).
    pub packets: u32,
    /// Between two of them (`packet_interval`, default 1s).
    pub packet_interval: Duration,
    /// Payload bytes (`payload_size`, default 56 as iputils).
    pub payload_size: u32,
    /// TTL / hop limit (`ttl`).
    pub ttl: Option<u8>,
    /// IPv4 don't-fragment (`dont_fragment`).
    pub dont_fragment: bool,
}

/// The icmp keys as written.
#[derive(Debug, Default)]
#[allow(missing_docs)] // the keys of the same names
pub struct RawIcmp {
    pub packets: Option<i64>,
    pub packet_interval: Option<String>,
    pub payload_size: Option<i64>,
    pub ttl: Option<i64>,
    pub dont_fragment: Option<bool>,
    pub source_ip_address: Option<String>,
}

impl RawIcmp {
    /// Whether any icmp key is set.
    pub fn any(&self) -> bool {
        self.packets.is_some()
            || self.packet_interval.is_some()
            || self.payload_size.is_some()
            || self.ttl.is_some()
            || self.dont_fragment.is_some()
            || self.source_ip_address.is_some()
    }
}

/// Check the keys against the probe's `timeout`.
pub fn settings(raw: &RawIcmp, timeout: Duration) -> Result<IcmpSettings, String> {
    if raw.source_ip_address.is_some() {
        return Err("source_ip_address is not supported yet: netkit sends from the address the system picks".into());
    }
    let packets = match raw.packets {
        None => 1,
        Some(n) if (1..=i64::from(MAX_PACKETS)).contains(&n) => n as u32,
        Some(n) => return Err(format!("packets = {n}: use 1 to {MAX_PACKETS}")),
    };
    let packet_interval = match &raw.packet_interval {
        None => Duration::from_secs(1),
        Some(t) => cli_args::units::positive_duration(t, "s")
            .map_err(|e| format!("packet_interval: {e}"))?,
    };
    let payload_size = match raw.payload_size {
        None => ping_proto::DEFAULT_PAYLOAD,
        Some(n) if (0..=65507).contains(&n) => n as u32,
        Some(n) => return Err(format!("payload_size = {n}: use 0 to 65507")),
    };
    let ttl = match raw.ttl {
        None => None,
        Some(n) if (1..=255).contains(&n) => Some(n as u8),
        Some(n) => return Err(format!("ttl = {n}: use 1 to 255")),
    };
    let sending = packet_interval.saturating_mul(packets - 1);
    if sending >= timeout {
        return Err(format!(
            "packets = {packets} every {:?} take {:?} to send, not less than timeout = {:?}: raise timeout or lower packets or packet_interval",
            packet_interval, sending, timeout
        ));
    }
    Ok(IcmpSettings {
        packets,
        packet_interval,
        payload_size,
        ttl,
        dont_fragment: raw.dont_fragment.unwrap_or(false),
    })
}

/// One run: `packets` echo requests to `addr`, their replies as metrics.
pub async fn run(
    pinger: &Pinger,
    sandbox: &Sandbox,
    c: &ProbeConfig,
    addr: SocketAddr,
    lookup: Duration,
) -> Result<RunResult> {
    let s = c.icmp.clone().unwrap_or(IcmpSettings {
        packets: 1,
        packet_interval: Duration::from_secs(1),
        payload_size: ping_proto::DEFAULT_PAYLOAD,
        ttl: None,
        dont_fragment: false,
    });
    let timeout_ms = c.timeout.as_millis().max(1) as u64;
    let options = PingOptions {
        count: Some(s.packets),
        interval_ms: s.packet_interval.as_millis().max(1) as u64,
        timeout_ms,
        deadline_ms: Some(timeout_ms),
        payload_size: s.payload_size,
        hop_limit: s.ttl,
        dont_fragment: s.dont_fragment,
        family: IpFamily::Any,
    };
    let setup = Instant::now();
    let mut session = match pinger
        .start(sandbox, &addr.ip().to_string(), &options)
        .await?
    {
        Ok(session) => session,
        Err(e) => {
            let (kind, message) = crate::ping::describe(&e);
            return Ok(RunResult::failed(kind, message));
        }
    };
    let setup = setup.elapsed();
    let mut rtts = Vec::new();
    let mut hop_limit = None;
    let mut errors = Vec::new();
    loop {
        match session.next(timeout_ms).await? {
            PingStep::Event(PingEvent::Reply(r)) if !r.duplicate => {
                rtts.push(r.rtt_ns as f64 / 1e9);
                hop_limit = r.hop_limit.or(hop_limit);
            }
            PingStep::Event(PingEvent::IcmpError(e)) => {
                errors.push(format!("from {}: {}", e.from, e.detail));
            }
            PingStep::Event(_) | PingStep::Idle => {}
            PingStep::Done => break,
        }
    }
    let stats = session.statistics().await?;
    let phase = |p: &str, v: f64| {
        (
            "probe_icmp_duration_seconds",
            vec![("phase".to_string(), p.to_string())],
            v,
        )
    };
    let mean = if rtts.is_empty() {
        0.0
    } else {
        rtts.iter().sum::<f64>() / rtts.len() as f64
    };
    let mut values = vec![
        ("probe_icmp_packets_sent", f64::from(stats.transmitted)),
        ("probe_icmp_packets_received", f64::from(stats.received)),
        ("probe_dns_lookup_time_seconds", lookup.as_secs_f64()),
        ("probe_ip_protocol", if addr.is_ipv6() { 6.0 } else { 4.0 }),
    ];
    if let Some(h) = hop_limit {
        values.push(("probe_icmp_reply_hop_limit", f64::from(h)));
    }
    let detail = format!(
        "{} sent, {} received{}",
        stats.transmitted,
        stats.received,
        errors.first().map(|e| format!(", {e}")).unwrap_or_default()
    );
    let mut r = if stats.received > 0 {
        RunResult::ok(detail, values)
    } else {
        let reason = if errors.is_empty() {
            "timeout"
        } else {
            "icmp-error"
        };
        RunResult {
            values,
            ..RunResult::failed(reason, detail)
        }
    };
    r.labeled = vec![
        phase("resolve", lookup.as_secs_f64()),
        phase("setup", setup.as_secs_f64()),
        phase("rtt", mean),
    ];
    r.observations = rtts.into_iter().map(|v| (RTT_HISTOGRAM.0, v)).collect();
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let t = Duration::from_secs(5);
        let s = settings(&RawIcmp::default(), t).unwrap();
        assert_eq!((s.packets, s.payload_size, s.ttl), (1, 56, None));
        let raw = RawIcmp {
            packets: Some(5),
            packet_interval: Some("200ms".into()),
            ttl: Some(3),
            ..RawIcmp::default()
        };
        let s = settings(&raw, t).unwrap();
        assert_eq!(
            (s.packets, s.packet_interval, s.ttl),
            (5, Duration::from_millis(200), Some(3))
        );
        let err = |raw: RawIcmp, word: &str| {
            let e = settings(&raw, t).unwrap_err();
            assert!(e.contains(word), "{e}");
        };
        err(
            RawIcmp {
                packets: Some(0),
                ..RawIcmp::default()
            },
            "packets = 0",
        );
        err(
            RawIcmp {
                packets: Some(6),
                ..RawIcmp::default()
            },
            "raise timeout",
        );
        err(
            RawIcmp {
                ttl: Some(256),
                ..RawIcmp::default()
            },
            "ttl = 256",
        );
        err(
            RawIcmp {
                payload_size: Some(70_000),
                ..RawIcmp::default()
            },
            "payload_size",
        );
        err(
            RawIcmp {
                source_ip_address: Some("127.0.0.1".into()),
                ..RawIcmp::default()
            },
            "not supported",
        );
        err(
            RawIcmp {
                packet_interval: Some("soon".into()),
                ..RawIcmp::default()
            },
            "packet_interval",
        );
    }
}
