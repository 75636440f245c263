//! The TLS report, as text and as JSON, the same from the component under
//! `wasmtime run` and from netkit.

use crate::{CertInfo, Handshake};
use serde::Serialize;
use serde_json::{Value, json};

/// One TLS probe's result.
#[derive(Debug, Clone, Serialize)]
pub struct TlsReport {
    /// `IP:PORT` connected to.
    pub target: String,
    /// The name sent as SNI and verified (may be an IP address).
    pub server_name: String,
    /// TCP connect time, nanoseconds.
    pub connect_ns: u64,
    /// The handshake's facts.
    pub handshake: Handshake,
    /// Wall clock at the probe (Unix seconds), for the days below.
    pub now: i64,
}

impl TlsReport {
    /// The leaf's not-after.
    pub fn leaf_expiry(&self) -> Option<i64> {
        self.handshake
            .chain
            .first()
            .filter(|c| c.parse_error.is_none())
            .map(|c| c.not_after)
    }

    /// The earliest not-after of the chain as sent.
    pub fn earliest_expiry(&self) -> Option<i64> {
        self.handshake
            .chain
            .iter()
            .filter(|c| c.parse_error.is_none())
            .map(|c| c.not_after)
            .min()
    }

    /// The soonest expiry within `days` days (or already past), if any: (which, seconds).
    pub fn expiring_within(&self, days: u32) -> Option<(&'static str, i64)> {
        let limit = self.now + i64::from(days) * 86_400;
        match (self.leaf_expiry(), self.earliest_expiry()) {
            (Some(leaf), _) if leaf <= limit => Some(("the leaf", leaf)),
            (_, Some(e)) if e <= limit => Some(("a chain certificate", e)),
            _ => None,
        }
    }
}

/// Whole days from `now` to `t` (negative: past), rounded down.
pub fn days_until(now: i64, t: i64) -> i64 {
    (t - now).div_euclid(86_400)
}

/// `2027-03-01 12:00:00 UTC`.
pub fn utc(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The IANA name of a cipher suite (rustls says `TLS13_AES_128_GCM_SHA256`).
pub fn cipher_name(suite: rustls::CipherSuite) -> String {
    let name = format!("{suite:?}");
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// A key exchange group's name (`X25519`, `secp256r1`, `X25519MLKEM768`).
pub fn group_name(group: rustls::NamedGroup) -> String {
    format!("{group:?}")
}

fn ms(ns: u64) -> String {
    format!("{:.2} ms", ns as f64 / 1e6)
}

fn verdict_line(h: &Handshake) -> String {
    match h.verification.error {
        None if h.chain.is_empty() => "Verification: none (no certificate)".into(),
        None => "Verification: OK".into(),
        Some(reason) => format!(
            "Verification: FAILED, {} ({})",
            reason.as_str(),
            h.verification.detail
        ),
    }
}

/// The report as text: a brief block like `openssl s_client -brief`, then the chain table.
pub fn report_text(r: &TlsReport) -> String {
    let h = &r.handshake;
    let mut out = String::new();
    out.push_str(&format!(
        "Connected to {} (server name {})\n",
        r.target, r.server_name
    ));
    out.push_str(&format!("Protocol version: {}\n", h.version));
    out.push_str(&format!("Ciphersuite: {}\n", h.cipher));
    if let Some(g) = &h.group {
        out.push_str(&format!("Key exchange: {g}\n"));
    }
    out.push_str(&format!("ALPN: {}\n", h.alpn.as_deref().unwrap_or("none")));
    out.push_str(&format!(
        "Timing: connect {}, handshake {}\n",
        ms(r.connect_ns),
        ms(h.handshake_ns)
    ));
    if let Some(leaf) = h.chain.first() {
        out.push_str(&format!("Peer certificate: {}\n", leaf.subject));
    }
    out.push_str(&verdict_line(h));
    out.push('\n');
    if let (Some(leaf), Some(earliest)) = (r.leaf_expiry(), r.earliest_expiry()) {
        out.push_str(&format!(
            "Leaf expires: {} ({} days); chain's earliest expiry: {} ({} days)\n",
            utc(leaf),
            days_until(r.now, leaf),
            utc(earliest),
            days_until(r.now, earliest)
        ));
    }
    out.push_str(&chain_table(&h.chain));
    out
}

/// The chain, one block per certificate, as sent.
pub fn chain_table(chain: &[CertInfo]) -> String {
    let mut out = format!("Chain as sent ({} certificates):\n", chain.len());
    for (i, c) in chain.iter().enumerate() {
        if let Some(e) = &c.parse_error {
            out.push_str(&format!(" {i} {e}\n   sha256 {}\n", c.fingerprint_sha256));
            continue;
        }
        out.push_str(&format!(" {i} subject  {}\n", c.subject));
        out.push_str(&format!(
            "   issuer   {}{}\n",
            c.issuer,
            if c.self_signed { " (self-signed)" } else { "" }
        ));
        if !c.sans.is_empty() {
            out.push_str(&format!("   SANs     {}\n", c.sans.join(", ")));
        }
        out.push_str(&format!(
            "   valid    {} to {}\n",
            utc(c.not_before),
            utc(c.not_after)
        ));
        out.push_str(&format!(
            "   key      {} {} bits, serial {}\n",
            c.key_type, c.key_bits, c.serial
        ));
        out.push_str(&format!("   sha256   {}\n", c.fingerprint_sha256));
    }
    out
}

/// The report as JSON (the `report` member of netkit's output).
pub fn report_json(r: &TlsReport) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["verified"] = json!(r.handshake.verification.verified());
    v["leaf_expiry"] = json!(r.leaf_expiry());
    v["earliest_expiry"] = json!(r.earliest_expiry());
    v["leaf_days_left"] = json!(r.leaf_expiry().map(|t| days_until(r.now, t)));
    v["earliest_days_left"] = json!(r.earliest_expiry().map(|t| days_until(r.now, t)));
    v
}

/// At most `max` characters of `s`, with `...` when cut.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// `HOST:PORT`, `[V6]:PORT`, or `HOST` alone (then `default_port`).
pub fn split_target(text: &str, default_port: u16) -> Result<(String, u16), String> {
    let bare = !text.contains(':') || (text.starts_with('[') && text.ends_with(']'));
    if bare && !text.is_empty() {
        return Ok((
            text.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            default_port,
        ));
    }
    probe_proto::split_target(text)
}
