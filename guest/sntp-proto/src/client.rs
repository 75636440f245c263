//! The client side: build a request, validate a reply into a sample or a named error.

use crate::packet::{LeapIndicator, Mode, PACKET_LEN, Packet, ParseError};
use crate::refid::RefId;
use crate::time::{NtpShort, NtpTimestamp};
use std::fmt;

/// Root delay or dispersion above this is not believable (RFC 5905 MAXDISP is 16 s).
const MAX_ROOT_NS: u64 = 16_000_000_000;

/// The request to send: version 4, mode 3, every field zero but the transmit
/// timestamp, which carries `nonce` (random, so a reply can be matched to it and
/// the client's clock is not disclosed; ntpd-rs does the same).
pub fn client_request(nonce: NtpTimestamp) -> [u8; PACKET_LEN] {
    Packet {
        leap: LeapIndicator::NoWarning,
        version: 4,
        mode: Mode::Client,
        stratum: 0,
        poll: 0,
        precision: 0,
        root_delay: NtpShort(0),
        root_dispersion: NtpShort(0),
        reference_id: [0; 4],
        reference_ts: NtpTimestamp(0),
        origin_ts: NtpTimestamp(0),
        receive_ts: NtpTimestamp(0),
        transmit_ts: nonce,
    }
    .encode()
}

/// One validated exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Offset θ of the server's clock from ours, in nanoseconds (positive: we are behind).
    pub offset_ns: i64,
    /// Round-trip delay δ, in nanoseconds (never negative).
    pub delay_ns: i64,
    /// The server's transmit time T3 as Unix seconds and nanoseconds.
    pub server_time: (i64, u32),
    /// The reply header.
    pub packet: Packet,
    /// The reference id, interpreted.
    pub reference: RefId,
}

/// A reply that did not yield a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// The bytes are not an NTP header.
    Parse(ParseError),
    /// The origin timestamp is not what we sent: a stale or forged reply. Ignore it and keep waiting.
    OriginMismatch,
    /// The server sent Kiss-o'-Death with this code (`RATE`, `DENY`, `RSTR`, ...).
    KissOfDeath(String),
    /// The server says its clock is not synchronised (leap indicator 3, or stratum 16).
    Unsynchronized,
    /// Anything else wrong with the reply.
    Bad(String),
}

impl ReplyError {
    /// Whether a client should ignore this reply and keep receiving until its deadline.
    pub fn is_ignorable(&self) -> bool {
        matches!(self, ReplyError::OriginMismatch)
    }
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Parse(e) => write!(f, "bad reply: {e}"),
            ReplyError::OriginMismatch => {
                f.write_str("reply does not answer our request (origin timestamp differs)")
            }
            ReplyError::KissOfDeath(code) => write!(f, "kiss-o'-death {code}"),
            ReplyError::Unsynchronized => f.write_str("server clock is not synchronised"),
            ReplyError::Bad(why) => write!(f, "bad reply: {why}"),
        }
    }
}

impl std::error::Error for ReplyError {}

/// What [`validate_reply`] needs about our side of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The reply bytes.
    pub bytes: &'a [u8],
    /// The transmit timestamp we sent (the nonce).
    pub nonce: NtpTimestamp,
    /// T1: our clock when we sent the request.
    pub t1: NtpTimestamp,
    /// T4: our clock when the reply arrived.
    pub t4: NtpTimestamp,
    /// Our clock as Unix seconds, to place the server's time in the right NTP era.
    pub now_unix_secs: u64,
}

