//! Which HTTP connections `netkit watch` keeps when too many are open: a
//! connection that has waited longest for a complete request head (a
//! slowloris, or an idle keep-alive) is closed to make room for a new one, so
//! a client that sends its whole head promptly (Prometheus) is always served;
//! one source address may hold only so many at once. A connection counts as
//! waiting only once a read of it found nothing more to read (the server
//! asked, the client had not sent its head): a new connection whose head is
//! already there is never closed before the server read it, however many
//! connections arrive meanwhile. blackbox_exporter holds
//! every connection until the process runs out of file descriptors; a plain
//! cap turns that into the same denial (issue 31).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// Why a connection was closed by the policy (the `reason` label of
/// `netkit_http_connections_rejected_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The cap was reached: the connection waiting longest for a request head was closed.
    Evicted,
    /// The cap was reached and every open connection was busy: the new one was closed.
    MaxConnections,
    /// Its source already held `--web.max-connections-per-source`: the new one was closed.
    PerSource,
}

impl Rejected {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejected::Evicted => "evicted",
            Rejected::MaxConnections => "max_connections",
            Rejected::PerSource => "per_source",
        }
    }
}

/// A source as the per-source limit counts it: an IPv4 address, or an IPv6 /64
/// (one host usually holds a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source(u128);

impl Source {
    /// The source of `ip` (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Source(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(u128::from(u32::from(v4))),
                None => Source((u128::from(v6) >> 64) | (1 << 127)),
            },
        }
    }
}

/// How long a connection may stay new (opened, or answered, and not yet
/// found waiting) before it too may be closed to make room: one whose answer
/// a client does not read is never read from again, so it never shows as
/// waiting (a slow reader of a large `/metrics`).
pub const FRESH_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Opened or answered; not yet read from without finding a whole head.
    Fresh,
    /// A read found the head incomplete: may be closed to make room.
    Waiting,
    /// A request is being served.
    Serving,
}

struct Entry {
    source: Source,
    /// Since when it has been open or idle after an answer.
    since: Instant,
    state: State,
    close: Arc<Notify>,
}

#[derive(Default)]
struct Table {
    next: u64,
    open: HashMap<u64, Entry>,
    per_source: HashMap<Source, usize>,
    /// Connections waiting for a request head, oldest first.
    waiting: BTreeSet<(Instant, u64)>,
    /// New connections, oldest first.
    fresh: BTreeSet<(Instant, u64)>,
}

impl Table {
    fn set(&mut self, id: u64, state: State, since: Option<Instant>) {
        let Some(e) = self.open.get_mut(&id) else {
            return;
        };
        match e.state {
            State::Waiting => self.waiting.remove(&(e.since, id)),
            State::Fresh => self.fresh.remove(&(e.since, id)),
            State::Serving => false,
        };
        if let Some(t) = since {
            e.since = t;
        }
        e.state = state;
        match state {
            State::Waiting => self.waiting.insert((e.since, id)),
            State::Fresh => self.fresh.insert((e.since, id)),
            State::Serving => false,
        };
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        self.set(id, State::Serving, None);
        let e = self.open.remove(&id)?;
        if let Some(n) = self.per_source.get_mut(&e.source) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&e.source);
            }
        }
        Some(e)
    }

    /// The connection to close to make room at `now` (of `source` only,
    /// when given): the one waiting longest, else a new one older than
    /// [`FRESH_GRACE`].
    fn victim(&self, now: Instant, source: Option<Source>) -> Option<u64> {
        let of = |id: &u64| source.is_none_or(|s| self.open.get(id).is_some_and(|e| e.source == s));
        if let Some(&(_, id)) = self.waiting.iter().find(|(_, id)| of(id)) {
            return Some(id);
        }
        self.fresh
            .iter()
            .take_while(|(since, _)| now.saturating_duration_since(*since) >= FRESH_GRACE)
            .find(|(_, id)| of(id))
            .map(|&(_, id)| id)
    }

    /// Close `id` to make room.
    fn evict(&mut self, id: u64) {
        if let Some(e) = self.remove(id) {
            // notify_one keeps a permit if the task is not waiting yet.
            e.close.notify_one();
        }
    }
}

/// The open connections and the limits on them.
pub struct Connections {
    max: usize,
    per_source: usize,
    table: Mutex<Table>,
    /// Signalled when a connection ends or begins to wait (room may be made).
    room: Notify,
}

/// What admitting a connection did.
#[derive(Debug)]
pub struct Admitted {
    /// The new connection's place in the table (dropping it frees the place).
    pub ticket: Ticket,
    /// Another connection closed to make room, and why: `Evicted` (the
    /// cap), `PerSource` (its source's limit: one of the same source's).
    pub evicted: Option<Rejected>,
}

