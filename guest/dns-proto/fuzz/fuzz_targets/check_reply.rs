//! The reply decoder and checks never panic or hang on any bytes, and a reply
//! they accept answers the question asked, with the id sent.
#![no_main]
use dns_proto::{TcpFrames, build_query, check_reply, parse_type};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (_, q) = build_query("fuzz.example.test", parse_type("A").unwrap(), 0x1234, true).unwrap();
    if let Ok(reply) = check_reply(data, 0x1234, &q) {
        assert_eq!(reply.id, 0x1234);
    }
    let mut frames = TcpFrames::new();
    frames.push(data);
    while let Some(m) = frames.next_message() {
        let _ = check_reply(&m, 0x1234, &q);
    }
});