/// Check a reply against our request (RFC 4330 §5, RFC 5905 §8) and compute
/// offset and delay. The source address and port are the caller's to check.
///
/// Kiss-o'-Death is read from the reference id *before* the leap indicator,
/// because KoD replies carry LI = 3.
pub fn validate_reply(r: Reply<'_>) -> Result<Sample, ReplyError> {
    let p = Packet::parse(r.bytes).map_err(ReplyError::Parse)?;
    if p.mode != Mode::Server {
        return Err(ReplyError::Bad(format!(
            "mode {} is not server (4)",
            p.mode.to_bits()
        )));
    }
    if !(3..=4).contains(&p.version) {
        return Err(ReplyError::Bad(format!(
            "version {} is not 3 or 4",
            p.version
        )));
    }
    if p.origin_ts != r.nonce {
        return Err(ReplyError::OriginMismatch);
    }
    if p.stratum == 0 {
        return Err(ReplyError::KissOfDeath(
            RefId::new(p.reference_id, 0).to_string(),
        ));
    }
    if p.leap == LeapIndicator::Unsynchronized || p.stratum >= 16 {
        return Err(ReplyError::Unsynchronized);
    }
    if p.transmit_ts.is_zero() {
        return Err(ReplyError::Bad("transmit timestamp is zero".into()));
    }
    if p.root_delay.as_nanos() > MAX_ROOT_NS || p.root_dispersion.as_nanos() > MAX_ROOT_NS {
        return Err(ReplyError::Bad(format!(
            "root delay {} ms or dispersion {} ms is beyond 16 s",
            p.root_delay.as_nanos() / 1_000_000,
            p.root_dispersion.as_nanos() / 1_000_000
        )));
    }
    let (t1, t2, t3, t4) = (r.t1, p.receive_ts, p.transmit_ts, r.t4);
    // δ = (T4 − T1) − (T3 − T2); θ = ((T2 − T1) + (T3 − T4)) / 2, each difference era-safe.
    let delay_ns = (t4.diff_ns(t1) - t3.diff_ns(t2)).max(0);
    let offset_ns = (t2.diff_ns(t1) + t3.diff_ns(t4)) / 2;
    Ok(Sample {
        offset_ns,
        delay_ns,
        server_time: p.transmit_ts.to_unix(r.now_unix_secs),
        reference: RefId::new(p.reference_id, p.stratum),
        packet: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_573_296;

    fn ts(secs_after_now: f64) -> NtpTimestamp {
        let ns = (secs_after_now * 1e9) as i64;
        let total = i128::from(NOW) * 1_000_000_000 + i128::from(ns);
        NtpTimestamp::from_unix(
            (total / 1_000_000_000) as u64,
            (total % 1_000_000_000) as u32,
        )
    }

    fn good_reply(nonce: NtpTimestamp) -> Packet {
        Packet {
            leap: LeapIndicator::NoWarning,
            version: 4,
            mode: Mode::Server,
            stratum: 10,
            poll: 3,
            precision: -20,
            root_delay: NtpShort(0),
            root_dispersion: NtpShort::from_nanos(1_000_000),
            reference_id: [127, 127, 1, 1],
            reference_ts: ts(-10.0),
            origin_ts: nonce,
            // The server is 0.5 s ahead; 10 ms each way; 1 ms inside the server.
            receive_ts: ts(0.510),
            transmit_ts: ts(0.511),
        }
    }

    fn check(p: Packet, nonce: NtpTimestamp) -> Result<Sample, ReplyError> {
        validate_reply(Reply {
            bytes: &p.encode(),
            nonce,
            t1: ts(0.0),
            t4: ts(0.021),
            now_unix_secs: NOW,
        })
    }

    const NONCE: NtpTimestamp = NtpTimestamp(0x0123_4567_89ab_cdef);

    #[test]
    fn request_is_mode_3_version_4_with_nonce() {
        let p = Packet::parse(&client_request(NONCE)).unwrap();
        assert_eq!((p.mode, p.version, p.transmit_ts), (Mode::Client, 4, NONCE));
        assert!(p.origin_ts.is_zero() && p.receive_ts.is_zero());
    }

    #[test]
    fn computes_offset_and_delay() {
        let s = check(good_reply(NONCE), NONCE).unwrap();
        assert!((s.offset_ns - 500_000_000).abs() < 10, "{}", s.offset_ns);
        assert!((s.delay_ns - 20_000_000).abs() < 10, "{}", s.delay_ns);
        assert_eq!(s.server_time.0, NOW as i64);
        assert_eq!(s.reference.to_string(), "127.127.1.1");
    }

    #[test]
    fn short_packet() {
        let r = validate_reply(Reply {
            bytes: &[0x24; 10],
            nonce: NONCE,
            t1: ts(0.0),
            t4: ts(0.0),
            now_unix_secs: NOW,
        });
        assert_eq!(r, Err(ReplyError::Parse(ParseError::TooShort { len: 10 })));
    }

    #[test]
    fn wrong_mode() {
        let mut p = good_reply(NONCE);
        p.mode = Mode::Client;
        assert!(matches!(check(p, NONCE), Err(ReplyError::Bad(m)) if m.contains("mode 3")));
    }

    #[test]
    fn version_5() {
        let mut p = good_reply(NONCE);
        p.version = 5;
        assert!(matches!(check(p, NONCE), Err(ReplyError::Bad(m)) if m.contains("version 5")));
    }

    #[test]
    fn version_3_is_accepted() {
        let mut p = good_reply(NONCE);
        p.version = 3;
        assert!(check(p, NONCE).is_ok());
    }

    #[test]
    fn zero_transmit() {
        let mut p = good_reply(NONCE);
        p.transmit_ts = NtpTimestamp(0);
        assert!(
            matches!(check(p, NONCE), Err(ReplyError::Bad(m)) if m.contains("transmit timestamp is zero"))
        );
    }

    #[test]
    fn origin_mismatch_is_ignorable() {
        let e = check(good_reply(NtpTimestamp(7)), NONCE).unwrap_err();
        assert_eq!(e, ReplyError::OriginMismatch);
        assert!(e.is_ignorable());
    }

    #[test]
    fn kiss_of_death_is_read_before_leap() {
        for code in [*b"RATE", *b"DENY", *b"RSTR"] {
            let mut p = good_reply(NONCE);
            p.stratum = 0;
            p.leap = LeapIndicator::Unsynchronized;
            p.reference_id = code;
            let want = String::from_utf8(code.to_vec()).unwrap();
            assert_eq!(check(p, NONCE), Err(ReplyError::KissOfDeath(want)));
        }
    }

    #[test]
    fn leap_3_is_unsynchronized() {
        let mut p = good_reply(NONCE);
        p.leap = LeapIndicator::Unsynchronized;
        assert_eq!(check(p, NONCE), Err(ReplyError::Unsynchronized));
    }

    #[test]
    fn stratum_16_is_unsynchronized() {
        let mut p = good_reply(NONCE);
        p.stratum = 16;
        assert_eq!(check(p, NONCE), Err(ReplyError::Unsynchronized));
    }

    #[test]
    fn insane_root_dispersion() {
        let mut p = good_reply(NONCE);
        p.root_dispersion = NtpShort(u32::MAX);
        assert!(matches!(check(p, NONCE), Err(ReplyError::Bad(m)) if m.contains("beyond 16 s")));
    }

    #[test]
    fn exchange_across_the_2036_rollover() {
        // T1 just before the wrap, the server's stamps just after it.
        let rollover = 2_085_978_496u64;
        let t1 = NtpTimestamp::from_unix(rollover - 1, 0);
        let t4 = NtpTimestamp::from_unix(rollover + 1, 0);
        let mut p = good_reply(NONCE);
        // (Exactly at the wrap the wire value is 0, which means "unknown".)
        p.receive_ts = NtpTimestamp::from_unix(rollover, 500_000_000);
        p.transmit_ts = NtpTimestamp::from_unix(rollover, 500_000_000);
        let s = validate_reply(Reply {
            bytes: &p.encode(),
            nonce: NONCE,
            t1,
            t4,
            now_unix_secs: rollover + 1,
        })
        .unwrap();
        assert_eq!(s.offset_ns, 500_000_000);
        assert_eq!(s.delay_ns, 2_000_000_000);
        assert_eq!(s.server_time, (rollover as i64, 500_000_000));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A fixed xorshift stream: the same inputs on every run and in CI.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..20_000 {
            let len = i % 64;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let r = Reply {
                bytes: &bytes,
                nonce: NtpTimestamp(x),
                t1: NtpTimestamp(x.rotate_left(7)),
                t4: NtpTimestamp(x.rotate_left(13)),
                now_unix_secs: x >> 32,
            };
            let _ = validate_reply(r);
            if let Ok(p) = Packet::parse(&bytes) {
                assert_eq!(Packet::parse(&p.encode()).unwrap(), p);
            }
        }
    }
}
