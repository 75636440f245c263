//! Host and port arguments: SERVER[:PORT], host names, durations and sizes never panic;
//! an accepted host name is stable and never an address.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = sntp_proto::split_server(text, 123);
    if let Ok(name) = netkit::policy::host_name(text) {
        assert_eq!(netkit::policy::host_name(&name), Ok(name.clone()));
        assert!(name.parse::<std::net::IpAddr>().is_err());
    }
    let _ = cli_args::duration(text, "s");
    let _ = cli_args::size(text, 1);
});
