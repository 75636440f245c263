//! The embedding example runs, and the typed client reuses one compiled component.

use netkit_tests::*;
use std::process::Command;

#[test]
fn embedding_example_runs() {
    let exe = netkit()
        .parent()
        .expect("target/<profile>")
        .join("examples")
        .join(format!("embed_sntp{}", std::env::consts::EXE_SUFFIX));
    assert!(
        exe.exists(),
        "{} is missing: `cargo test` (or `cargo build -p netkit --examples`) builds it",
        exe.display()
    );
    let out = Command::new(&exe).output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        stdout.matches("stratum 3 from 127.0.0.1:").count(),
        3,
        "{stdout}"
    );
    assert!(stdout.contains("(ref 192.0.2.1)"), "{stdout}");
    assert!(stdout.contains("server answered 3 queries"), "{stdout}");
}

/// `n` queries to ports where nobody answers, each in a fresh instance from one
/// `SntpClient`: each must end in its own typed error, never a host failure.
async fn queries_fail_cleanly(rt: netkit::runtime::Host, n: usize, timeout_ms: u64) {
    use netkit::sntp::{Family, QueryOptions, SntpClient, SntpError};
    let client = SntpClient::new(&rt).unwrap();
    let options = QueryOptions {
        timeout_ms,
        tries: 1,
        samples: 1,
        burst: true,
        family: Family::Any,
    };
    for _ in 0..n {
        let addr = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let r = client.query(addr, &options).await.expect("host side works");
        assert!(
            matches!(r, Err(SntpError::Timeout(_) | SntpError::Unreachable(_))),
            "{r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_client_serves_many_queries_each_under_its_own_grant() {
    queries_fail_cleanly(netkit::runtime::Host::new().unwrap(), 5, 300).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pooling_allocator_runs_many_short_lived_instances() {
    // More instances than the pool has slots: slots must be returned after each call.
    queries_fail_cleanly(
        netkit::runtime::Host::with_options(None, true).unwrap(),
        300,
        200,
    )
    .await;
}
