use super::*;
use crate::protect::{read_request, reply};
use sntp_proto::{ExchangeConfig, LeapIndicator, Mode, NtpShort, PACKET_LEN, Packet};

const SEC: u64 = 1_000_000_000;

fn keys() -> (Aead, Aead) {
    (Aead::new(&[1; 32]).unwrap(), Aead::new(&[2; 32]).unwrap())
}

fn exchange(tries: u32, cookies: usize) -> NtsExchange {
    let (c2s, s2c) = keys();
    let inner = Exchange::new(ExchangeConfig {
        timeout_ns: SEC,
        tries,
        samples: 1,
        burst: true,
    })
    .unwrap();
    let jar = CookieJar::new((0..cookies).map(|i| vec![i as u8 + 1; 64]).collect());
    NtsExchange::new(inner, c2s, s2c, jar)
}

/// A server's answer header to `request` (its transmit timestamp as origin).
fn answer_header(request: &[u8], stratum: u8, refid: [u8; 4]) -> [u8; PACKET_LEN] {
    let req = Packet::parse(request).unwrap();
    let t = NtpTimestamp::from_unix(1_800_000_000, 0);
    Packet {
        leap: if stratum == 0 {
            LeapIndicator::Unsynchronized
        } else {
            LeapIndicator::NoWarning
        },
        version: 4,
        mode: Mode::Server,
        stratum,
        poll: 0,
        precision: -20,
        root_delay: NtpShort(0),
        root_dispersion: NtpShort(0),
        reference_id: refid,
        reference_ts: t,
        origin_ts: req.transmit_ts,
        receive_ts: t,
        transmit_ts: t,
    }
    .encode()
}

fn good_reply(request: &[u8], fresh: usize) -> Vec<u8> {
    let (_, s2c) = keys();
    let uid = read_request(request).unwrap().unique_id.to_vec();
    let cookies: Vec<Vec<u8>> = (0..fresh).map(|i| vec![0xC0 + i as u8; 64]).collect();
    reply(
        &answer_header(request, 2, [127, 0, 0, 1]),
        &uid,
        &cookies,
        &s2c,
        &[9; 16],
    )
}

/// Send once, hand `reply_of(request)` to the exchange, then run to the end.
fn run(
    x: &mut NtsExchange,
    mut reply_of: impl FnMut(&[u8]) -> Vec<Vec<u8>>,
) -> Result<NtsOutcome, NtsError> {
    // Identifiers differ across runs, as random ones would.
    static NEXT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);
    let mut now = 0;
    loop {
        match x.next(now) {
            Action::Send => {
                let uid = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t1 = NtpTimestamp::from_unix(1_800_000_000, 0);
                let req = x.request(
                    NtpTimestamp(u64::from(uid) << 20),
                    t1,
                    now,
                    [uid; 32],
                    [uid; 16],
                );
                for r in reply_of(&req) {
                    x.receive(&r, true, t1, 1_800_000_000, now);
                }
            }
            Action::WaitUntil(t) => now = t,
            Action::Done(d) => return d,
        }
    }
}

#[test]
fn an_authenticated_reply_is_used_and_refills_the_jar() {
    let mut x = exchange(1, 3);
    let o = run(&mut x, |req| {
        let r = read_request(req).unwrap();
        // One cookie used, two left: seven placeholders fill the jar to 8.
        assert_eq!(r.placeholders, 5);
        assert_eq!(r.cookie, &[1u8; 64][..]);
        vec![good_reply(req, 1 + r.placeholders)]
    })
    .unwrap();
    assert_eq!(o.outcome.good, 1);
    assert_eq!(x.cookies().len(), 8);
}

#[test]
fn forged_replies_are_ignored_while_the_real_one_may_come() {
    let mut x = exchange(1, 8);
    let o = run(&mut x, |req| {
        let mut forged = good_reply(req, 1);
        let n = forged.len();
        forged[n - 1] ^= 1;
        vec![forged, good_reply(req, 1)]
    });
    assert!(o.is_ok(), "{o:?}");
}

#[test]
fn only_forgeries_name_the_reason() {
    let forge = |f: fn(&[u8]) -> Vec<u8>| {
        let mut x = exchange(2, 8);
        run(&mut x, |req| vec![f(req)]).unwrap_err()
    };
    assert_eq!(
        forge(|req| {
            let mut r = good_reply(req, 1);
            r[44] ^= 1; // the transmit timestamp, covered by the authenticator
            r
        }),
        NtsError::Rejected(Rejection::AuthFailed)
    );
    assert_eq!(
        forge(|req| {
            let (_, s2c) = keys();
            reply(
                &answer_header(req, 2, [127, 0, 0, 1]),
                &[0xEE; 32],
                &[],
                &s2c,
                &[9; 16],
            )
        }),
        NtsError::Rejected(Rejection::UniqueIdMismatch)
    );
    // Unauthenticated time: refused, whatever it says.
    assert_eq!(
        forge(|req| answer_header(req, 2, [127, 0, 0, 1]).to_vec()),
        NtsError::Rejected(Rejection::UniqueIdMismatch)
    );
    // An unauthenticated kiss-o'-death RATE is a forgery, not a reason to stop.
    assert_eq!(
        forge(|req| {
            let mut r = answer_header(req, 0, *b"RATE").to_vec();
            crate::ef::push(
                &mut r,
                crate::ef::UNIQUE_IDENTIFIER,
                read_request(req).unwrap().unique_id,
            );
            r
        }),
        NtsError::Rejected(Rejection::NoAuthenticator)
    );
    let e = forge(|req| good_reply(req, 1)[..60].to_vec());
    assert!(
        matches!(e, NtsError::Rejected(Rejection::Malformed(_))),
        "{e:?}"
    );
    assert!(
        e.message("127.0.0.1:123")
            .starts_with("from 127.0.0.1:123: NTS extension fields")
    );
}

