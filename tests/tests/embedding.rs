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

/// A guest spinning in a busy loop shares its thread: on a current-thread runtime
/// an SNTP query beside it still completes promptly (epoch ticks make every guest
/// yield), and the spinner is still stopped at its deadline.
#[test]
fn a_spinning_guest_shares_a_current_thread_runtime() {
    use netkit::command::{self, Exit};
    use netkit::components::Builtin;
    use netkit::policy::ResolvedPolicy;
    use netkit::runtime::{Host, Sandbox};
    use netkit::sntp::{self, Family, QueryOptions, ServerConfig, SntpClient};
    use std::time::{Duration, Instant};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let host = Host::new().unwrap();
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], free_udp_port()).into();
        let server = sntp::start_server(
            &host,
            &host.compile(Builtin::SntpServer.bytes()).unwrap(),
            &Sandbox::new("sntp-server", sntp::server_policy(addr, &[])),
            ServerConfig {
                host: addr.ip().to_string(),
                port: addr.port(),
                stratum: 3,
                reference_id: "192.0.2.1".into(),
                rate_limit_ms: 0,
                stop_on_stdin_eof: true,
                stop_after: None,
                log_requests: false,
            },
        );
        let client = SntpClient::new(&host).unwrap();
        let options = QueryOptions {
            timeout_ms: 2_000,
            tries: 4,
            samples: 1,
            burst: true,
            family: Family::Any,
        };
        // The server answers (so it has bound its port) before the spinner starts.
        let first = sntp::when_listening(Duration::from_secs(10), || client.query(addr, &options))
            .await
            .unwrap();
        assert!(first.is_ok(), "{first:?}");
        let spinner = host
            .compile(&std::fs::read(hostile_wasm()).unwrap())
            .unwrap();
        let mut spin_box = Sandbox::new("spinner", ResolvedPolicy::default());
        spin_box
            .set_args(vec!["hostile".into(), "spin".into()])
            .set_deadline(Some(Duration::from_secs(3)));
        let spin_host = host.clone();
        let spinning =
            tokio::spawn(async move { command::run(&spin_host, &spinner, &spin_box).await });
        // Let the spinner start first.
        tokio::time::sleep(Duration::from_millis(100)).await;

        let start = Instant::now();
        let report = client.query(addr, &options).await.unwrap();
        let took = start.elapsed();
        assert!(report.is_ok(), "{report:?}");
        assert!(
            took < Duration::from_millis(1500),
            "query took {took:?} beside a spinner"
        );
        let exit = spinning.await.unwrap().unwrap();
        assert!(matches!(exit, Exit::Deadline(_)), "{exit:?}");
        server.stop().await.unwrap().unwrap();
    });
}

