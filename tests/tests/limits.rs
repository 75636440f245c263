//! Limits that must hold against hostile components, not just polite ones: one
//! memory budget over every memory and table, written in WAT so that a component
//! can do what Rust would not (many memories, a huge table).

use netkit_tests::*;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A `wasi:cli/run` component around a core module whose body is `core`; its
/// exported `run` function (`(result i32)`, 0 = ok) runs `body`.
fn component(name: &str, core: &str, body: &str) -> PathBuf {
    let wat = format!(
        r#"(component
  (core module $m
    {core}
    (func (export "run") (result i32) {body} i32.const 0))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.12" (instance $inst)))"#
    );
    let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("{name}: bad WAT: {e}"));
    let path = std::env::temp_dir().join(format!("netkit-{name}-{}.wasm", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(path: &PathBuf, extra: &[&str]) -> Output {
    Command::new(netkit())
        .arg("run")
        .args(extra)
        .arg(path)
        .output()
        .expect("run netkit")
}

#[test]
fn a_polite_component_runs_within_the_budget() {
    // The harness can see success: one 1 MiB memory under a 16 MiB budget.
    let c = component("polite", "(memory 16)", "");
    let out = run(&c, &["--max-memory", "16"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn many_memories_share_one_budget() {
    // 64 memories of 16 MiB each, each written to; the old per-memory cap let all
    // of them live (1 GiB) under --max-memory 16.
    let memories: String = (0..64).map(|i| format!("(memory $m{i} 256)\n")).collect();
    let touch: String = (0..64)
        .map(|i| format!("(i32.store8 $m{i} (i32.const 16777215) (i32.const 1))\n"))
        .collect();
    let c = component("many-memories", &memories, &touch);
    let out = run(&c, &["--max-memory", "16"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains("out of memory: it tried to grow past the cap of 16 MiB"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_huge_table_counts_against_the_budget() {
    // 64 M funcref slots (512 MiB of pointers); tables were not capped at all.
    let c = component(
        "huge-table",
        "(table $t 1 funcref)",
        "(drop (table.grow $t (ref.null func) (i32.const 67108864)))",
    );
    let out = run(&c, &["--max-memory", "64"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("out of memory"), "{stderr}");
}

#[test]
fn a_trap_named_like_the_oom_message_is_still_a_trap() {
    // Exit classification comes from the limiter, not from message text.
    let c = component(
        "named-trap",
        r#"(func $"forcing trap when growing memory" unreachable)"#,
        r#"call $"forcing trap when growing memory""#,
    );
    let out = run(&c, &[]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
}

fn lines_with(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn sockets_are_capped_and_the_refusal_audited() {
    // Any UDP grant allows the implicit wildcard bind; without a cap the guest
    // held sockets until the process ran out of file descriptors.
    let out = run_hostile(
        &["udp://127.0.0.1:9".into()],
        "hold-sockets",
        "5000",
        &["--max-sockets", "8"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stdout.contains("BLOCKED hold-sockets 5000: held 8 sockets, then:"),
        "{stdout}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("udp-socket") && l.contains("DENIED")),
        "{stderr}"
    );
}

#[test]
fn an_attempt_on_a_protocol_with_no_grant_is_audited() {
    // Under a UDP grant, a TCP connect used to fail inside wasmtime-wasi before
    // netkit's check: no denial line, an empty audit. Then (issue 31) it was
    // audited as `tcp-bind 0.0.0.0:0`, the implicit bind, not the destination.
    let wire = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = wire.local_addr().unwrap().to_string();
    for grants in [vec!["udp://127.0.0.1:9".to_string()], vec![]] {
        let out = run_hostile(&grants, "tcp-connect", &addr, &[]);
        let stderr = text(&out.stderr);
        assert!(!text(&out.stdout).contains("ESCAPED"));
        assert!(
            stderr.contains(&format!("denied tcp-connect {addr}")),
            "{grants:?}: {stderr}"
        );
        assert!(!stderr.contains("tcp-bind"), "{grants:?}: {stderr}");
        assert!(
            stderr.lines().any(|l| l.contains("DENIED")),
            "{grants:?}: {stderr}"
        );
    }
}

#[test]
fn denial_lines_are_rate_limited_and_the_count_stays_exact() {
    let wire = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = wire.local_addr().unwrap().to_string();
    let mut cmd = Command::new(netkit());
    cmd.args(["run", "--allow", "tcp-connect://127.0.0.1:1", "--json"])
        .arg(hostile_wasm())
        .args(["--", "deny-flood", &addr]);
    let out = cmd.output().unwrap();
    let stderr = text(&out.stderr);
    let printed = lines_with(&stderr, &format!("denied tcp-connect {addr}: no grant"));
    assert!(printed > 0 && printed <= 40, "{printed} lines: {stderr}");
    let summary = stderr
        .lines()
        .find(|l| l.contains("more denied tcp-connect to"))
        .unwrap_or_else(|| panic!("no summary line: {stderr}"));
    let more: usize = summary
        .split("and ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert_eq!(printed + more, 100_000, "{summary}");
    // The JSON says how many were denied, exactly, even where the events were not all kept.
    let json_line = text(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&json_line).unwrap();
    assert_eq!(v["exit"]["kind"], "code", "{v}");
    assert_eq!(v["denied"], 100_000, "{}", v["denied"]);
}

#[test]
fn quiet_silences_denial_lines() {
    let out = run_hostile(&[], "tcp-connect", "127.0.0.1:9", &["--quiet"]);
    assert_eq!(
        lines_with(&text(&out.stderr), "netkit: hostile.wasm: denied"),
        0
    );
}

#[test]
fn long_names_do_not_grow_the_audit() {
    // 100 lookups of an IP literal followed by 8 MiB of dots: recorded verbatim,
    // they took the audit past 800 MB.
    let mut cmd = Command::new(netkit());
    cmd.args(["run", "--json"])
        .arg(hostile_wasm())
        .args(["--", "long-lookups", ""]);
    let out = cmd.output().unwrap();
    // Under --json the guest's own stdout goes to stderr (issue 20).
    assert!(
        text(&out.stderr).contains("BLOCKED long-lookups"),
        "{}",
        text(&out.stderr)
    );
    let json_line = text(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        json_line.len() < 200_000,
        "audit of {} bytes",
        json_line.len()
    );
    let v: serde_json::Value = serde_json::from_str(&json_line).unwrap();
    let events = v["audit"].as_array().unwrap();
    assert_eq!(events.len(), 100, "{}", events.len());
    assert!(events.iter().all(|e| e["result"] == "denied"));
}

#[test]
fn the_deadline_holds_while_the_guest_is_blocked_writing_stdout() {
    // stdout is a pipe nobody reads: the guest blocks in a write.
    let start = std::time::Instant::now();
    let mut child = Command::new(netkit())
        .args(["run", "--deadline", "1s"])
        .arg(hostile_wasm())
        .args(["--", "flood-stdout", ""])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(15) {
            let _ = child.kill();
            panic!("still running 15 s after a 1 s deadline");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(124));
}

#[test]
fn a_file_that_is_not_a_component_gets_one_line() {
    let dir = std::env::temp_dir();
    let cases: [(&str, &[u8], &str); 3] = [
        ("text", b"hello, not wasm", "not a WebAssembly file"),
        (
            "core",
            b"\0asm\x01\0\0\0",
            "a core WebAssembly module, not a component",
        ),
        (
            "broken",
            b"\0asm\x0d\0\x01\0garbage",
            "not a valid WebAssembly component",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(format!("netkit-{name}-{}.wasm", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let out = Command::new(netkit())
            .arg("run")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn a_huge_echo_runs_in_constant_memory() {
    // The payload used to be generated whole in guest memory: 99999999999 bytes
    // ended in a wasm backtrace, and 256 MiB could not fit the default 256 MiB
    // budget beside its read buffers. Now it is generated and verified as a stream.
    let (server, addr) = netkit_echo_server(&["--quiet"]);
    let out = Command::new(netkit())
        .args([
            "echo-client",
            "--port",
            &addr.port().to_string(),
            "--size",
            "256MiB",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["total_bytes"], 256u64 << 20, "{v}");
    server.terminate(std::time::Duration::from_secs(30));
}

#[test]
fn accepted_connections_count_against_the_socket_cap() {
    // The listener is one socket; with a cap of 4 the guest keeps 3 connections
    // and the next accept is refused (that client is closed at once).
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let guest = Peer::start(
        "netkit run hold-accepts",
        Command::new(netkit())
            .args(["run", "--max-sockets", "4"])
            .args([
                "--allow",
                &format!("tcp-listen://{addr}"),
                "--allow",
                "tcp-accept://127.0.0.0/8:*",
            ])
            .arg(hostile_wasm())
            .args(["--", "hold-accepts", &addr]),
    );
    let start = std::time::Instant::now();
    let mut clients = Vec::new();
    while clients.len() < 10 && start.elapsed() < std::time::Duration::from_secs(20) {
        match std::net::TcpStream::connect(&addr) {
            Ok(c) => clients.push(c),
            // Refused once the guest has given up (it exits): enough clients came.
            Err(_) if clients.len() >= 4 => break,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    let done = guest.wait(std::time::Duration::from_secs(30));
    assert!(
        done.stdout.contains("BLOCKED hold-accepts"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("accepted 3, then:"), "{}", done.stdout);
    assert!(
        done.stderr.contains("denied tcp-accept-socket"),
        "{}",
        done.stderr
    );
}
