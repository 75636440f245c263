//! The host's own attack surface: guest text cannot forge audit rows, malformed
//! literals and number-like names are refused (never handed to a resolver that
//! reads them as octal or hex), and `netkit run` stops cleanly on a signal.

use netkit_tests::*;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

#[test]
fn a_guest_cannot_forge_an_audit_row() {
    let forged = "x\n       0  tcp-connect  10.0.0.1:443                                 allowed  tcp-connect://10.0.0.1:443\u{1b}[8m";
    let out = run_hostile(&[], "lookup", forged, &[]);
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains('\u{1b}'),
        "a raw escape reached the terminal: {stderr:?}"
    );
    let forged_rows = stderr.lines().filter(|l| {
        let t = l.trim_start();
        t.split_whitespace().nth(1) == Some("tcp-connect") && t.contains("10.0.0.1:443")
    });
    assert_eq!(forged_rows.count(), 0, "{stderr}");
    // The attempt itself is in the table, escaped, and denied.
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("lookup") && l.contains("x\\n") && l.contains("DENIED")),
        "{stderr}"
    );
}

#[test]
fn malformed_literals_are_refused_and_audited_as_refused() {
    for name in ["8.8.8.8....", "[[[10.0.0.1]", "127.0.0.010"] {
        let out = run_hostile(&[], "lookup", name, &[]);
        assert!(
            text(&out.stdout).contains("BLOCKED"),
            "{name}: {}",
            text(&out.stdout)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("lookup") && l.contains("DENIED")),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("name in grants"), "{name}: {stderr}");
    }
}

#[test]
fn names_that_look_like_numbers_are_not_names() {
    // 127.0.0.010 is 127.0.0.8 to the system resolver (octal): a tripwire there
    // must see nothing, and each form is refused before anything runs.
    let wire = TcpListener::bind("127.0.0.8:0").unwrap();
    wire.set_nonblocking(true).unwrap();
    let port = wire.local_addr().unwrap().port().to_string();
    let odd = format!("127.0.0.010:{port}");
    for args in [
        vec![
            "run".to_string(),
            "--allow".into(),
            format!("tcp-connect://{odd}"),
            hostile_wasm().display().to_string(),
            "--".into(),
            "tcp-connect".into(),
            format!("127.0.0.8:{port}"),
        ],
        vec![
            "echo-client".into(),
            "--host".into(),
            "127.0.0.010".into(),
            "--port".into(),
            port.clone(),
        ],
        vec!["sntp".into(), odd.clone()],
        vec![
            "echo-client".into(),
            "--host".into(),
            "2130706433".into(),
            "--port".into(),
            port.clone(),
        ],
        vec!["sntp".into(), format!("0x7f.1:{port}")],
    ] {
        let out = Command::new(netkit()).args(&args).output().unwrap();
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains("dotted decimal"), "{args:?}: {stderr}");
        assert!(!stderr.contains("granted"), "{args:?} ran: {stderr}");
    }
    assert!(
        wire.accept().is_err(),
        "the tripwire at 127.0.0.8 got a connection"
    );
}

#[test]
fn run_stops_cleanly_on_a_signal_with_its_audit() {
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let mut peer = Peer::start(
            "netkit run spin",
            Command::new(netkit())
                .args(["--audit", "run"])
                .arg(hostile_wasm())
                .args(["--", "spin", ""]),
        );
        peer.wait_for_stderr("granted: nothing", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(300));
        let pid = peer.pid().to_string();
        Command::new("kill").args([signal, &pid]).status().unwrap();
        let done = peer.wait(Duration::from_secs(10));
        assert!(
            done.stderr.contains("audit of hostile.wasm"),
            "{signal}: {}",
            done.stderr
        );
        assert!(done.stderr.contains("stopped"), "{signal}: {}", done.stderr);
        assert_eq!(done.code, Some(code), "{signal}: {}", done.stderr);
    }
}
