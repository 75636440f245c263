//! One ping run as a state machine: when to send, when to stop, and what
//! each event from the ICMP capability means for the run.

use super::Options;
use super::stats::{Rtts, Statistics};
use std::collections::BTreeMap;

/// What the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the request with this sequence number now, then call [`Session::sent`].
    Send(u16),
    /// Wait for an event until this time (monotonic ns), or without a time limit.
    Wait(Option<u64>),
    /// The run is over.
    Done,
}

/// What an ICMP error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpKind {
    Unreachable,
    TimeExceeded,
    Other,
}

/// An event from the ICMP capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A reply (the host says whether another one came before).
    Reply {
        seq: u16,
        size: u32,
        source: String,
        hop_limit: Option<u8>,
        rtt_ns: u64,
        duplicate: bool,
    },
    /// No reply before the timeout.
    Timeout(u16),
    /// An ICMP error about a request.
    Icmp {
        seq: u16,
        kind: IcmpKind,
        from: String,
        icmp_type: u8,
        code: u8,
    },
}

/// A reply as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub sequence: u16,
    pub size: u32,
    pub source: String,
    pub hop_limit: Option<u8>,
    pub rtt_ns: u64,
    pub duplicate: bool,
    /// A reply to a later request came first.
    pub out_of_order: bool,
}

/// An ICMP error as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpError {
    pub sequence: u16,
    pub kind: IcmpKind,
    pub from: String,
    pub icmp_type: u8,
    pub code: u8,
    /// iputils' words for it.
    pub detail: String,
}

/// What happened, as the run reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Reply(Reply),
    Lost(u16),
    Error(IcmpError),
}

/// A ping run.
#[derive(Debug)]
pub struct Session {
    options: Options,
    v6: bool,
    started_ns: Option<u64>,
    next_send_ns: u64,
    /// Requests sent so far; also the index of the next one.
    sent: u64,
    /// Sequence number → index of the request, while it may still be answered.
    open: BTreeMap<u16, u64>,
    /// The highest index answered so far.
    highest_answered: Option<u64>,
    stats: Statistics,
    rtts: Rtts,
    last_ns: u64,
    stopped: bool,
}

