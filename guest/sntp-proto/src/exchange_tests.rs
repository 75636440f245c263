//! The exchange state machine driven by a fake clock and scripted replies.

use super::*;
use crate::packet::{LeapIndicator, Mode, Packet};
use crate::time::NtpShort;

const NOW_UNIX: u64 = 1_795_573_296;
const MS: u64 = 1_000_000;
const SEC: u64 = 1_000 * MS;

/// Wall clock (NTP) at monotonic instant `mono`: the two clocks start together.
fn wall(mono: u64) -> NtpTimestamp {
    NtpTimestamp::from_unix(NOW_UNIX + mono / SEC, (mono % SEC) as u32)
}

/// A reply to `request` from a server whose clock is `ahead_ns` ahead, answering
/// at monotonic `arrive - one_way`.
fn reply_to(request: &[u8], sent_at: u64, arrive: u64, ahead_ns: u64) -> Vec<u8> {
    let req = Packet::parse(request).unwrap();
    let mid = (sent_at + arrive) / 2;
    Packet {
        leap: LeapIndicator::NoWarning,
        version: 4,
        mode: Mode::Server,
        stratum: 2,
        poll: 0,
        precision: -20,
        root_delay: NtpShort(0),
        root_dispersion: NtpShort::from_nanos(MS),
        reference_id: [127, 127, 1, 1],
        reference_ts: wall(0),
        origin_ts: req.transmit_ts,
        receive_ts: wall(mid + ahead_ns),
        transmit_ts: wall(mid + ahead_ns),
    }
    .encode()
    .to_vec()
}

fn config(timeout_ms: u64, tries: u32, samples: u32, burst: bool) -> ExchangeConfig {
    ExchangeConfig {
        timeout_ns: timeout_ms * MS,
        tries,
        samples,
        burst,
    }
}

/// Drives an exchange against a scripted server: `answer(request_index, request)`
/// says after how many ns a reply comes back (and what it is), or None for silence.
struct Harness {
    ex: Exchange,
    now: u64,
    sends: Vec<u64>,
    /// Replies in flight: (arrival instant, bytes, from the server?).
    flight: Vec<(u64, Vec<u8>, bool)>,
}

type Script<'a> = &'a mut dyn FnMut(usize, &[u8], u64) -> Vec<(u64, Vec<u8>, bool)>;

impl Harness {
    fn new(c: ExchangeConfig) -> Self {
        Self {
            ex: Exchange::new(c).unwrap(),
            now: 5 * SEC,
            sends: Vec::new(),
            flight: Vec::new(),
        }
    }

    fn run(&mut self, script: Script<'_>) -> Result<Outcome, ExchangeError> {
        for _ in 0..10_000 {
            match self.ex.next(self.now) {
                Action::Done(r) => return r,
                Action::Send => {
                    let nonce = NtpTimestamp(0xABCD_0000 + self.sends.len() as u64);
                    let req = self.ex.request(nonce, wall(self.now), self.now);
                    let i = self.sends.len();
                    self.sends.push(self.now);
                    let replies = script(i, &req, self.now);
                    self.flight.extend(replies);
                }
                Action::WaitUntil(t) => {
                    assert!(t >= self.now, "waits into the past");
                    self.flight.sort_by_key(|f| f.0);
                    match self.flight.first() {
                        Some(f) if f.0 <= t => {
                            let (at, bytes, from) = self.flight.remove(0);
                            self.now = self.now.max(at);
                            self.ex
                                .receive(&bytes, from, wall(self.now), NOW_UNIX, self.now);
                        }
                        _ => self.now = t,
                    }
                }
            }
        }
        panic!("exchange never finished");
    }
}

#[test]
fn first_try_answered() {
    let mut h = Harness::new(config(2000, 3, 1, false));
    let r = h
        .run(&mut |_, req, at| vec![(at + 10 * MS, reply_to(req, at, at + 10 * MS, 0), true)])
        .unwrap();
    assert_eq!(h.sends.len(), 1);
    assert_eq!(r.good, 1);
    assert!((r.best.delay_ns - 10 * MS as i64).abs() < 1_000);
    assert!(r.best.offset_ns.abs() < 1_000);
}

