//! The grant parser never panics, and whatever it accepts prints back to the same grant.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netkit::policy::Grant;

fuzz_target!(|text: &str| {
    if let Ok(g) = text.parse::<Grant>() {
        assert_eq!(g.to_string().parse::<Grant>(), Ok(g));
    }
});
