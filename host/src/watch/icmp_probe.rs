//! The watch kind `icmp`: blackbox_exporter's icmp prober (its option and
//! metric names), and what blackbox refused to add (#115): several packets per
//! run, sent and received counts, and the round trips as a histogram with
//! smokeping_prober's buckets.

use super::config::ProbeConfig;
use super::result::RunResult;
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

use super::icmp_settings::IcmpSettings;

/// The icmp prober's metrics, with their help (the round trips' histogram is `RTT_HISTOGRAM`).
pub const VALUES: &[(&str, &str)] = &[
    (
        "probe_icmp_packets_sent",
        "ICMP echo requests sent in the run",
    ),
    (
        "probe_icmp_packets_received",
        "ICMP echo requests answered in the run (duplicates not counted)",
    ),
    (
        "probe_icmp_reply_hop_limit",
        "Replied packet hop limit (TTL for IPv4)",
    ),
];

/// The icmp prober's labelled metrics.
pub const LABELED: &[(&str, &str)] = &[(
    "probe_icmp_duration_seconds",
    "Duration of the ICMP probe by phase (rtt: the mean round trip of the run's replies)",
)];

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