impl Connections {
    /// At most `max` connections, `per_source` of them from one source.
    pub fn new(max: usize, per_source: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            per_source: per_source.max(1),
            table: Mutex::new(Table::default()),
            room: Notify::new(),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves when a connection ended or began to wait since the last call:
    /// an admission refused with [`Rejected::MaxConnections`] may be tried again.
    pub async fn room(&self) {
        self.room.notified().await
    }

    /// Open connections now.
    pub fn open(&self) -> usize {
        self.table().open.len()
    }

    /// Admit a connection from `source` accepted at `now`; at the cap, close
    /// the one that has waited longest for a request head, or refuse this one
    /// when none is waiting; a source at its own limit, the same among its
    /// own connections.
    pub fn admit(self: &Arc<Self>, source: Source, now: Instant) -> Result<Admitted, Rejected> {
        let mut t = self.table();
        let mut evicted = None;
        if t.per_source.get(&source).copied().unwrap_or(0) >= self.per_source {
            // A source at its limit makes room among its own connections.
            let Some(victim) = t.victim(now, Some(source)) else {
                return Err(Rejected::PerSource);
            };
            t.evict(victim);
            evicted = Some(Rejected::PerSource);
        } else if t.open.len() >= self.max {
            let Some(victim) = t.victim(now, None) else {
                return Err(Rejected::MaxConnections);
            };
            t.evict(victim);
            evicted = Some(Rejected::Evicted);
        }
        let id = t.next;
        t.next += 1;
        let close = Arc::new(Notify::new());
        t.open.insert(
            id,
            Entry {
                source,
                since: now,
                state: State::Serving,
                close: close.clone(),
            },
        );
        t.set(id, State::Fresh, None);
        *t.per_source.entry(source).or_insert(0) += 1;
        Ok(Admitted {
            ticket: Ticket {
                id,
                close,
                table: self.clone(),
                fresh: AtomicBool::new(true),
            },
            evicted,
        })
    }
}

/// One admitted connection: says when it serves a request and when it waits
/// again; dropping it (the connection ended) frees its place.
pub struct Ticket {
    id: u64,
    close: Arc<Notify>,
    table: Arc<Connections>,
    /// Not serving and not yet found waiting (the lock is taken only then).
    fresh: AtomicBool,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("id", &self.id).finish()
    }
}

impl Ticket {
    /// A whole request head arrived: the connection is not evicted while it is served.
    pub fn serving(&self) {
        self.fresh.store(false, Ordering::Relaxed);
        self.table.table().set(self.id, State::Serving, None);
    }

    /// The answer was given at `now`: the next head is awaited from then.
    pub fn answered(&self, now: Instant) {
        self.table.table().set(self.id, State::Fresh, Some(now));
        self.fresh.store(true, Ordering::Relaxed);
    }

    /// A read found nothing more to read: if no request is being served, the
    /// connection is waiting for a head, and may be closed to make room.
    pub fn stalled(&self) {
        if self.fresh.swap(false, Ordering::Relaxed) {
            self.table.table().set(self.id, State::Waiting, None);
            self.table.room.notify_one();
        }
    }

