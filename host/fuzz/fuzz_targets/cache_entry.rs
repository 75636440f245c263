//! The cache entry check never panics and accepts nothing it did not make.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netkit::cache::{checked_artifact, entry_bytes};

fuzz_target!(|data: &[u8]| {
    let key = [3u8; 32];
    let digest = [9u8; 32];
    assert_eq!(checked_artifact(data, &key, &digest), None);
    let entry = entry_bytes(data, &key, &digest);
    assert_eq!(checked_artifact(&entry, &key, &digest), Some(data));
});