#[test]
fn tries_are_spread_over_the_timeout() {
    let mut h = Harness::new(config(3000, 3, 1, false));
    let r = h.run(&mut |_, _, _| vec![]);
    let start = h.sends[0];
    let gaps: Vec<u64> = h.sends.iter().map(|s| s - start).collect();
    assert_eq!(gaps, vec![0, SEC, 2 * SEC]);
    assert_eq!(
        r,
        Err(ExchangeError::Timeout {
            timeout_ns: 3 * SEC,
            requests: 3
        })
    );
    // The deadline holds: it gave up exactly at the timeout.
    assert_eq!(h.now, start + 3 * SEC);
}

#[test]
fn second_try_answered_after_first_lost() {
    let mut h = Harness::new(config(2000, 2, 1, false));
    let r = h
        .run(&mut |i, req, at| {
            if i == 0 {
                vec![]
            } else {
                vec![(at + 5 * MS, reply_to(req, at, at + 5 * MS, 0), true)]
            }
        })
        .unwrap();
    assert_eq!(h.sends.len(), 2);
    assert!((r.best.delay_ns - 5 * MS as i64).abs() < 1_000);
}

#[test]
fn late_reply_to_earlier_try_counts_with_its_send_time() {
    // The first request's reply arrives 1.5 s later, after the second was sent.
    let mut h = Harness::new(config(2000, 2, 1, false));
    let r = h
        .run(&mut |i, req, at| {
            if i == 0 {
                vec![(at + 1500 * MS, reply_to(req, at, at + 1500 * MS, 0), true)]
            } else {
                vec![]
            }
        })
        .unwrap();
    assert_eq!(h.sends.len(), 2);
    assert!((r.best.delay_ns - 1500 * MS as i64).abs() < 1_000);
}

#[test]
fn samples_are_a_second_apart_and_best_delay_wins() {
    let delays = [30 * MS, 5 * MS, 20 * MS];
    let mut h = Harness::new(config(1000, 1, 3, false));
    let r = h
        .run(&mut |i, req, at| {
            let d = delays[i];
            vec![(at + d, reply_to(req, at, at + d, 0), true)]
        })
        .unwrap();
    assert_eq!(r.good, 3);
    assert!((r.best.delay_ns - 5 * MS as i64).abs() < 1_000);
    // Second sample starts 1 s after the first reply arrived.
    assert_eq!(h.sends[1] - h.sends[0], 30 * MS + SEC);
    assert_eq!(h.sends[2] - h.sends[1], 5 * MS + SEC);
}

#[test]
fn burst_takes_samples_back_to_back() {
    let mut h = Harness::new(config(1000, 1, 3, true));
    h.run(&mut |_, req, at| vec![(at + MS, reply_to(req, at, at + MS, 0), true)])
        .unwrap();
    assert_eq!(h.sends[1] - h.sends[0], MS);
    assert_eq!(h.sends[2] - h.sends[1], MS);
}

#[test]
fn one_lost_sample_of_three_still_succeeds() {
    let mut h = Harness::new(config(500, 1, 3, true));
    let r = h
        .run(&mut |i, req, at| {
            if i == 1 {
                vec![]
            } else {
                vec![(at + MS, reply_to(req, at, at + MS, 0), true)]
            }
        })
        .unwrap();
    assert_eq!(r.good, 2);
}

#[test]
fn kiss_of_death_stops_everything() {
    let mut h = Harness::new(config(1000, 3, 4, true));
    let r = h.run(&mut |_, req, at| {
        let mut p = Packet::parse(&reply_to(req, at, at + MS, 0)).unwrap();
        p.stratum = 0;
        p.leap = LeapIndicator::Unsynchronized;
        p.reference_id = *b"RATE";
        vec![(at + MS, p.encode().to_vec(), true)]
    });
    assert_eq!(r, Err(ExchangeError::KissOfDeath("RATE".into())));
    assert_eq!(h.sends.len(), 1, "no request after a kiss-o'-death");
    assert_eq!(
        r.unwrap_err().message("127.0.0.1:123"),
        "server sent kiss-o'-death RATE; stop asking it"
    );
}

