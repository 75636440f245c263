//! The server side: answer valid client requests, refuse with Kiss-o'-Death, rate-limit.

use crate::packet::{LeapIndicator, Mode, PACKET_LEN, Packet};
use crate::time::{NtpShort, NtpTimestamp};
use std::collections::HashMap;
use std::net::IpAddr;

/// How the server describes its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerParams {
    /// Stratum to announce (1..=15).
    pub stratum: u8,
    /// Reference id: a code for stratum 1 (`LOCL`), an IPv4 address above.
    pub reference_id: [u8; 4],
    /// Clock precision, log2 seconds.
    pub precision: i8,
    /// Root dispersion to announce.
    pub root_dispersion: NtpShort,
    /// When the clock was last set.
    pub reference_ts: NtpTimestamp,
}

/// The client request in `request`, if it is one we answer: mode 3, version 3 or 4.
fn client_request(request: &[u8]) -> Option<Packet> {
    let p = Packet::parse(request).ok()?;
    (p.mode == Mode::Client && (3..=4).contains(&p.version)).then_some(p)
}

/// The reply to `request`, received at `t2` and sent at `t3`; `None` when the
/// bytes are not a client request (they are then ignored, not answered).
pub fn respond(
    request: &[u8],
    t2: NtpTimestamp,
    t3: NtpTimestamp,
    params: &ServerParams,
) -> Option<[u8; PACKET_LEN]> {
    let req = client_request(request)?;
    Some(
        Packet {
            leap: LeapIndicator::NoWarning,
            version: req.version,
            mode: Mode::Server,
            stratum: params.stratum,
            poll: req.poll,
            precision: params.precision,
            root_delay: NtpShort(0),
            root_dispersion: params.root_dispersion,
            reference_id: params.reference_id,
            reference_ts: params.reference_ts,
            origin_ts: req.transmit_ts,
            receive_ts: t2,
            transmit_ts: t3,
        }
        .encode(),
    )
}

/// A Kiss-o'-Death reply with `code` (e.g. `*b"RATE"`) to `request`, if it is a client request.
pub fn kiss_of_death(request: &[u8], code: [u8; 4]) -> Option<[u8; PACKET_LEN]> {
    let req = client_request(request)?;
    Some(
        Packet {
            leap: LeapIndicator::Unsynchronized,
            version: req.version,
            mode: Mode::Server,
            stratum: 0,
            poll: req.poll,
            precision: 0,
            root_delay: NtpShort(0),
            root_dispersion: NtpShort(0),
            reference_id: code,
            reference_ts: NtpTimestamp(0),
            origin_ts: req.transmit_ts,
            receive_ts: NtpTimestamp(0),
            transmit_ts: NtpTimestamp(0),
        }
        .encode(),
    )
}

/// Per-client minimum interval between answered requests.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    interval_ns: u64,
    capacity: usize,
    last: HashMap<IpAddr, u64>,
}

impl RateLimiter {
    /// Allow one request per `interval_ns` per client; remember at most `capacity` clients.
    pub fn new(interval_ns: u64, capacity: usize) -> Self {
        Self {
            interval_ns,
            capacity: capacity.max(1),
            last: HashMap::new(),
        }
    }

    /// Whether `client` may be answered at `now_ns` (monotonic); records the request if so.
    pub fn allow(&mut self, client: IpAddr, now_ns: u64) -> bool {
        if let Some(&t) = self.last.get(&client)
            && now_ns.saturating_sub(t) < self.interval_ns
        {
            return false;
        }
        if self.last.len() >= self.capacity && !self.last.contains_key(&client) {
            let interval = self.interval_ns;
            self.last
                .retain(|_, t| now_ns.saturating_sub(*t) < interval);
            if self.last.len() >= self.capacity {
                // Still full of recent clients: forget the oldest rather than grow.
                if let Some(oldest) = self.last.iter().min_by_key(|(_, t)| **t).map(|(k, _)| *k) {
                    self.last.remove(&oldest);
                }
            }
        }
        self.last.insert(client, now_ns);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Reply, ReplyError, client_request as request, validate_reply};

    const PARAMS: ServerParams = ServerParams {
        stratum: 10,
        reference_id: [127, 127, 1, 1],
        precision: -20,
        root_dispersion: NtpShort(0),
        reference_ts: NtpTimestamp(0),
    };

    #[test]
    fn answers_a_client_and_the_client_accepts_it() {
        let nonce = NtpTimestamp(0xdead_beef_0000_0001);
        let now = NtpTimestamp::from_unix(1_795_573_296, 0);
        let reply = respond(&request(nonce), now, now, &PARAMS).unwrap();
        let s = validate_reply(Reply {
            bytes: &reply,
            nonce,
            t1: now,
            t4: now,
            now_unix_secs: 1_795_573_296,
        })
        .unwrap();
        assert_eq!(s.packet.stratum, 10);
        assert_eq!(s.offset_ns, 0);
    }

    #[test]
    fn ignores_non_requests() {
        let now = NtpTimestamp(1);
        assert!(respond(&[0u8; 10], now, now, &PARAMS).is_none());
        let mut server_mode = request(NtpTimestamp(5));
        server_mode[0] = (server_mode[0] & !0b111) | 4;
        assert!(respond(&server_mode, now, now, &PARAMS).is_none());
        let mut v5 = request(NtpTimestamp(5));
        v5[0] = (v5[0] & !0b0011_1000) | (5 << 3);
        assert!(respond(&v5, now, now, &PARAMS).is_none());
    }

    #[test]
    fn answers_version_3_with_version_3() {
        let mut v3 = request(NtpTimestamp(5));
        v3[0] = (v3[0] & !0b0011_1000) | (3 << 3);
        let reply = respond(&v3, NtpTimestamp(1), NtpTimestamp(2), &PARAMS).unwrap();
        assert_eq!(Packet::parse(&reply).unwrap().version, 3);
    }

    #[test]
    fn kiss_of_death_reaches_the_client_as_such() {
        let nonce = NtpTimestamp(77);
        let kod = kiss_of_death(&request(nonce), *b"RATE").unwrap();
        let r = validate_reply(Reply {
            bytes: &kod,
            nonce,
            t1: NtpTimestamp(1),
            t4: NtpTimestamp(2),
            now_unix_secs: 0,
        });
        assert_eq!(r, Err(ReplyError::KissOfDeath("RATE".into())));
    }

    #[test]
    fn rate_limiter_allows_one_per_interval() {
        let mut rl = RateLimiter::new(1_000, 16);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        assert!(rl.allow(a, 0));
        assert!(!rl.allow(a, 999));
        assert!(rl.allow(b, 999));
        assert!(rl.allow(a, 1_000));
    }

    #[test]
    fn rate_limiter_memory_is_bounded() {
        let mut rl = RateLimiter::new(1_000_000, 4);
        for i in 0..100u8 {
            assert!(rl.allow([10, 0, 0, i].into(), u64::from(i)));
        }
        assert!(rl.last.len() <= 4);
    }
}
