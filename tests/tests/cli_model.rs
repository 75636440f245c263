//! One output model and one meaning per flag: usage errors before anything runs,
//! the same JSON from netkit and from the component under `wasmtime run`, the
//! audit printed once, names shown in grants, `--version`, completions, UDP echo.

use netkit_tests::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

fn netkit_out(args: &[&str]) -> Output {
    Command::new(netkit())
        .args(args)
        .output()
        .expect("run netkit")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn version_names_wasmtime() {
    let out = netkit_out(&["--version"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("(wasmtime 48.0.8)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn bad_values_exit_2_before_anything_runs() {
    for args in [
        &["sntp", "127.0.0.1:9", "--samples", "0"][..],
        &["sntp", "127.0.0.1:9", "--timeout", "0"],
        &["sntp", "127.0.0.1:9", "--timeout", "5 parsecs"],
        &["echo-client", "--port", "9", "--count", "0"],
        &[
            "echo-client",
            "--port",
            "9",
            "--size",
            "99999999999999999999",
        ],
        &["echo-client", "--port", "9", "--udp", "--size", "70000"],
        &["run", "--deadline", "1e20", "x.wasm"],
        &["run", "--deadline", "0", "x.wasm"],
        &["run", "--max-memory", "0", "x.wasm"],
        &["sntp-server", "--port", "9", "--stratum", "16"],
        &["echo-server", "--port", "9", "--max-connections", "0"],
    ] {
        let out = netkit_out(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("granted"), "{args:?} ran: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().next().map(|l| l.starts_with("error:")),
            Some(true),
            "{stderr}"
        );
    }
}

#[test]
fn durations_and_sizes_take_units_and_plain_numbers() {
    let (server, addr) = netkit_echo_server(&["--quiet", "--idle-timeout", "1m"]);
    let port = addr.port().to_string();
    for size in ["2KiB", "2048"] {
        let out = netkit_out(&[
            "echo-client",
            "--port",
            &port,
            "--size",
            size,
            "--timeout",
            "2s",
            "--json",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["report"]["payload_bytes"], 2048, "{v}");
    }
    server.terminate(LONG);
}

/// netkit's `--json` and the component's own (under `wasmtime run`) have one layout.
#[test]
fn sntp_json_is_one_model_for_netkit_and_the_component() {
    let port = free_udp_port();
    let _server = Peer::start(
        "netkit sntp-server",
        Command::new(netkit()).args(["sntp-server", "--port", &port.to_string(), "--quiet"]),
    );
    std::thread::sleep(Duration::from_millis(800));
    let target = format!("127.0.0.1:{port}");
    let ours = netkit_out(&["sntp", &target, "--json", "--audit"]);
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    let ours: Value = serde_json::from_slice(&ours.stdout).expect("one JSON object");
    let theirs = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(components_dir().join("sntp-client.wasm"))
        .args([&target, "--json"])
        .output()
        .unwrap();
    assert!(theirs.status.success(), "{}", text(&theirs.stderr));
    let theirs: Value = serde_json::from_slice(&theirs.stdout).expect("one JSON object");
    assert_eq!(ours["ok"], true);
    assert_eq!(theirs["ok"], true);
    assert_eq!(keys(&ours["report"]), keys(&theirs["report"]));
    assert_eq!(ours["report"]["leap"], "no-warning", "{ours}");
    assert_eq!(theirs["report"]["leap"], "no-warning", "{theirs}");
    assert_eq!(
        keys(&ours),
        ["attempts", "audit", "denied", "grants", "ok", "report"]
            .map(String::from)
            .into()
    );
    assert_eq!(ours["grants"][0], format!("udp://{target}"));
    let first = &ours["audit"][0];
    assert_eq!(
        keys(first),
        ["address", "grant", "ms", "operation", "result"]
            .map(String::from)
            .into()
    );

    // Errors: the same {kind, message} from both, for a socket that never answers.
    let quiet = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent = quiet.local_addr().unwrap().to_string();
    let ours = netkit_out(&[
        "sntp",
        &silent,
        "--json",
        "--timeout",
        "300ms",
        "--tries",
        "1",
    ]);
    assert_eq!(ours.status.code(), Some(1));
    let ours: Value = serde_json::from_slice(&ours.stdout).unwrap();
    let theirs = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(components_dir().join("sntp-client.wasm"))
        .args([&silent, "--json", "--timeout", "0.3", "--tries", "1"])
        .output()
        .unwrap();
    let theirs: Value = serde_json::from_slice(&theirs.stdout).expect("one JSON object");
    for v in [&ours, &theirs] {
        assert_eq!(v["ok"], false, "{v}");
        assert_eq!(
            keys(&v["error"]),
            ["kind", "message"].map(String::from).into()
        );
        assert_eq!(v["error"]["kind"], "timeout", "{v}");
    }
    assert_eq!(ours["error"]["message"], theirs["error"]["message"]);
}

#[test]
fn json_with_audit_prints_the_audit_once() {
    let (server, addr) = netkit_echo_server(&["--quiet"]);
    let out = netkit_out(&[
        "--audit",
        "echo-client",
        "--port",
        &addr.port().to_string(),
        "--json",
    ]);
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("audit of"),
        "{}",
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["audit"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
    server.terminate(LONG);
}

#[test]
fn a_target_given_by_name_is_shown_by_name() {
    let (server, addr) = netkit_echo_server(&["--quiet"]);
    let port = addr.port().to_string();
    let out = netkit_out(&["echo-client", "--host", "localhost", "-4", "--port", &port]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "granted: tcp-connect://localhost:{port} (127.0.0.1)"
        )),
        "{}",
        text(&out.stderr)
    );
    server.terminate(LONG);
}

#[test]
fn udp_echo_client_against_udp_echo_server() {
    let port = free_udp_port().to_string();
    let mut server = Peer::start(
        "netkit echo-server --udp",
        Command::new(netkit()).args(["echo-server", "--udp", "--port", &port, "--quiet"]),
    );
    server.wait_for_stderr("listening on udp", LONG);
    let out = netkit_out(&[
        "echo-client",
        "--udp",
        "--port",
        &port,
        "--size",
        "1200",
        "--count",
        "5",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["exchanges"], 5, "{v}");
    assert_eq!(
        v["grants"],
        serde_json::json!([format!("udp://127.0.0.1:{port}")])
    );
    let done = server.terminate(LONG);
    assert!(
        done.stderr
            .contains("served 5 datagrams, 0 rejected, 6000 bytes echoed"),
        "{}",
        done.stderr
    );
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = netkit_out(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("echo-client") && script.contains("max-memory"),
            "{shell}: {script}"
        );
    }
}

#[test]
fn demo_audit_shows_every_sandbox() {
    let out = netkit_out(&["--audit", "demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for table in [
        "audit of echo-server:",
        "audit of echo-client:",
        "audit of echo-client (stray):",
        "audit of sntp-server:",
        "audit of sntp:",
    ] {
        assert!(stdout.contains(table), "{table} missing: {stdout}");
    }
    assert!(stdout.ends_with("demo ok\n"), "{stdout}");
}

/// The typed exports under the stock CLI: SNTP's `query` by its short name, the
/// echo client's `run` by its qualified name (`run` alone also names `wasi:cli/run`).
#[test]
fn typed_exports_under_wasmtime_invoke() {
    let (server, addr) = netkit_echo_server(&["--quiet"]);
    let call = format!(
        "netkit:diag/echo-client.run@0.1.0({{host: \"127.0.0.1\", port: {}, transport: tcp, payload: message(\"hi\"), count: 1, concurrency: 1, timeout-ms: 2000}})",
        addr.port()
    );
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network", "--invoke", &call])
        .arg(components_dir().join("echo-client.wasm"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("ok({server: "),
        "{}",
        text(&out.stdout)
    );
    server.terminate(LONG);

    let port = free_udp_port();
    let _sntp = Peer::start(
        "netkit sntp-server",
        Command::new(netkit()).args(["sntp-server", "--port", &port.to_string(), "--quiet"]),
    );
    std::thread::sleep(Duration::from_millis(800));
    let call = format!(
        "query(\"127.0.0.1\", {port}, {{timeout-ms: 2000, tries: 3, samples: 1, burst: true, family: any}})"
    );
    let out = Command::new(wasmtime())
        .args(["run", "-S", "inherit-network", "--invoke", &call])
        .arg(components_dir().join("sntp-client.wasm"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("leap: no-warning"),
        "{}",
        text(&out.stdout)
    );
}
