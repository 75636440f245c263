use super::*;

fn rec(critical: bool, kind: u16, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    push(&mut v, critical, kind, body);
    v
}

/// A typical response: NTPv4, AES-SIV, `cookies` cookies, then extra records and EOM.
fn response(cookies: usize, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut v = rec(true, NEXT_PROTOCOL, &[0, 0]);
    v.extend(rec(false, AEAD_ALGORITHM, &[0, 15]));
    for i in 0..cookies {
        v.extend(rec(false, NEW_COOKIE, &[i as u8; 100]));
    }
    for e in extra {
        v.extend_from_slice(e);
    }
    v.extend(rec(true, END_OF_MESSAGE, &[]));
    v
}

fn outcome(bytes: &[u8]) -> Result<Negotiated, KeError> {
    let mut r = Response::new();
    match r.feed(bytes) {
        Some(done) => done,
        None => r.closed(),
    }
}

fn protocol_error(bytes: &[u8]) -> String {
    match outcome(bytes) {
        Err(KeError::Protocol(why)) => why,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn the_request_is_rfc8915s() {
    assert_eq!(
        request(),
        [0x80, 1, 0, 2, 0, 0, 0x80, 4, 0, 2, 0, 15, 0x80, 0, 0, 0]
    );
    assert_eq!(exporter_context(15, false), [0, 0, 0, 15, 0]);
    assert_eq!(exporter_context(15, true), [0, 0, 0, 15, 1]);
}

#[test]
fn a_full_response() {
    let n = outcome(&response(
        8,
        &[
            rec(true, NTP_SERVER, b"127.0.0.2"),
            rec(true, NTP_PORT_RECORD, &[0x10, 0x01]),
        ],
    ))
    .unwrap();
    assert_eq!(n.aead, 15);
    assert_eq!(n.cookies.len(), 8);
    assert_eq!(n.cookies[3], vec![3; 100]);
    assert_eq!(n.server.as_deref(), Some("127.0.0.2"));
    assert_eq!(n.port, Some(0x1001));
    let n = outcome(&response(1, &[])).unwrap();
    assert_eq!((n.server, n.port, n.cookies.len()), (None, None, 1));
}

#[test]
fn bytes_may_come_one_at_a_time_and_more_cookies_are_dropped() {
    let bytes = response(12, &[rec(false, NTP_SERVER, b"Time.Example.NET.")]);
    let mut r = Response::new();
    for (i, b) in bytes.iter().enumerate() {
        let done = r.feed(&[*b]);
        assert_eq!(done.is_some(), i == bytes.len() - 1, "byte {i}");
    }
    let n = r.closed().unwrap();
    assert_eq!(n.cookies.len(), MAX_COOKIES);
    assert_eq!(n.server.as_deref(), Some("time.example.net"));
    // Bytes after End of Message change nothing.
    assert_eq!(r.feed(&[1, 2, 3]).unwrap().unwrap().cookies.len(), 8);
}

#[test]
fn server_errors_and_warnings() {
    for (code, name) in [
        (0, "Unrecognized Critical Record"),
        (1, "Bad Request"),
        (2, "Internal Server Error"),
        (9, "unknown error code"),
    ] {
        let e = outcome(&rec(true, ERROR, &[0, code])).unwrap_err();
        assert_eq!(e, KeError::Server(code.into()));
        assert!(e.to_string().contains(name), "{e}");
    }
    let e = outcome(&response(1, &[rec(true, WARNING, &[0, 7])])).unwrap_err();
    assert_eq!(e, KeError::Warning(7));
    assert!(protocol_error(&rec(true, ERROR, &[0])).contains("1-byte body"));
}

#[test]
fn negotiation_errors_are_named() {
    let eom = rec(true, END_OF_MESSAGE, &[]);
    let npn = rec(true, NEXT_PROTOCOL, &[0, 0]);
    let aead = rec(true, AEAD_ALGORITHM, &[0, 15]);
    let cookie = rec(false, NEW_COOKIE, &[1; 8]);
    let cat = |parts: &[&Vec<u8>]| {
        parts
            .iter()
            .flat_map(|p| p.iter().copied())
            .collect::<Vec<u8>>()
    };
    assert!(protocol_error(&cat(&[&aead, &cookie, &eom])).contains("no Next Protocol"));
    assert!(protocol_error(&cat(&[&npn, &cookie, &eom])).contains("no AEAD"));
    assert!(protocol_error(&cat(&[&npn, &aead, &eom])).contains("no cookies"));
    assert!(
        protocol_error(&cat(&[
            &rec(true, NEXT_PROTOCOL, &[]),
            &aead,
            &cookie,
            &eom
        ]))
        .contains("none of the protocols")
    );
    assert!(
        protocol_error(&cat(&[
            &rec(true, NEXT_PROTOCOL, &[0, 5]),
            &aead,
            &cookie,
            &eom
        ]))
        .contains("protocol 5, which was not offered")
    );
    assert!(
        protocol_error(&cat(&[
            &rec(true, NEXT_PROTOCOL, &[0, 0, 0, 1]),
            &aead,
            &cookie,
            &eom
        ]))
        .contains("2 protocols")
    );
    assert!(
        protocol_error(&cat(&[
            &npn,
            &rec(true, AEAD_ALGORITHM, &[0, 17]),
            &cookie,
            &eom
        ]))
        .contains("AEAD_AES_SIV_CMAC_512 (17), which was not offered")
    );
    assert!(
        protocol_error(&cat(&[
            &npn,
            &rec(true, AEAD_ALGORITHM, &[]),
            &cookie,
            &eom
        ]))
        .contains("none of the AEAD")
    );
    assert!(
        protocol_error(&cat(&[
            &npn,
            &rec(true, AEAD_ALGORITHM, &[0, 15, 0, 16]),
            &cookie,
            &eom
        ]))
        .contains("2 AEAD algorithms")
    );
    assert!(protocol_error(&cat(&[&npn, &npn, &aead, &cookie, &eom])).contains("sent twice"));
    assert!(protocol_error(&cat(&[&npn, &aead, &aead, &cookie, &eom])).contains("sent twice"));
    assert!(protocol_error(&cat(&[&rec(true, NEXT_PROTOCOL, &[0])])).contains("odd body"));
}

#[test]
fn record_errors_are_named() {
    assert!(protocol_error(&response(1, &[rec(false, NEW_COOKIE, &[])])).contains("empty cookie"));
    assert!(
        protocol_error(&response(1, &[rec(false, NEW_COOKIE, &[0; 1025])]))
            .contains("1025-byte cookie")
    );
    assert!(
        protocol_error(&response(1, &[rec(true, 0x1234, &[1, 2])]))
            .contains("type 4660 is marked critical")
    );
    // A non-critical unknown record is ignored.
    assert!(outcome(&response(1, &[rec(false, 0x1234, &[1, 2])])).is_ok());
    assert!(
        protocol_error(&response(1, &[rec(true, NTP_PORT_RECORD, &[0, 0])])).contains("port 0")
    );
    assert!(
        protocol_error(&response(1, &[rec(true, NTP_PORT_RECORD, &[0, 1, 2])]))
            .contains("3-byte body")
    );
    let twice = [
        rec(true, NTP_PORT_RECORD, &[0, 1]),
        rec(true, NTP_PORT_RECORD, &[0, 2]),
    ];
    assert!(protocol_error(&response(1, &twice)).contains("sent twice"));
    let twice = [rec(true, NTP_SERVER, b"a"), rec(true, NTP_SERVER, b"b")];
    assert!(protocol_error(&response(1, &twice)).contains("sent twice"));
    for bad in [
        &b""[..],
        b"a b",
        b"-x.example",
        b"x..y",
        b"\xff\xfe",
        b"evil\n.example",
    ] {
        let why = protocol_error(&response(1, &[rec(true, NTP_SERVER, bad)]));
        assert!(why.contains("not an address or a host name"), "{why}");
    }
    for good in [&b"::1"[..], b"127.0.0.1", b"ntp-1.example"] {
        assert!(outcome(&response(1, &[rec(true, NTP_SERVER, good)])).is_ok());
    }
    let e = protocol_error(&rec(true, END_OF_MESSAGE, &[9]));
    assert!(e.contains("End of Message has a 1-byte body"), "{e}");
}

#[test]
fn cut_short_and_too_long() {
    let full = response(8, &[]);
    for cut in [0, 3, 4, 50, full.len() - 1] {
        let mut r = Response::new();
        assert!(r.feed(&full[..cut]).is_none());
        assert_eq!(r.closed(), Err(KeError::Truncated), "cut at {cut}");
    }
    // Records that never end the message: refused once past the limit.
    let mut r = Response::new();
    let junk = rec(false, 0x2222, &[0; 1000]);
    let mut done = None;
    for _ in 0..100 {
        done = r.feed(&junk);
        if done.is_some() {
            break;
        }
    }
    assert_eq!(done, Some(Err(KeError::TooLong)));
    // A header that claims more than the limit is refused once that much has come.
    let mut r = Response::new();
    assert!(r.feed(&[0, 9, 0xff, 0xff]).is_none());
    assert!(r.feed(&vec![0; 70_000]).is_some());
}

/// Pseudo-random responses never panic the reader (the fuzz target does more).
#[test]
fn random_bytes_do_not_panic() {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..20_000 {
        let mut bytes = Vec::new();
        for _ in 0..(x % 12) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let kind = (x % 9) as u16 | if x & 0x100 != 0 { CRITICAL } else { 0 };
            let len = ((x >> 16) % 6) as usize;
            push(&mut bytes, false, kind, &vec![(x >> 24) as u8; len]);
        }
        let cut = (x >> 32) as usize % (bytes.len() + 1);
        let _ = outcome(&bytes[..cut]);
    }
}
