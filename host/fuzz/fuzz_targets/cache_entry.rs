//! The cache entry check never panics and accepts nothing it did not make.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netkit::cache::{entry_mac, mac_matches};

fuzz_target!(|data: &[u8]| {
    let key = [3u8; 32];
    let digest = [9u8; 32];
    let (mac, artifact) = data.split_at(data.len().min(32));
    assert!(!mac_matches(mac, &key, &digest, artifact) || mac == entry_mac(&key, &digest, artifact));
    let mac = entry_mac(&key, &digest, data);
    assert!(mac_matches(&mac, &key, &digest, data));
    assert!(!mac_matches(&mac, &key, &[8u8; 32], data));
});
