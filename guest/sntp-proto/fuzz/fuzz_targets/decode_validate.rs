//! Decode + validate arbitrary bytes: never panics; decode → encode → decode is stable;
//! a server never answers what it cannot parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sntp_proto::{NtpShort, NtpTimestamp, Packet, Reply, ServerParams, respond, validate_reply};

fuzz_target!(|data: &[u8]| {
    let word = |i: usize| {
        data.get(i..i + 8)
            .map(|b| u64::from_be_bytes(b.try_into().unwrap()))
            .unwrap_or(0)
    };
    let _ = validate_reply(Reply {
        bytes: data,
        nonce: NtpTimestamp(word(24)),
        t1: NtpTimestamp(word(0)),
        t4: NtpTimestamp(word(8)),
        now_unix_secs: word(16) >> 32,
    });
    if let Ok(p) = Packet::parse(data) {
        assert_eq!(Packet::parse(&p.encode()), Ok(p));
    }
    let params = ServerParams {
        stratum: 10,
        reference_id: [127, 127, 1, 1],
        precision: -20,
        root_dispersion: NtpShort(0),
        reference_ts: NtpTimestamp(1),
    };
    if respond(data, NtpTimestamp(2), NtpTimestamp(3), &params).is_some() {
        assert!(Packet::parse(data).is_ok());
    }
});
