//! A record of every network attempt a guest made, allowed or denied.

use crate::policy::NetGrant;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Events kept in memory at most; later ones are counted, not stored.
const MAX_EVENTS: usize = 100_000;

/// One attempt; the JSON keys are the `--audit` table's column headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Milliseconds since the guest started.
    pub ms: u64,
    /// The operation, e.g. `tcp-connect`.
    pub operation: String,
    /// The address or name, e.g. `127.0.0.1:7007`.
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

/// What was tried, kept unformatted: address checks happen on every bind, connect
/// and accept, and formatting them there cost a few µs per embedded query.
#[derive(Debug)]
enum Target {
    Addr(SocketAddr),
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

/// A thread-safe log of [`Event`]s; denials are also printed to stderr as they happen.
#[derive(Debug)]
pub struct Audit {
    label: String,
    started: Instant,
    quiet: bool,
    events: Mutex<(Vec<Raw>, u64)>,
}

impl Audit {
    /// An empty audit whose stderr lines start with `label`; `quiet` silences them.
    pub fn new(label: impl Into<String>, quiet: bool) -> Self {
        Self {
            label: label.into(),
            started: Instant::now(),
            quiet,
            events: Mutex::new((Vec::new(), 0)),
        }
    }

    /// Record an attempt described in text (e.g. a name lookup); `grant` says why it was allowed.
    pub fn record(&self, op: &'static str, target: String, grant: Option<String>) {
        self.push(op, Target::Text(target), grant.map(Allowed::Text));
    }

    /// Record an address check and the grant that allowed it, if any.
    pub fn record_check(&self, op: &'static str, addr: SocketAddr, grant: Option<&NetGrant>) {
        self.push(op, Target::Addr(addr), grant.cloned().map(Allowed::Grant));
    }

    fn push(&self, op: &'static str, target: Target, grant: Option<Allowed>) {
        let raw = Raw {
            at_ms: self.started.elapsed().as_millis() as u64,
            op,
            target,
            grant,
        };
        if raw.grant.is_none() && !self.quiet {
            eprintln!(
                "netkit: {}: denied {op} {}: no grant covers it",
                self.label, raw.target
            );
        }
        let mut guard = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if guard.0.len() < MAX_EVENTS {
            guard.0.push(raw);
        } else {
            guard.1 += 1;
        }
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .iter()
            .map(Raw::event)
            .collect()
    }

    /// Events dropped because the log was full.
    pub fn overflow(&self) -> u64 {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Number of denied attempts.
    pub fn denied(&self) -> usize {
        let guard = self.events.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.iter().filter(|r| r.grant.is_none()).count()
    }

    /// A table of the events, one line each, for `--audit`.
    pub fn table(&self) -> String {
        let mut out = format!(
            "audit of {}:\n{:>8}  {:<12} {:<44} {:<8} grant\n",
            self.label, "ms", "operation", "address", "result"
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
    fn records_allowed_and_denied() {
        let a = Audit::new("t", true);
        a.record("tcp-connect", "127.0.0.1:1".into(), Some("g".into()));
        a.record("tcp-connect", "127.0.0.1:2".into(), None);
        assert_eq!(a.events().len(), 2);
        assert_eq!(a.denied(), 1);
        assert!(a.table().contains("DENIED"));
    }
}
