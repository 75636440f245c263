//! NTS-KE responses in any split: never panics; the same bytes give the same
//! outcome however they arrive; whatever is accepted is within netkit's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nts_proto::ke::{MAX_COOKIE_LEN, MAX_COOKIES, Response};

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(1, |b| usize::from(*b).max(1));
    let whole = {
        let mut r = Response::new();
        r.feed(data).unwrap_or_else(|| r.closed())
    };
    let mut r = Response::new();
    let mut done = None;
    for chunk in data.chunks(split) {
        done = r.feed(chunk);
        if done.is_some() {
            break;
        }
    }
    let pieces = done.unwrap_or_else(|| r.closed());
    assert_eq!(whole, pieces);
    if let Ok(n) = whole {
        assert!(!n.cookies.is_empty() && n.cookies.len() <= MAX_COOKIES);
        assert!(n.cookies.iter().all(|c| !c.is_empty() && c.len() <= MAX_COOKIE_LEN));
        assert_eq!(n.aead, nts_proto::AEAD_AES_SIV_CMAC_256);
    }
});
