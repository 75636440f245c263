//! Builds the guest components for `wasm32-wasip2` and hands their paths to the crate,
//! which embeds them. Modelled on wasmtime's `crates/test-programs/artifacts/build.rs`.
//!
//! The inner cargo gets its own target directory: sharing the outer one deadlocks on
//! its lock. Its flags are cleared so that host-only RUSTFLAGS never reach the guests.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (cargo package, output file stem, env var the crate reads).
const GUESTS: &[(&str, &str, &str)] = &[
    ("echo-server", "echo_server", "NETKIT_ECHO_SERVER_WASM"),
    ("echo-client", "echo_client", "NETKIT_ECHO_CLIENT_WASM"),
    ("sntp-client", "sntp_client", "NETKIT_SNTP_CLIENT_WASM"),
    ("sntp-server", "sntp_server", "NETKIT_SNTP_SERVER_WASM"),
    ("tcp-probe", "tcp_probe", "NETKIT_TCP_PROBE_WASM"),
    ("udp-probe", "udp_probe", "NETKIT_UDP_PROBE_WASM"),
    ("dns-probe", "dns_probe", "NETKIT_DNS_PROBE_WASM"),
    ("tls-probe", "tls_probe", "NETKIT_TLS_PROBE_WASM"),
    ("http-probe", "http_probe", "NETKIT_HTTP_PROBE_WASM"),
    ("ping", "ping", "NETKIT_PING_WASM"),
    // Test-only: built here so the tests find it beside the others; never embedded.
    ("hostile", "hostile", "NETKIT_HOSTILE_WASM"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root");
    for dir in ["guest", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    println!(
        "cargo:rustc-env=NETKIT_WASMTIME_VERSION={}",
        locked_version(&root.join("Cargo.lock"), "wasmtime")
    );

    let target_dir = guest_target_dir(root);
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--profile",
            "guest",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER");
    for (package, _, _) in GUESTS {
        cmd.args(["-p", package]);
    }
    let status = cmd
        .status()
        .expect("netkit build.rs: could not start cargo to build the guest components");
    if !status.success() {
        panic!(
            "netkit build.rs: building the guest components failed ({status}); \
             is the wasm32-wasip2 target installed? (rustup target add wasm32-wasip2)"
        );
    }
    let mut digests = String::new();
    for (_, stem, var) in GUESTS {
        let wasm = target_dir
            .join("wasm32-wasip2/guest")
            .join(format!("{stem}.wasm"));
        let bytes = std::fs::read(&wasm)
            .unwrap_or_else(|e| panic!("netkit build.rs: {} was not built: {e}", wasm.display()));
        println!("cargo:rustc-env={var}={}", wasm.display());
        // The compile cache names a component by its SHA-256: for the built-in
        // ones it is known now, so a run does not hash them again.
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
        digests.push_str(&format!(
            "pub(crate) const {}_SHA256: [u8; 32] = {:?};\n",
            stem.to_uppercase(),
            digest.as_slice()
        ));
    }
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("builtin_digests.rs");
    std::fs::write(&out, digests).expect("netkit build.rs: cannot write builtin_digests.rs");
}

/// `<target>/guest`, where `<target>` is `CARGO_TARGET_DIR` or the workspace's `target/`.
fn guest_target_dir(root: &Path) -> PathBuf {
    let base = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    base.join("guest")
}

/// The version of `package` that Cargo.lock pins (for `netkit --version`).
fn locked_version(lock: &Path, package: &str) -> String {
    let text = std::fs::read_to_string(lock).expect("netkit build.rs: cannot read Cargo.lock");
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = text
        .find(&needle)
        .map(|i| i + needle.len())
        .expect("netkit build.rs: Cargo.lock does not pin wasmtime");
    text[start..].split('"').next().unwrap_or("?").to_string()
}
