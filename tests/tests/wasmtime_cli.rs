//! The same component files under the stock wasmtime CLI: they work with
//! `-S inherit-network` (or its long form) and are denied cleanly without it.

use netkit_tests::*;
use std::process::Command;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

fn wasm(name: &str) -> String {
    components_dir().join(name).display().to_string()
}

#[test]
fn echo_pair_runs_under_wasmtime_run() {
    let (server, port) = wasmtime_echo_server(&["--stop-after", "2"]);
    // The long spelling of the same flag.
    let out = Command::new(wasmtime())
        .args([
            "run",
            "--wasi",
            "inherit-network",
            &wasm("echo-client.wasm"),
            "--port",
            &port,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "client: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("received \"This is a test message\" (22 bytes)"),
        "{}",
        text(&out.stdout)
    );
    let out = run_with_input(
        Command::new(ncat()).args(["127.0.0.1", &port]),
        b"from ncat",
    );
    assert_eq!(text(&out.stdout), "from ncat");
    let done = server.wait(LONG);
    assert!(done.success, "{}", done.stderr);
    assert!(
        done.stderr
            .contains("served 2 connections, 0 rejected, 31 bytes echoed"),
        "{}",
        done.stderr
    );
}

#[test]
fn echo_client_json_under_wasmtime_run() {
    let (server, port) = wasmtime_echo_server(&["--stop-after", "8", "--quiet"]);
    let out = Command::new(wasmtime())
        .args([
            "run",
            "-S",
            "inherit-network",
            &wasm("echo-client.wasm"),
            "--port",
            &port,
        ])
        .args([
            "--size",
            "70000",
            "--count",
            "8",
            "--concurrency",
            "4",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "client: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["report"]["exchanges"], 8);
    assert_eq!(v["report"]["total_bytes"], 8 * 70000);
    assert!(server.wait(LONG).success);
}

#[test]
fn echo_client_is_denied_without_inherit_network() {
    let port = free_port();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let out = Command::new(wasmtime())
        .args([
            "run",
            &wasm("echo-client.wasm"),
            "--port",
            &port.to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "ran without network permission");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("connect to 127.0.0.1:{port}: permission denied")),
        "{stderr}"
    );
    assert!(
        listener.accept().is_err(),
        "a connection reached the listener"
    );
}

#[test]
fn echo_server_is_denied_without_inherit_network() {
    let port = free_port();
    let out = Command::new(wasmtime())
        .args([
            "run",
            &wasm("echo-server.wasm"),
            "--port",
            &port.to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("bind 127.0.0.1:{port}: permission denied")),
        "{stderr}"
    );
}

#[test]
fn echo_client_name_lookup_needs_its_flag() {
    let port = free_port().to_string();
    let out = Command::new(wasmtime())
        .args([
            "run",
            "-S",
            "inherit-network",
            &wasm("echo-client.wasm"),
            "--host",
            "localhost",
            "--port",
            &port,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("look up \"localhost\""), "{stderr}");
    assert!(stderr.contains("allow-ip-name-lookup"), "{stderr}");

    // With the flag the name resolves inside the component and the exchange works.
    let _echo = Peer::start(
        "socat echo server",
        Command::new(socat()).args([
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ]),
    );
    wait_for_tcp(([127, 0, 0, 1], port.parse().unwrap()).into(), LONG);
    let out = Command::new(wasmtime())
        .args([
            "run",
            "-S",
            "inherit-network",
            "-S",
            "allow-ip-name-lookup",
            &wasm("echo-client.wasm"),
        ])
        .args(["--host", "localhost", "--port", &port])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `--help` and a bad argument under the stock CLI: the SNTP client's 64 KiB
/// stack (guest/sntp-client/build.rs) carries clap's deepest path.
#[test]
fn sntp_client_help_and_bad_arguments_under_wasmtime_run() {
    let run = |args: &[&str]| {
        Command::new(wasmtime())
            .args(["run", &wasm("sntp-client.wasm")])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--help"]);
    assert!(out.status.success(), "--help: {}", text(&out.stderr));
    let help = text(&out.stdout);
    for expected in ["Usage:", "<SERVER>", "--timeout", "--samples", "--json"] {
        assert!(help.contains(expected), "--help lacks {expected}: {help}");
    }
    let out = run(&["--bogus", "127.0.0.1"]);
    assert!(!out.status.success(), "a bad argument must fail");
    assert!(
        text(&out.stderr).contains("unexpected argument '--bogus'"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[]);
    assert!(!out.status.success(), "a missing server must fail");
    assert!(
        text(&out.stderr).contains("<SERVER>"),
        "{}",
        text(&out.stderr)
    );
}
