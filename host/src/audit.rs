//! A record of every network attempt a guest made, allowed or denied.
//!
//! Bounded whatever the guest does: at most [`MAX_EVENTS`] events and
//! [`MAX_TEXT_BYTES`] of text are kept (past that, events are counted, never
//! buffered); each guest-chosen text (a name) is escaped and cut to
//! [`MAX_TARGET_BYTES`]; denial lines on stderr are rate-limited and the rest
//! summarised per operation and address. Counts stay exact.

use crate::policy::{NetGrant, ResolvedPolicy, use_name};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;
use wasmtime_wasi::sockets::SocketAddrUse;

/// Events kept in memory at most; later ones are counted, not stored.
pub const MAX_EVENTS: usize = 100_000;
/// Text (names, reasons) kept at most over all events.
pub const MAX_TEXT_BYTES: usize = 4 << 20;
/// Longest target kept or printed; the rest is replaced by its length.
pub const MAX_TARGET_BYTES: usize = 256;
/// Denial lines printed at once before rate limiting starts.
const DENIAL_BURST: u32 = 20;
/// Denial lines printed per second after the burst.
const DENIALS_PER_SECOND: u32 = 5;
/// Distinct (operation, address) pairs summarised one by one; the rest together.
const SUMMARY_KEYS: usize = 16;

/// One attempt; the JSON keys are the `--audit` table's column headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Milliseconds since the guest started.
    pub ms: u64,
    /// The operation, e.g. `tcp-connect`.
    pub operation: String,
    /// The address or name, e.g. `127.0.0.1:7007`, escaped and bounded.
    pub address: String,
    /// `allowed` or `denied`.
    pub result: &'static str,
    /// The grant that allowed it.
    pub grant: Option<String>,
}

impl Event {
    /// Whether it was allowed.
    pub fn allowed(&self) -> bool {
        self.result == "allowed"
    }
}

/// `text` safe for a terminal or a log: control characters (newlines, escape
/// sequences) shown escaped, and at most `max` bytes, the rest replaced by a count.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.char_indices() {
        if out.len() >= max {
            out.push_str(&format!("…(+{} bytes)", text.len() - i));
            break;
        }
        out.push_str(&probe_proto::escape_controls(c.encode_utf8(&mut [0; 4])));
    }
    out
}

/// What was tried, kept unformatted: address checks happen on every bind, connect
/// and accept, and formatting them there cost a few µs per embedded query.
#[derive(Debug)]
enum Target {
    Addr(SocketAddr),
    Ip(IpAddr),
    Text(String),
}

#[derive(Debug)]
enum Allowed {
    Grant(NetGrant),
    Text(String),
}

/// An [`Event`] before formatting.
#[derive(Debug)]
struct Raw {
    at_ms: u64,
    op: &'static str,
    target: Target,
    grant: Option<Allowed>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Addr(a) => a.fmt(f),
            Target::Ip(a) => a.fmt(f),
            Target::Text(t) => f.write_str(t),
        }
    }
}

impl Raw {
    fn event(&self) -> Event {
        Event {
            ms: self.at_ms,
            operation: self.op.to_string(),
            address: self.target.to_string(),
            result: if self.grant.is_some() {
                "allowed"
            } else {
                "denied"
            },
            grant: self.grant.as_ref().map(|g| match g {
                Allowed::Grant(g) => g.to_string(),
                Allowed::Text(t) => t.clone(),
            }),
        }
    }
}

#[derive(Debug, Default)]
struct Log {
    kept: Vec<Raw>,
    text_bytes: usize,
    overflow: u64,
    total: u64,
    denied: u64,
    /// Denial lines the rate limit may still print, and when it last refilled.
    allowance: u32,
    refilled_ms: u64,
    /// Denials not printed, per (operation, address); the rest under `other`.
    suppressed: BTreeMap<(&'static str, String), u64>,
    suppressed_other: u64,
    /// Denied attempts by operation, exact (whatever was kept).
    denied_by_op: BTreeMap<&'static str, u64>,
}

/// A thread-safe log of [`Event`]s; denials are also printed to stderr as they happen.
#[derive(Debug)]
pub struct Audit {
    label: String,
    started: Instant,
    quiet: bool,
    max_events: usize,
    max_text: usize,
    log: Mutex<Log>,
}

impl Audit {
    /// An empty audit whose stderr lines start with `label`; `quiet` silences them.
    pub fn new(label: impl Into<String>, quiet: bool) -> Self {
        Self::bounded(label, quiet, MAX_EVENTS, MAX_TEXT_BYTES)
    }