impl Session {
    /// A run with `options` to an address of the family `v6`.
    pub fn new(options: Options, v6: bool) -> Self {
        Self {
            options,
            v6,
            started_ns: None,
            next_send_ns: 0,
            sent: 0,
            open: BTreeMap::new(),
            highest_answered: None,
            stats: Statistics::default(),
            rtts: Rtts::default(),
            last_ns: 0,
            stopped: false,
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn deadline(&self) -> Option<u64> {
        Some(self.started_ns?.saturating_add(self.options.deadline_ns?))
    }

    fn more_to_send(&self) -> bool {
        self.options.count.is_none_or(|c| self.sent < u64::from(c))
    }

    /// The sequence number of request `index`: 1, 2, ... wrapping past 65535 to 0.
    fn seq_of(index: u64) -> u16 {
        (index + 1) as u16
    }

    /// What to do at `now_ns`.
    pub fn poll(&mut self, now_ns: u64) -> Action {
        self.last_ns = self.last_ns.max(now_ns);
        if self.stopped || self.deadline().is_some_and(|d| now_ns >= d) {
            self.stopped = true;
            return Action::Done;
        }
        let seq = Self::seq_of(self.sent);
        // A sequence number still open (after a wrap, with more than 65536 in
        // flight) waits until it is answered or times out.
        let blocked = self.open.contains_key(&seq);
        if self.more_to_send() && now_ns >= self.next_send_ns && !blocked {
            return Action::Send(seq);
        }
        if !self.more_to_send() && self.open.is_empty() {
            self.stopped = true;
            return Action::Done;
        }
        // Blocked on an open sequence number, only an event (or the deadline) moves the run on.
        let next_send = (self.more_to_send() && !blocked).then_some(self.next_send_ns);
        let until = match (next_send, self.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Action::Wait(until)
    }

    /// Request `seq` went out at `now_ns`.
    pub fn sent(&mut self, seq: u16, now_ns: u64) {
        let start = *self.started_ns.get_or_insert(now_ns);
        self.open.insert(seq, self.sent);
        self.sent += 1;
        self.stats.transmitted = self.stats.transmitted.saturating_add(1);
        // Paced from the first send, as iputils paces: a late wake-up does not
        // push every later request back.
        self.next_send_ns =
            start.saturating_add(self.options.interval_ns.saturating_mul(self.sent));
        if self.next_send_ns < now_ns {
            self.next_send_ns = now_ns;
        }
        self.last_ns = self.last_ns.max(now_ns);
    }

    /// A request could not be sent (the capability refused it): it counts as
    /// transmitted and lost, as iputils counts a failed sendto.
    pub fn send_failed(&mut self, now_ns: u64) {
        let seq = Self::seq_of(self.sent);
        self.sent(seq, now_ns);
        self.open.remove(&seq);
    }

    /// Stop now (an interrupt): the statistics are final.
    pub fn stop(&mut self, now_ns: u64) {
        self.last_ns = self.last_ns.max(now_ns);
        self.stopped = true;
    }

    /// What `event` at `now_ns` means; `None` for one that concerns no request
    /// of this run (the capability should not deliver those).
    pub fn event(&mut self, event: Event, now_ns: u64) -> Option<Shown> {
        self.last_ns = self.last_ns.max(now_ns);
        match event {
            Event::Reply {
                seq,
                size,
                source,
                hop_limit,
                rtt_ns,
                duplicate,
            } => {
                let index = self.open.get(&seq).copied();
                let duplicate = duplicate || index.is_none();
                let mut out_of_order = false;
                if duplicate {
                    self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                } else if let Some(index) = index {
                    out_of_order = self.highest_answered.is_some_and(|h| index < h);
                    self.highest_answered =
                        Some(self.highest_answered.map_or(index, |h| h.max(index)));
                    self.open.remove(&seq);
                    self.stats.received = self.stats.received.saturating_add(1);
                }
                self.rtts.add(rtt_ns);
                Some(Shown::Reply(Reply {
                    sequence: seq,
                    size,
                    source,
                    hop_limit,
                    rtt_ns,
                    duplicate,
                    out_of_order,
                }))
            }
            Event::Timeout(seq) => {
                self.open.remove(&seq)?;
                Some(Shown::Lost(seq))
            }
            Event::Icmp {
                seq,
                kind,
                from,
                icmp_type,
                code,
            } => {
                self.open.remove(&seq);
                self.stats.errors = self.stats.errors.saturating_add(1);
                Some(Shown::Error(IcmpError {
                    sequence: seq,
                    kind,
                    detail: super::text::icmp_words(self.v6, kind, icmp_type, code),
                    from,
                    icmp_type,
                    code,
                }))
            }
        }
    }

    /// The statistics so far.
    pub fn statistics(&self) -> Statistics {
        let mut s = self.stats.clone();
        s.time_ns = self
            .started_ns
            .map_or(0, |t| self.last_ns.saturating_sub(t));
        if let Some((min, avg, max, mdev)) = self.rtts.summary() {
            s.rtt_min_ns = Some(min);
            s.rtt_avg_ns = Some(avg);
            s.rtt_max_ns = Some(max);
            s.rtt_mdev_ns = Some(mdev);
        }
        s
    }

    /// Whether the run is over.
    pub fn done(&self) -> bool {
        self.stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn reply(seq: u16, rtt_ms: u64, duplicate: bool) -> Event {
        Event::Reply {
            seq,
            size: 64,
            source: "127.0.0.1".into(),
            hop_limit: Some(64),
            rtt_ns: rtt_ms * MS,
            duplicate,
        }
    }

    fn opts(count: Option<u32>) -> Options {
        Options {
            count,
            interval_ns: 100 * MS,
            timeout_ns: 1000 * MS,
            ..Options::default()
        }
    }

    #[test]
    fn sends_on_schedule_and_ends_when_all_are_answered() {
        let mut s = Session::new(opts(Some(2)), false);
        assert_eq!(s.poll(0), Action::Send(1));
        s.sent(1, 0);
        assert_eq!(s.poll(10 * MS), Action::Wait(Some(100 * MS)));
        assert!(
            matches!(s.event(reply(1, 5, false), 10 * MS), Some(Shown::Reply(r)) if !r.duplicate)
        );
        // A late wake-up: the next request goes at once, the one after on the old grid.
        assert_eq!(s.poll(130 * MS), Action::Send(2));
        s.sent(2, 130 * MS);
        assert_eq!(s.poll(131 * MS), Action::Wait(None));
        s.event(reply(2, 7, false), 137 * MS);
        assert_eq!(s.poll(137 * MS), Action::Done);
        let st = s.statistics();
        assert_eq!((st.transmitted, st.received, st.duplicates), (2, 2, 0));
        assert_eq!(st.time_ns, 137 * MS);
        assert_eq!(
            (st.rtt_min_ns, st.rtt_max_ns, st.rtt_avg_ns),
            (Some(5 * MS), Some(7 * MS), Some(6 * MS))
        );
        assert_eq!(st.exit_code(Some(2), false), 0);
    }

    #[test]
    fn duplicates_reordering_and_loss_are_told_apart() {
        let mut s = Session::new(opts(Some(3)), false);
        for (i, seq) in [1u16, 2, 3].into_iter().enumerate() {
            assert_eq!(s.poll(i as u64 * 100 * MS), Action::Send(seq));
            s.sent(seq, i as u64 * 100 * MS);
        }
        let Some(Shown::Reply(r3)) = s.event(reply(3, 1, false), 201 * MS) else {
            panic!()
        };
        assert!(!r3.out_of_order);
        let Some(Shown::Reply(r2)) = s.event(reply(2, 150, false), 250 * MS) else {
            panic!()
        };
        assert!(r2.out_of_order && !r2.duplicate, "{r2:?}");
        // The host flags the second reply; one the run no longer waits for is one too.
        let Some(Shown::Reply(d)) = s.event(reply(2, 151, true), 251 * MS) else {
            panic!()
        };
        assert!(d.duplicate);
        let Some(Shown::Reply(d)) = s.event(reply(3, 60, false), 261 * MS) else {
            panic!()
        };
        assert!(d.duplicate && !d.out_of_order);
        assert_eq!(s.event(Event::Timeout(1), 1000 * MS), Some(Shown::Lost(1)));
        assert_eq!(s.event(Event::Timeout(1), 1000 * MS), None, "once");
        assert_eq!(s.poll(1000 * MS), Action::Done);
        let st = s.statistics();
        assert_eq!((st.transmitted, st.received, st.duplicates), (3, 2, 2));
        assert_eq!(st.exit_code(Some(3), false), 0);
        assert_eq!(st.exit_code(Some(3), true), 1);
    }

    #[test]
    fn the_deadline_ends_an_endless_run() {
        let mut s = Session::new(
            Options {
                deadline_ns: Some(250 * MS),
                ..opts(None)
            },
            false,
        );
        let mut now = 0;
        let mut sent = 0;
        loop {
            match s.poll(now) {
                Action::Send(seq) => {
                    s.sent(seq, now);
                    sent += 1;
                }
                Action::Wait(Some(t)) => now = t,
                Action::Wait(None) => panic!("an endless run always has a next send"),
                Action::Done => break,
            }
        }
        assert_eq!((sent, now), (3, 250 * MS));
        assert_eq!(s.statistics().exit_code(None, true), 1);
    }

    #[test]
    fn sequence_numbers_wrap_and_wait_for_an_open_one() {
        let mut s = Session::new(
            Options {
                interval_ns: 1,
                ..opts(Some(70_000))
            },
            false,
        );
        let mut seqs = Vec::new();
        for now in 0..65_536u64 {
            let Action::Send(seq) = s.poll(now) else {
                panic!("at {now}")
            };
            s.sent(seq, now);
            seqs.push(seq);
        }
        assert_eq!((seqs[0], seqs[65_534], seqs[65_535]), (1, 65_535, 0));
        // Sequence 1 is still open: the next request waits for it.
        assert!(matches!(s.poll(70_000), Action::Wait(_)));
        s.event(reply(1, 1, false), 70_001);
        assert_eq!(s.poll(70_002), Action::Send(1));
    }

    #[test]
    fn icmp_errors_count_and_are_worded() {
        let mut s = Session::new(opts(Some(1)), false);
        let Action::Send(seq) = s.poll(0) else {
            panic!()
        };
        s.sent(seq, 0);
        let e = Event::Icmp {
            seq,
            kind: IcmpKind::Unreachable,
            from: "127.0.0.9".into(),
            icmp_type: 3,
            code: 1,
        };
        let Some(Shown::Error(e)) = s.event(e, MS) else {
            panic!()
        };
        assert_eq!(e.detail, "Destination Host Unreachable");
        assert_eq!(s.poll(MS), Action::Done);
        let st = s.statistics();
        assert_eq!((st.errors, st.received, st.rtt_avg_ns), (1, 0, None));
    }

    #[test]
    fn a_failed_send_is_transmitted_and_lost() {
        let mut s = Session::new(opts(Some(1)), false);
        assert_eq!(s.poll(0), Action::Send(1));
        s.send_failed(0);
        assert_eq!(s.poll(0), Action::Done);
        assert_eq!(s.statistics().transmitted, 1);
    }
}
