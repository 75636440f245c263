//! The requests an echo socket has in flight and what came of them: which
//! replies match a request (sequence, payload, source), which are duplicates,
//! when a request times out. Pure: the caller passes the clock in (monotonic
//! nanoseconds) and the socket's bytes; bounded whatever the guest or the
//! network does.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

/// Requests one socket may have in flight (unanswered, or answered and kept
/// until their timeout to recognise duplicates; an answered one is forgotten
/// first when room is needed: it counts no loss).
pub const MAX_IN_FLIGHT: usize = 1024;
/// Events kept for the guest to receive; past it the socket is not read
/// (the kernel's receive buffer holds the rest, or drops it).
pub const MAX_EVENTS: usize = 4096;

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A reply (possibly a duplicate).
    Reply {
        source: IpAddr,
        size: u32,
        hop_limit: Option<u8>,
        rtt_ns: u64,
        duplicate: bool,
    },
    /// No reply before its timeout.
    Timeout,
    /// An ICMP error about it.
    Icmp {
        kind: super::wire::IcmpKind,
        from: IpAddr,
        icmp_type: u8,
        code: u8,
    },
}

/// One event for the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub sequence: u16,
    pub outcome: Outcome,
}

/// A request in flight.
#[derive(Debug)]
struct Pending {
    sent_ns: u64,
    sent_unix_ns: i128,
    deadline_ns: u64,
    payload: [u8; 32],
    answered: bool,
}

/// Why a request may not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// That sequence number is still in flight.
    InFlight(u16),
    /// [`MAX_IN_FLIGHT`] requests are.
    Full,
}

/// A digest of a payload: replies are matched against it, so a socket keeps
/// 32 bytes per request, not the payload.
pub fn digest(payload: &[u8]) -> [u8; 32] {
    *blake3::hash(payload).as_bytes()
}

/// The requests in flight on one socket and the events not yet received.
#[derive(Debug, Default)]
pub struct Flight {
    pending: BTreeMap<u16, Pending>,
    events: VecDeque<Event>,
    /// Datagrams that matched no request (another sequence, payload or source).
    stray: u64,
}

impl Flight {
    /// Whether a request with `seq` may go out now: only requests still
    /// waiting for their answer count against [`MAX_IN_FLIGHT`] (issue 31: a
    /// ping of 1,500 answered echoes reported a third of them lost).
    pub fn admit(&self, seq: u16) -> Result<(), Refused> {
        if self.pending.get(&seq).is_some_and(|p| !p.answered) {
            return Err(Refused::InFlight(seq));
        }
        if self.pending.values().filter(|p| !p.answered).count() >= MAX_IN_FLIGHT {
            return Err(Refused::Full);
        }
        Ok(())
    }

