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

#[tokio::test(flavor = "multi_thread")]
async fn one_client_serves_many_queries_each_under_its_own_grant() {
    use netkit::runtime::Runtime;
    use netkit::sntp::{Family, QueryOptions, SntpClient, SntpError};
    let rt = Runtime::new().unwrap();
    let client = SntpClient::new(&rt).unwrap();
    let options = QueryOptions {
        timeout_ms: 300,
        tries: 1,
        samples: 1,
        burst: true,
        family: Family::Any,
    };
    // Nobody answers on these ports; each query must end in its own typed error, not a host failure.
    for _ in 0..5 {
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
async fn pooling_allocator_runs_many_short_lived_instances() {
    use netkit::runtime::Runtime;
    use netkit::sntp::{Family, QueryOptions, SntpClient, SntpError};
    let rt = Runtime::with_options(None, true).unwrap();
    let client = SntpClient::new(&rt).unwrap();
    let options = QueryOptions {
        timeout_ms: 200,
        tries: 1,
        samples: 1,
        burst: true,
        family: Family::Any,
    };
    // More instances than one pool slot could hold at once if slots leaked.
    for _ in 0..300 {
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