/// A plugin host pings through the typed export: a whole run, a session whose
/// events come one by one and that `stop` ends, and a destination its grant
/// does not cover (a typed `denied`, nothing sent).
#[tokio::test(flavor = "multi_thread")]
async fn the_ping_component_through_its_typed_export() {
    use netkit::ping::{IpFamily, PingError, PingEvent, PingOptions, PingStep, Pinger};
    use netkit::runtime::Sandbox;
    require_ping_group();
    let host = netkit::runtime::Host::new().unwrap();
    let pinger = Pinger::new(&host).unwrap();
    let options = PingOptions {
        count: Some(3),
        interval_ms: 50,
        timeout_ms: 2000,
        deadline_ms: None,
        payload_size: 56,
        hop_limit: None,
        dont_fragment: false,
        family: IpFamily::Any,
    };
    let report = pinger
        .ping("127.0.0.1".parse().unwrap(), &options)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (report.statistics.transmitted, report.statistics.received),
        (3, 3)
    );
    assert!(
        report
            .events
            .iter()
            .all(|e| matches!(e, PingEvent::Reply(r) if r.hop_limit == Some(64)))
    );

    let sandbox = Sandbox::new("ping", netkit::ping::client_policy("::1".parse().unwrap()));
    let endless = PingOptions {
        count: None,
        ..options
    };
    let mut session = pinger
        .start(&sandbox, "::1", &endless)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.address().await.unwrap(), "::1");
    let mut replies = 0;
    while replies < 2 {
        match session.next(1000).await.unwrap() {
            PingStep::Event(PingEvent::Reply(_)) => replies += 1,
            PingStep::Done => panic!("an endless run ended"),
            _ => {}
        }
    }
    session.stop().await.unwrap();
    while !matches!(session.next(1000).await.unwrap(), PingStep::Done) {}
    let stats = session.statistics().await.unwrap();
    assert!(stats.transmitted >= 2 && stats.received >= 2, "{stats:?}");

    let elsewhere = Sandbox::new(
        "ping",
        netkit::ping::client_policy("127.0.0.2".parse().unwrap()),
    );
    match pinger
        .ping_in(&elsewhere, "127.0.0.1", &options)
        .await
        .unwrap()
    {
        Err(PingError::Denied(why)) => assert!(why.contains("127.0.0.1"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(elsewhere.audit().denied(), 1);
}

/// A plugin host runs a tcp dialog (blackbox's `query_response`) through
/// the TLS probe component's typed `tcp-dialog` export: `${1}` from a match
/// sent back, labels expanded, a regex failure typed as such, and a target
/// the sandbox does not grant refused before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_tcp_dialog_through_its_typed_export() {
    use netkit::runtime::Sandbox;
    use netkit::tls::{
        DialogError, DialogFailure, DialogOptions, Label, Step, TlsOptions, TlsProber,
    };
    let dir = std::env::temp_dir().join(format!("netkit-embed-dialog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("peer.sh");
    std::fs::write(
        &script,
        "#!/bin/bash\necho 'HELLO token=abc123'\nread -r line\necho \"GOT ${line%$'\\r'}\"\nsleep 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _peer = Peer::start(
        "socat dialog peer",
        Command::new(socat()).args([
            format!("TCP-LISTEN:{},bind=127.0.0.1,reuseaddr,fork", addr.port()),
            format!("EXEC:{}", script.display()),
        ]),
    );
    wait_for_tcp(addr, std::time::Duration::from_secs(10));
    let host = netkit::runtime::Host::new().unwrap();
    let prober = TlsProber::new(&host).unwrap();
    let step = |expect: Option<&str>, send: Option<&str>| Step {
        expect: expect.map(str::to_string),
        expect_bytes: None,
        labels: Vec::new(),
        send: send.map(|s| s.as_bytes().to_vec()),
        starttls: false,
    };
    let mut first = step(Some("token=([a-z0-9]+)"), Some("TOKEN ${1}"));
    first.labels = vec![Label {
        name: "token".into(),
        value: "${1}".into(),
    }];
    let options = |steps: Vec<Step>| DialogOptions {
        steps,
        tls: false,
        tls_options: TlsOptions {
            server_name: None,
            roots: Vec::new(),
            insecure: false,
            min_version: None,
            max_version: None,
            alpn: Vec::new(),
            client_certificate: None,
        },
        timeout_ms: 3000,
    };
    let sandbox = Sandbox::new("tcp-dialog", netkit::tls::client_policy(addr));
    let report = prober
        .dialog_in(
            &sandbox,
            "127.0.0.1",
            addr,
            &options(vec![first.clone(), step(Some("^GOT TOKEN abc123$"), None)]),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.failure, None, "{:?}", report.transcript);
    assert_eq!(report.steps_done, 2);
    assert_eq!(report.expect_info[0][0].value, "abc123");
    // The peer answers and closes without the line expected: the regex failure.
    let report = prober
        .dialog_in(
            &sandbox,
            "127.0.0.1",
            addr,
            &options(vec![step(None, Some("x")), step(Some("^NEVER"), None)]),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.failure.map(|f| f.0), Some(DialogFailure::Regex));
    // A sandbox granting another port: connect is denied, nothing is sent.
    let other = Sandbox::new(
        "tcp-dialog",
        netkit::tls::client_policy(([127, 0, 0, 1], 9).into()),
    );
    let denied = prober
        .dialog_in(&other, "127.0.0.1", addr, &options(vec![first]))
        .await
        .unwrap();
    assert!(matches!(denied, Err(DialogError::Connect(_))), "{denied:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