    /// A request went out at `sent_ns` (monotonic) and `sent_unix_ns` (wall clock).
    pub fn sent(
        &mut self,
        seq: u16,
        payload: [u8; 32],
        sent_ns: u64,
        sent_unix_ns: i128,
        timeout_ns: u64,
    ) {
        // Room: forget the oldest answered request (only its duplicates go unrecognised).
        while self.pending.len() >= MAX_IN_FLIGHT && !self.pending.contains_key(&seq) {
            let Some(oldest) = self
                .pending
                .iter()
                .filter(|(_, p)| p.answered)
                .min_by_key(|(_, p)| p.sent_ns)
                .map(|(&s, _)| s)
            else {
                break;
            };
            self.pending.remove(&oldest);
        }
        self.pending.insert(
            seq,
            Pending {
                sent_ns,
                sent_unix_ns,
                deadline_ns: sent_ns.saturating_add(timeout_ns),
                payload,
                answered: false,
            },
        );
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Whether the event queue is full (stop reading the socket).
    pub fn full(&self) -> bool {
        self.events.len() >= MAX_EVENTS
    }

    /// Datagrams dropped for matching nothing.
    #[cfg(test)]
    pub fn stray(&self) -> u64 {
        self.stray
    }

    /// A reply from `source` to `seq` with `payload` arrived at `now_ns`
    /// (the kernel's wall-clock arrival time, when it gave one, makes the
    /// round trip exact even when it is read late). `false`: it matched no
    /// request and was dropped.
    #[allow(clippy::too_many_arguments)]
    pub fn reply(
        &mut self,
        destination: IpAddr,
        source: IpAddr,
        seq: u16,
        payload: &[u8],
        hop_limit: Option<u8>,
        now_ns: u64,
        arrived_unix_ns: Option<i128>,
    ) -> bool {
        let Some(p) = self.pending.get_mut(&seq) else {
            self.stray += 1;
            return false;
        };
        if source != destination || digest(payload) != p.payload || now_ns >= p.deadline_ns {
            self.stray += 1;
            return false;
        }
        let monotonic = now_ns.saturating_sub(p.sent_ns);
        // The kernel's timestamp, unless the wall clock jumped in between.
        let rtt_ns = arrived_unix_ns
            .map(|t| t - p.sent_unix_ns)
            .filter(|&d| d >= 0 && d <= i128::from(monotonic))
            .map_or(monotonic, |d| d as u64);
        let duplicate = std::mem::replace(&mut p.answered, true);
        self.events.push_back(Event {
            sequence: seq,
            outcome: Outcome::Reply {
                source,
                size: (super::wire::HEADER + payload.len()) as u32,
                hop_limit,
                rtt_ns,
                duplicate,
            },
        });
        true
    }

    /// An ICMP error quoting request `seq`. It counts as an answer: no timeout follows.
    pub fn error(&mut self, seq: u16, outcome: Outcome) -> bool {
        let Some(p) = self.pending.get_mut(&seq) else {
            self.stray += 1;
            return false;
        };
        p.answered = true;
        self.events.push_back(Event {
            sequence: seq,
            outcome,
        });
        true
    }

    /// Forget the requests whose timeout passed by `now_ns`; those never
    /// answered get a `timeout` event.
    pub fn expire(&mut self, now_ns: u64) {
        let expired: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline_ns <= now_ns)
            .map(|(&s, _)| s)
            .collect();
        for seq in expired {
            if let Some(p) = self.pending.remove(&seq)
                && !p.answered
            {
                self.events.push_back(Event {
                    sequence: seq,
                    outcome: Outcome::Timeout,
                });
            }
        }
    }

    /// The earliest timeout still to come.
    pub fn next_deadline(&self) -> Option<u64> {
        self.pending.values().map(|p| p.deadline_ns).min()
    }

    /// Whether an event is waiting.
    pub fn ready(&self) -> bool {
        !self.events.is_empty()
    }