#[test]
fn unsynchronised_server_stops_everything() {
    let mut h = Harness::new(config(1000, 3, 4, true));
    let r = h.run(&mut |_, req, at| {
        let mut p = Packet::parse(&reply_to(req, at, at + MS, 0)).unwrap();
        p.leap = LeapIndicator::Unsynchronized;
        vec![(at + MS, p.encode().to_vec(), true)]
    });
    assert_eq!(r, Err(ExchangeError::Unsynchronized));
    assert_eq!(h.sends.len(), 1);
}

#[test]
fn stale_reply_is_ignored_and_waiting_goes_on() {
    // A reply to a request we never sent (wrong origin) comes first, then the real one.
    let mut h = Harness::new(config(1000, 1, 1, false));
    let r = h
        .run(&mut |_, req, at| {
            let mut stale = Packet::parse(&reply_to(req, at, at + MS, 0)).unwrap();
            stale.origin_ts = NtpTimestamp(42);
            vec![
                (at + MS, stale.encode().to_vec(), true),
                (at + 9 * MS, reply_to(req, at, at + 9 * MS, 0), true),
            ]
        })
        .unwrap();
    assert!((r.best.delay_ns - 9 * MS as i64).abs() < 1_000);
}

#[test]
fn foreign_reply_is_ignored() {
    // A perfectly valid reply, but from another address: the caller says so.
    let mut h = Harness::new(config(1000, 1, 1, false));
    let r = h.run(&mut |_, req, at| vec![(at + MS, reply_to(req, at, at + MS, 0), false)]);
    assert!(matches!(r, Err(ExchangeError::Timeout { requests: 1, .. })));
}

#[test]
fn bad_reply_ends_the_sample_with_its_reason() {
    let mut h = Harness::new(config(1000, 3, 1, false));
    let r = h.run(&mut |_, req, at| {
        let mut p = Packet::parse(&reply_to(req, at, at + MS, 0)).unwrap();
        p.version = 5;
        vec![(at + MS, p.encode().to_vec(), true)]
    });
    let e = r.unwrap_err();
    assert!(matches!(e, ExchangeError::BadReply(_)));
    assert!(e.message("127.0.0.1:123").contains("version 5"), "{e}");
}

#[test]
fn offset_of_a_server_ahead() {
    let mut h = Harness::new(config(1000, 1, 1, false));
    let r = h
        .run(&mut |_, req, at| vec![(at + 2 * MS, reply_to(req, at, at + 2 * MS, SEC / 2), true)])
        .unwrap();
    assert!((r.best.offset_ns - (SEC / 2) as i64).abs() < 1_000);
}

#[test]
fn nothing_after_done() {
    let mut h = Harness::new(config(100, 1, 1, false));
    let r = h.run(&mut |_, _, _| vec![]);
    assert!(r.is_err());
    // Done stays done; late datagrams are ignored.
    h.ex.receive(&[0; 48], true, wall(h.now), NOW_UNIX, h.now);
    assert_eq!(h.ex.next(h.now + SEC), Action::Done(r));
}

#[test]
fn timeout_message_uses_units() {
    let e = ExchangeError::Timeout {
        timeout_ns: 2 * SEC,
        requests: 3,
    };
    assert_eq!(
        e.message("127.0.0.1:9"),
        "no valid reply from 127.0.0.1:9 within 2 s (3 requests sent)"
    );
}

#[test]
fn rejects_zero_values() {
    for c in [
        config(0, 1, 1, false),
        config(1, 0, 1, false),
        config(1, 1, 0, false),
    ] {
        assert!(Exchange::new(c).is_err());
    }
}