    /// Like [`Audit::new`], keeping at most `max_events` events and
    /// `max_text` bytes of their text (counts stay exact): what a daemon
    /// running many sandboxes at once keeps per run.
    pub fn bounded(
        label: impl Into<String>,
        quiet: bool,
        max_events: usize,
        max_text: usize,
    ) -> Self {
        Self {
            label: label.into(),
            started: Instant::now(),
            quiet,
            max_events: max_events.min(MAX_EVENTS),
            max_text: max_text.min(MAX_TEXT_BYTES),
            log: Mutex::new(Log {
                allowance: DENIAL_BURST,
                ..Log::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record an attempt described in text (e.g. a name lookup); `grant` says why
    /// it was allowed. The text is escaped and bounded before it is kept.
    pub fn record(&self, op: &'static str, target: String, grant: Option<String>) {
        let target = printable(&target, MAX_TARGET_BYTES);
        self.push(op, Target::Text(target), grant.map(Allowed::Text));
    }

    /// Check `use_` of `addr` against `policy` and record the attempt: the one
    /// address check behind wasmtime-wasi's TCP (its hook) and netkit's UDP.
    ///
    /// An implicit bind (the wildcard address, port 0: what wasmtime-wasi checks
    /// before a connect or a first send) that no grant covers passes unrecorded:
    /// it reaches no peer, and the connect or send after it is checked and
    /// recorded with the destination the guest wanted (a refusal of the bind
    /// would hide that). A listen after it is checked at the real address.
    pub fn check(&self, policy: &ResolvedPolicy, addr: SocketAddr, use_: SocketAddrUse) -> bool {
        let grant = policy.check(addr, use_);
        let implicit_bind = addr.ip().is_unspecified()
            && addr.port() == 0
            && matches!(use_, SocketAddrUse::TcpBind | SocketAddrUse::UdpBind);
        if grant.is_none() && implicit_bind {
            return true;
        }
        self.record_check(use_name(use_), addr, grant);
        grant.is_some()
    }

    /// Check an ICMP echo to `ip` against `policy` and record it (operation `icmp-echo`).
    pub fn check_icmp(&self, policy: &ResolvedPolicy, ip: IpAddr) -> bool {
        let grant = policy.check_icmp(ip);
        self.record_icmp(ip, grant);
        grant.is_some()
    }

    /// Record an ICMP echo to `ip` and the grant that allowed it, if any.
    pub fn record_icmp(&self, ip: IpAddr, grant: Option<&NetGrant>) {
        self.push(
            "icmp-echo",
            Target::Ip(ip),
            grant.cloned().map(Allowed::Grant),
        );
    }

    /// Record an address check and the grant that allowed it, if any.
    pub fn record_check(&self, op: &'static str, addr: SocketAddr, grant: Option<&NetGrant>) {
        self.push(op, Target::Addr(addr), grant.cloned().map(Allowed::Grant));
    }

    fn push(&self, op: &'static str, target: Target, grant: Option<Allowed>) {
        let at_ms = self.started.elapsed().as_millis() as u64;
        let denied = grant.is_none();
        let mut log = self.lock();
        log.total += 1;
        if denied {
            log.denied += 1;
            *log.denied_by_op.entry(op).or_default() += 1;
            if !self.quiet {
                self.print_denial(&mut log, at_ms, op, &target);
            }
        }
        let text = match &target {
            Target::Text(t) => t.len(),
            Target::Addr(_) | Target::Ip(_) => 0,
        } + match &grant {
            Some(Allowed::Text(t)) => t.len(),
            _ => 0,
        };
        if log.kept.len() < self.max_events && log.text_bytes + text <= self.max_text {
            log.text_bytes += text;
            log.kept.push(Raw {
                at_ms,
                op,
                target,
                grant,
            });
        } else {
            log.overflow += 1;
        }
    }

    /// Print a denial line, or count it for the summary once the rate limit bites.
    fn print_denial(&self, log: &mut Log, at_ms: u64, op: &'static str, target: &Target) {
        let refill =
            (at_ms.saturating_sub(log.refilled_ms) * u64::from(DENIALS_PER_SECOND) / 1000) as u32;
        if refill > 0 {
            log.allowance = (log.allowance + refill).min(DENIAL_BURST);
            log.refilled_ms = at_ms;
        }
        if log.allowance > 0 {
            log.allowance -= 1;
            eprintln!(
                "netkit: {}: denied {op} {target}: no grant covers it",
                self.label
            );
            return;
        }
        let key = (op, target.to_string());
        if let Some(n) = log.suppressed.get_mut(&key) {
            *n += 1;
        } else if log.suppressed.len() < SUMMARY_KEYS {
            log.suppressed.insert(key, 1);
        } else {
            log.suppressed_other += 1;
        }
    }

    /// Print the summary of denials the rate limit kept off stderr
    /// ("… and 29871 more denied tcp-connect to 127.0.0.1:41002"), once.
    pub fn flush_denials(&self) {
        let mut log = self.lock();
        for ((op, target), n) in std::mem::take(&mut log.suppressed) {
            eprintln!(
                "netkit: {}: … and {n} more denied {op} to {target}",
                self.label
            );
        }
        let other = std::mem::take(&mut log.suppressed_other);
        if other > 0 {
            eprintln!("netkit: {}: … and {other} more denials", self.label);
        }
    }

    /// The events kept (see [`Audit::overflow`] for those that were not).
    pub fn events(&self) -> Vec<Event> {
        self.lock().kept.iter().map(Raw::event).collect()
    }

    /// Events counted but not kept because the log was full.
    pub fn overflow(&self) -> u64 {
        self.lock().overflow
    }

    /// Number of attempts, exact.
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Number of denied attempts, exact.
    pub fn denied(&self) -> u64 {
        self.lock().denied
    }

    /// Denied attempts by operation, exact (not only the kept events).
    pub fn denied_by_operation(&self) -> BTreeMap<&'static str, u64> {
        self.lock().denied_by_op.clone()
    }

    /// The most memory this audit can hold, in bytes (an upper bound: kept
    /// events, their text and the summaries).
    pub fn max_bytes(&self) -> usize {
        self.max_events * std::mem::size_of::<Raw>()
            + self.max_text
            + SUMMARY_KEYS * (MAX_TARGET_BYTES + 64)
    }

    /// A table of the events, one line each, for `--audit`.
    pub fn table(&self) -> String {
        self.table_titled(None)
    }

    /// [`Audit::table`] with what ran named in its title (`audit of dns (oci://…@sha256:…):`).
    pub fn table_titled(&self, subject: Option<&str>) -> String {
        let title = match subject {
            Some(s) => format!("{} ({s})", self.label),
            None => self.label.clone(),
        };
        let mut out = format!(
            "audit of {title}:\n{:>8}  {:<12} {:<44} {:<8} grant\n",
            "ms", "operation", "address", "result"
        );
        for e in self.events() {
            out.push_str(&format!(
                "{:>8}  {:<12} {:<44} {:<8} {}\n",
                e.ms,
                e.operation,
                e.address,
                if e.allowed() { "allowed" } else { "DENIED" },
                e.grant.as_deref().unwrap_or("-")
            ));
        }
        let overflow = self.overflow();
        if overflow > 0 {
            out.push_str(&format!("(and {overflow} more events not kept)\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_counts_are_exact_past_the_kept_events() {
        // Regression (issue 20): watch counted denials from the kept events, so
        // 100,000 allowed sends followed by 50 denied ones reported 0 denied.
        let a = Audit::bounded("t", true, 16, 1024);
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        for _ in 0..100_000 {
            a.record("udp-send", "127.0.0.1:1".into(), Some("g".into()));
        }
        for _ in 0..50 {
            a.record_check("udp-send", addr, None);
        }
        assert_eq!(a.events().len(), 16);
        assert_eq!((a.total(), a.denied()), (100_050, 50));
        assert_eq!(a.denied_by_operation().get("udp-send"), Some(&50));
        assert!(a.max_bytes() < 64 << 10, "{}", a.max_bytes());
    }

    #[test]
    fn records_allowed_and_denied() {
        let a = Audit::new("t", true);
        a.record("tcp-connect", "127.0.0.1:1".into(), Some("g".into()));
        a.record("tcp-connect", "127.0.0.1:2".into(), None);
        assert_eq!(a.events().len(), 2);
        assert_eq!(a.denied(), 1);
        assert!(a.table().contains("DENIED"));
    }

    #[test]
    fn guest_text_is_escaped_and_bounded() {
        let forged = "x\n  0  tcp-connect 10.0.0.1:443 allowed\x1b[8m";
        let shown = printable(forged, 256);
        assert!(!shown.contains('\n') && !shown.contains('\x1b'), "{shown}");
        assert!(
            shown.contains("\\n") && shown.contains("\\u{1b}"),
            "{shown}"
        );
        let long = "a".repeat(10_000);
        let shown = printable(&long, 256);
        assert!(
            shown.len() < 300 && shown.ends_with("(+9744 bytes)"),
            "{shown}"
        );
    }

    #[test]
    fn memory_is_bounded_in_bytes_and_counts_stay_exact() {
        let a = Audit::new("t", true);
        let name = "n".repeat(8 << 20);
        for _ in 0..1000 {
            a.record("lookup", name.clone(), None);
        }
        assert_eq!(a.total(), 1000);
        assert_eq!(a.denied(), 1000);
        let kept: usize = a.events().iter().map(|e| e.address.len()).sum();
        assert!(kept <= MAX_TEXT_BYTES, "{kept}");
    }

    #[test]
    fn events_past_the_cap_are_counted_not_kept() {
        let a = Audit::new("t", true);
        for i in 0..(MAX_EVENTS + 10) {
            a.record_check(
                "udp-send",
                SocketAddr::from(([127, 0, 0, 1], i as u16)),
                None,
            );
        }
        assert_eq!(a.events().len(), MAX_EVENTS);
        assert_eq!(a.overflow(), 10);
        assert_eq!(a.denied(), MAX_EVENTS as u64 + 10);
    }
}