    /// Up to `max` events, oldest first.
    pub fn take(&mut self, max: usize) -> Vec<Event> {
        let n = max.min(self.events.len());
        self.events.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn flight_with(seq: u16, payload: &[u8]) -> Flight {
        let mut f = Flight::default();
        f.admit(seq).unwrap();
        f.sent(seq, digest(payload), 1_000, 5_000, 1_000_000);
        f
    }

    #[test]
    fn a_reply_matches_sequence_payload_and_source() {
        let mut f = flight_with(7, b"abc");
        assert!(
            !f.reply(DEST, DEST, 8, b"abc", None, 2_000, None),
            "other sequence"
        );
        assert!(
            !f.reply(DEST, DEST, 7, b"abd", None, 2_000, None),
            "other payload"
        );
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(
            !f.reply(DEST, other, 7, b"abc", None, 2_000, None),
            "other source"
        );
        assert_eq!(f.stray(), 3);
        assert!(!f.ready());
        assert!(f.reply(DEST, DEST, 7, b"abc", Some(64), 3_000, None));
        assert!(f.reply(DEST, DEST, 7, b"abc", Some(64), 4_000, Some(5_500)));
        let events = f.take(10);
        assert_eq!(
            events,
            vec![
                Event {
                    sequence: 7,
                    outcome: Outcome::Reply {
                        source: DEST,
                        size: 11,
                        hop_limit: Some(64),
                        rtt_ns: 2_000,
                        duplicate: false
                    }
                },
                Event {
                    sequence: 7,
                    outcome: Outcome::Reply {
                        source: DEST,
                        size: 11,
                        hop_limit: Some(64),
                        rtt_ns: 500,
                        duplicate: true
                    }
                },
            ]
        );
        // Answered: no timeout, and forgotten once the deadline passes.
        f.expire(2_000_000);
        assert!(!f.ready());
        assert_eq!(f.in_flight(), 0);
        assert!(
            !f.reply(DEST, DEST, 7, b"abc", None, 2_000_001, None),
            "too late"
        );
    }

    #[test]
    fn unanswered_requests_time_out_once() {
        let mut f = flight_with(1, b"");
        f.admit(2).unwrap();
        f.sent(2, digest(b""), 500_000, 0, 1_000_000);
        assert_eq!(f.next_deadline(), Some(1_001_000));
        f.expire(1_000_999);
        assert!(!f.ready());
        f.expire(1_001_000);
        assert_eq!(
            f.take(10),
            vec![Event {
                sequence: 1,
                outcome: Outcome::Timeout
            }]
        );
        assert_eq!(f.next_deadline(), Some(1_500_000));
        f.expire(9_000_000);
        f.expire(9_000_000);
        assert_eq!(f.take(10).len(), 1);
        assert_eq!(f.in_flight(), 0);
    }

    #[test]
    fn in_flight_sequences_and_the_cap_are_refused() {
        let mut f = flight_with(3, b"");
        assert_eq!(f.admit(3), Err(Refused::InFlight(3)));
        for seq in 0..MAX_IN_FLIGHT as u16 {
            if f.admit(seq).is_ok() {
                f.sent(seq, digest(b""), 0, 0, 10);
            }
        }
        assert_eq!(f.in_flight(), MAX_IN_FLIGHT);
        assert_eq!(f.admit(60_000), Err(Refused::Full));
        // A wrapped sequence number is fine once the old one is gone.
        f.expire(1_000_000_000);
        assert_eq!(f.admit(3), Ok(()));
    }

    #[test]
    fn answered_requests_do_not_fill_the_flight() {
        // Issue 31: ping -c 1500 -i 0.002 reported 31.7 % loss, every echo answered.
        let mut f = Flight::default();
        let timeout = 10_000_000_000;
        for i in 0..3000u64 {
            let seq = i as u16;
            assert_eq!(f.admit(seq), Ok(()), "request {i}");
            f.sent(seq, digest(b"x"), i * 2_000_000, 0, timeout);
            assert!(f.reply(DEST, DEST, seq, b"x", None, i * 2_000_000 + 1, None));
        }
        assert!(f.in_flight() <= MAX_IN_FLIGHT);
        assert_eq!(f.take(5000).len(), 3000);
        // The most recent answers are still recognised as duplicates.
        assert!(f.reply(DEST, DEST, 2999, b"x", None, 6_000_000_000, None));
        assert!(matches!(
            f.take(1)[0].outcome,
            Outcome::Reply {
                duplicate: true,
                ..
            }
        ));
    }

    #[test]
    fn an_icmp_error_answers_the_request() {
        let mut f = flight_with(5, b"x");
        let err = Outcome::Icmp {
            kind: super::super::wire::IcmpKind::Unreachable,
            from: DEST,
            icmp_type: 3,
            code: 1,
        };
        assert!(f.error(5, err.clone()));
        assert!(!f.error(6, err.clone()));
        f.expire(u64::MAX);
        assert_eq!(
            f.take(1),
            vec![Event {
                sequence: 5,
                outcome: err
            }]
        );
        assert!(f.take(1).is_empty());
    }

    #[test]
    fn a_wall_clock_jump_falls_back_to_the_monotonic_clock() {
        let mut f = flight_with(1, b"");
        // The wall clock went back: the kernel's time is before the send.
        assert!(f.reply(DEST, DEST, 1, b"", None, 1_700, Some(4_000)));
        match &f.take(1)[0].outcome {
            Outcome::Reply { rtt_ns, .. } => assert_eq!(*rtt_ns, 700),
            o => panic!("{o:?}"),
        }
    }
}
