//! The `icmp:` block of a module: blackbox_exporter's `ICMPProbe` keys, and
//! netkit's `packets` and `packet_interval` (several echo requests a run).

use super::block::Block;
use super::common;
use crate::watch::config::ProbeConfig;
use crate::watch::icmp_settings::RawIcmp;

/// Read `b` into `m` (an icmp module).
pub fn read(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    let ttl = b.int("ttl");
    let raw = RawIcmp {
        packets: b.int("packets").map(|(n, _)| n),
        packet_interval: b.str("packet_interval"),
        payload_size: b.int("payload_size").map(|(n, _)| n).filter(|n| *n != 0),
        // blackbox's default is 64, and 0 means that default too.
        ttl: Some(ttl.map_or(64, |(n, _)| n)).filter(|n| *n != 0),
        dont_fragment: b.bool("dont_fragment"),
        source_ip_address: None,
    };
    if let Some((n, at)) = ttl
        && !(0..=255).contains(&n)
    {
        b.bad(
            "ttl",
            at,
            if n < 0 {
                "\"ttl\" cannot be negative"
            } else {
                "\"ttl\" cannot exceed 255"
            },
        );
        return;
    }
    match crate::watch::icmp_settings::settings(&raw, m.timeout) {
        Ok(s) => m.icmp = Some(s),
        Err(e) => b.error(b.at, format!("{}: {e}", b.path)),
    }
}
