//! The icmp prober's settings: blackbox_exporter's icmp keys and netkit's
//! `packets`/`packet_interval`, checked (a leaf: the run is `icmp_probe.rs`).

use std::time::Duration;

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
