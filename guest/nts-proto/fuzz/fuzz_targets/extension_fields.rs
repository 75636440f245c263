//! NTP packets with arbitrary extension fields: the reader and the reply
//! check never panic, and nothing but a genuine reply authenticates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nts_proto::{Aead, ef, protect};

fuzz_target!(|data: &[u8]| {
    if let Ok(fields) = ef::parse(data, 0) {
        for f in &fields {
            assert!(f.start + 4 + f.value.len() <= data.len());
            let _ = ef::read_authenticator(f.value);
        }
    }
    let key = Aead::new(&[7; 32]).unwrap();
    let uid = protect::unique_id(data).ok().flatten().map(<[u8]>::to_vec);
    let _ = protect::is_nak(data);
    if let Some(uid) = uid {
        // A random packet does not verify under a key it never saw.
        assert!(protect::open_reply(data, &uid, &key).is_err());
    }
    if let Ok(r) = protect::read_request(data) {
        let _ = protect::request_verifies(data, &r, &key);
    }
});