    /// Resolves when the policy closed this connection to make room.
    pub async fn closed(&self) {
        self.close.notified().await
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.table.table().remove(self.id);
        self.table.room.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn was_closed(t: &Ticket) -> bool {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let mut f = std::pin::pin!(t.closed());
        matches!(
            f.as_mut().poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(())
        )
    }

    fn src(n: u8) -> Source {
        Source::of(IpAddr::from([127, 0, 0, n]))
    }

    #[test]
    fn at_the_cap_the_longest_waiting_is_closed() {
        let c = Connections::new(3, 10);
        let t0 = Instant::now();
        let a = c.admit(src(1), t0).unwrap();
        let b = c.admit(src(2), t0 + Duration::from_secs(1)).unwrap();
        let d = c.admit(src(3), t0 + Duration::from_secs(2)).unwrap();
        assert!(a.evicted.is_none() && b.evicted.is_none() && d.evicted.is_none());
        for x in [&b, &a, &d] {
            x.ticket.stalled();
        }
        let e = c.admit(src(4), t0 + Duration::from_secs(3)).unwrap();
        assert_eq!(e.evicted, Some(Rejected::Evicted));
        assert_eq!(c.open(), 3);
        // a was told to close; b was not.
        let waker = was_closed(&a.ticket);
        assert!(waker, "the oldest waiting connection is closed");
        let b_closed = was_closed(&b.ticket);
        assert!(!b_closed);
    }

    #[test]
    fn a_connection_being_served_is_never_closed() {
        let c = Connections::new(2, 10);
        let t0 = Instant::now();
        let prometheus = c.admit(src(1), t0).unwrap();
        prometheus.ticket.serving();
        prometheus.ticket.stalled(); // reading the body, say: still serving
        let slow = c.admit(src(2), t0 + Duration::from_secs(1)).unwrap();
        slow.ticket.stalled();
        let next = c.admit(src(3), t0 + Duration::from_secs(2)).unwrap();
        assert!(next.evicted.is_some());
        let p = was_closed(&prometheus.ticket);
        assert!(!p, "the request being served stays");
        let s = was_closed(&slow.ticket);
        assert!(s);
    }

    #[test]
    fn all_busy_refuses_the_new_one() {
        let c = Connections::new(1, 10);
        let a = c.admit(src(1), Instant::now()).unwrap();
        a.ticket.serving();
        assert_eq!(
            c.admit(src(2), Instant::now()).unwrap_err(),
            Rejected::MaxConnections
        );
        // Answered, then idle (keep-alive) with nothing to read: it may be closed to make room.
        a.ticket.answered(Instant::now());
        assert_eq!(
            c.admit(src(2), Instant::now()).unwrap_err(),
            Rejected::MaxConnections
        );
        a.ticket.stalled();
        assert!(c.admit(src(2), Instant::now()).unwrap().evicted.is_some());
    }

    #[test]
    fn per_source_limit_makes_room_among_its_own_or_refuses() {
        let c = Connections::new(100, 2);
        let a = c.admit(src(1), Instant::now()).unwrap();
        let b = c.admit(src(1), Instant::now()).unwrap();
        // Both new (not yet read): the third from that source is refused.
        assert_eq!(
            c.admit(src(1), Instant::now()).unwrap_err(),
            Rejected::PerSource
        );
        assert!(c.admit(src(2), Instant::now()).is_ok());
        // One of its own waits for a head: closed to make room for the new one.
        b.ticket.stalled();
        let third = c.admit(src(1), Instant::now()).unwrap();
        assert_eq!(third.evicted, Some(Rejected::PerSource));
        assert!(was_closed(&b.ticket) && !was_closed(&a.ticket));
        drop(third);
        assert!(c.admit(src(1), Instant::now()).is_ok());
    }

    #[test]
    fn ipv6_sources_count_by_64_and_mapped_as_ipv4() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        let other: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(Source::of(a), Source::of(b));
        assert_ne!(Source::of(a), Source::of(other));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(Source::of(mapped), src(1));
        // An IPv6 /64 never equals an IPv4 address.
        assert_ne!(Source::of("::7f00:1".parse().unwrap()), src(1));
    }

    #[test]
    fn a_new_connection_is_not_closed_before_the_server_read_it() {
        // Issue 31: under 30,000 renewing connections a scraper's connection,
        // its whole head already sent, was closed before it was first read.
        let c = Connections::new(2, 10);
        let t0 = Instant::now();
        let scraper = c.admit(src(1), t0).unwrap();
        let slow = c.admit(src(2), t0 + Duration::from_millis(10)).unwrap();
        slow.ticket.stalled();
        let third = c.admit(src(3), t0 + Duration::from_millis(20)).unwrap();
        assert!(third.evicted.is_some());
        assert!(!was_closed(&scraper.ticket) && was_closed(&slow.ticket));
        // Only new connections, none read yet: the newest is refused instead.
        assert_eq!(
            c.admit(src(4), t0 + Duration::from_millis(30)).unwrap_err(),
            Rejected::MaxConnections
        );
    }

    #[test]
    fn a_connection_new_for_longer_than_the_grace_may_be_closed() {
        // A client that never reads its answer is never read from again, so it
        // never shows as waiting: past the grace it is closed to make room.
        let c = Connections::new(1, 10);
        let t0 = Instant::now();
        let reader = c.admit(src(1), t0).unwrap();
        reader.ticket.serving();
        reader.ticket.answered(t0);
        assert_eq!(
            c.admit(src(2), t0 + FRESH_GRACE / 2).unwrap_err(),
            Rejected::MaxConnections
        );
        let next = c.admit(src(2), t0 + FRESH_GRACE).unwrap();
        assert!(next.evicted.is_some() && was_closed(&reader.ticket));
    }

    #[test]
    fn dropped_evicted_ticket_leaves_the_table_consistent() {
        let c = Connections::new(1, 10);
        let a = c.admit(src(1), Instant::now()).unwrap();
        a.ticket.stalled();
        let b = c.admit(src(2), Instant::now()).unwrap();
        assert!(b.evicted.is_some());
        drop(a); // the evicted task ends later: its drop must not free b's place
        assert_eq!(c.open(), 1);
        drop(b);
        assert_eq!(c.open(), 0);
    }
}