#[test]
fn a_replayed_reply_to_an_earlier_exchange_is_refused() {
    let mut first = exchange(1, 8);
    let mut kept = Vec::new();
    run(&mut first, |req| {
        kept = good_reply(req, 1);
        vec![kept.clone()]
    })
    .unwrap();
    let mut second = exchange(1, 8);
    let e = run(&mut second, |_| vec![kept.clone()]).unwrap_err();
    assert_eq!(e, NtsError::Rejected(Rejection::UniqueIdMismatch));
    assert_eq!(e.message("s"), "from s: unique identifier does not match");
}

#[test]
fn nak_waits_for_a_valid_reply_then_clears_the_jar() {
    let nak = |req: &[u8]| {
        let mut r = answer_header(req, 0, *b"NTSN").to_vec();
        crate::ef::push(
            &mut r,
            crate::ef::UNIQUE_IDENTIFIER,
            read_request(req).unwrap().unique_id,
        );
        r
    };
    let mut x = exchange(1, 8);
    assert!(run(&mut x, |req| vec![nak(req), good_reply(req, 1)]).is_ok());
    let mut x = exchange(2, 8);
    let e = run(&mut x, |req| vec![nak(req)]).unwrap_err();
    assert_eq!(e, NtsError::Rejected(Rejection::Nak));
    assert!(x.cookies().is_empty());
    // A NAK wins over a forgery seen after it.
    let mut x = exchange(1, 8);
    let e = run(&mut x, |req| {
        let mut f = good_reply(req, 1);
        f[45] ^= 1;
        vec![nak(req), f]
    })
    .unwrap_err();
    assert_eq!(e, NtsError::Rejected(Rejection::Nak));
}

#[test]
fn an_authenticated_kiss_of_death_ends_the_exchange() {
    let mut x = exchange(3, 8);
    let e = run(&mut x, |req| {
        let (_, s2c) = keys();
        let uid = read_request(req).unwrap().unique_id.to_vec();
        vec![reply(
            &answer_header(req, 0, *b"RATE"),
            &uid,
            &[],
            &s2c,
            &[9; 16],
        )]
    })
    .unwrap_err();
    assert_eq!(
        e,
        NtsError::Exchange(ExchangeError::KissOfDeath("RATE".into()))
    );
}

#[test]
fn silence_is_a_timeout_and_cookies_run_out() {
    let mut x = exchange(3, 8);
    let e = run(&mut x, |_| vec![]).unwrap_err();
    assert!(
        matches!(
            e,
            NtsError::Exchange(ExchangeError::Timeout { requests: 3, .. })
        ),
        "{e:?}"
    );
    assert_eq!(x.cookies().len(), 5);
    let mut x = exchange(3, 2);
    assert_eq!(run(&mut x, |_| vec![]).unwrap_err(), NtsError::NoCookies);
    assert!(
        NtsError::NoCookies
            .message("s")
            .contains("key exchange again")
    );
}

#[test]
fn replies_from_elsewhere_or_twice_change_nothing() {
    let mut x = exchange(1, 8);
    let mut now = 0;
    let t1 = NtpTimestamp::from_unix(1_800_000_000, 0);
    assert_eq!(x.next(now), Action::Send);
    let req = x.request(NtpTimestamp(77), t1, now, [3; 32], [4; 16]);
    let good = good_reply(&req, 1);
    x.receive(&good, false, t1, 1_800_000_000, now);
    assert!(matches!(x.next(now), Action::WaitUntil(_)));
    x.receive(&good, true, t1, 1_800_000_000, now);
    now += 1;
    assert!(matches!(x.next(now), Action::Done(Ok(_))));
    // After the end nothing is taken, not even cookies.
    let before = x.cookies().len();
    x.receive(&good_reply(&req, 5), true, t1, 1_800_000_000, now);
    assert_eq!(x.cookies().len(), before);
}

#[test]
fn the_jar_keeps_at_most_eight_non_empty_cookies() {
    let mut jar = CookieJar::new(vec![vec![1]; 12]);
    assert_eq!(jar.len(), MAX_COOKIES);
    jar.clear();
    jar.add(Vec::new());
    assert!(jar.is_empty());
    jar.add(vec![5]);
    assert_eq!(jar.to_vec(), vec![vec![5]]);
    assert_eq!(jar.take(), Some(vec![5]));
}
