//! `netkit run`: any component under exactly the grants given, names resolved only
//! through the scoped lookup.

use netkit_tests::*;
use std::process::Command;

fn run(grants: &[String], wasm: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(netkit());
    cmd.args(["--audit", "run"]);
    for g in grants {
        cmd.args(["--allow", g]);
    }
    let out = cmd.arg(wasm).arg("--").args(args).output().unwrap();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn sntp_client_runs_with_an_exact_udp_grant_and_not_with_another_port() {
    let chrony = start_chrony(free_udp_port(), "");
    let wasm = components_dir().join("sntp-client.wasm");
    let server = format!("127.0.0.1:{}", chrony.port);
    let (ok, stdout, stderr) = run(&[format!("udp://{server}")], &wasm, &[&server]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains(" s10 no-leap"), "{stdout}");

    let other = format!("udp://127.0.0.1:{}", free_udp_port());
    let (ok, stdout, stderr) = run(&[other], &wasm, &[&server]);
    assert!(!ok, "ran outside its grant: {stdout}");
    assert!(
        stderr.contains(&format!("denied udp-send {server}: no grant covers it")),
        "{stderr}"
    );
    assert!(stderr.contains("permission denied"), "{stderr}");
}

#[test]
fn a_granted_name_resolves_through_the_scoped_lookup_and_others_are_refused() {
    let chrony = start_chrony(free_udp_port(), "");
    let wasm = components_dir().join("sntp-client.wasm");
    let grant = format!("udp://localhost:{}", chrony.port);
    let (ok, stdout, stderr) = run(
        std::slice::from_ref(&grant),
        &wasm,
        &[&format!("localhost:{}", chrony.port), "-4"],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("127.0.0.1 s10"), "{stdout}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("lookup") && l.contains("localhost") && l.contains("allowed")),
        "lookup not audited: {stderr}"
    );

    let (ok, _, stderr) = run(
        &[grant],
        &wasm,
        &[&format!("ip6-localhost:{}", chrony.port)],
    );
    assert!(!ok);
    assert!(stderr.contains("denied lookup ip6-localhost"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("lookup") && l.contains("ip6-localhost") && l.contains("DENIED")),
        "refusal not audited: {stderr}"
    );
}

#[test]
fn hostile_lookup_of_an_ungranted_name_is_refused_and_audited() {
    let grant = format!("tcp-connect://localhost:{}", free_port());
    let (ok, stdout, stderr) = run(&[grant], &hostile_wasm(), &["lookup", "example.com"]);
    assert!(!ok && stdout.contains("BLOCKED"), "{stdout}");
    assert!(stderr.contains("denied lookup example.com"), "{stderr}");
}

#[test]
fn bad_grants_and_missing_files_are_clear_errors() {
    let out = Command::new(netkit())
        .args(["run", "--allow", "udp:/127.0.0.1:1", "x.wasm"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("invalid grant \"udp:/127.0.0.1:1\""),
        "{stderr}"
    );
    assert!(stderr.contains("valid form"), "{stderr}");
    let out = Command::new(netkit())
        .args(["run", "/nonexistent.wasm"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read component /nonexistent.wasm"));
    let out = Command::new(netkit())
        .args(["run", "Cargo.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot load Cargo.toml"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
