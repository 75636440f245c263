//! `netkit tls` and the tls-probe component against Debian's nginx serving
//! certificates the test makes (a chain through a test CA, expired, not yet
//! valid, wrong name, self-signed; TLS 1.2-only and 1.3-only servers), with
//! `openssl x509` as the reference for every certificate fact.

use netkit_tests::nginx::{Nginx, Site, start_nginx};
use netkit_tests::pki::{Leaf, Pki};
use netkit_tests::{netkit, openssl, text};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const HELLO: &str = "    location / { return 200 \"hello\\n\"; }";

struct World {
    dir: PathBuf,
    pki: Pki,
    good: Leaf,
    nginx: Nginx,
}

/// Sites, in order: good, expired, not-yet-valid, wrong-name, self-signed, 1.2-only, 1.3-only.
fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("netkit-tls-probe-{}", std::process::id()));
        let pki = Pki::new(&dir);
        let good = pki.leaf("good", &["localhost", "127.0.0.1"], -1, 60);
        let expired = pki.leaf("expired", &["localhost", "127.0.0.1"], -90, -2);
        let future = pki.leaf("future", &["localhost", "127.0.0.1"], 10, 100);
        let wrong = pki.leaf("wrong", &["other.test"], -1, 60);
        let own = pki.self_signed("own", &["localhost", "127.0.0.1"]);
        let mut only12 = Site::tls(&good, HELLO);
        only12.protocols = "TLSv1.2";
        let mut only13 = Site::tls(&good, HELLO);
        only13.protocols = "TLSv1.3";
        let nginx = start_nginx(
            &dir.join("nginx"),
            &[
                Site::tls(&good, HELLO),
                Site::tls(&expired, HELLO),
                Site::tls(&future, HELLO),
                Site::tls(&wrong, HELLO),
                Site::tls(&own, HELLO),
                only12,
                only13,
            ],
        );
        World {
            dir,
            pki,
            good,
            nginx,
        }
    })
}

fn addr(i: usize) -> String {
    world().nginx.addrs[i].to_string()
}

/// `netkit tls ARGS --json`: (exit code, the JSON, stderr).
fn tls_json(args: &[&str]) -> (i32, Value, String) {
    netkit_tests::netkit_json("tls", args)
}

fn ca() -> String {
    world().pki.ca.display().to_string()
}

fn openssl_x509(pem: &Path, args: &[&str]) -> String {
    let out = Command::new(openssl())
        .arg("x509")
        .arg("-in")
        .arg(pem)
        .arg("-noout")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl x509: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

fn openssl_date(pem: &Path, flag: &str) -> i64 {
    // -dateopt iso_8601 is OpenSSL 3; `date -d` reads it.
    let d = openssl_x509(pem, &[flag, "-dateopt", "iso_8601"]);
    let d = d.split_once('=').unwrap().1;
    let out = Command::new("date")
        .args(["-u", "-d", d, "+%s"])
        .output()
        .unwrap();
    text(&out.stdout).trim().parse().unwrap()
}

#[test]
fn a_good_chain_verifies_and_every_fact_agrees_with_openssl() {
    let w = world();
    let (code, j, stderr) = tls_json(&[&addr(0), "--ca", &ca(), "--sni", "localhost"]);
    assert_eq!(code, 0, "{j}\n{stderr}");
    let r = &j["report"];
    assert_eq!(r["verified"], true);
    assert_eq!(r["handshake"]["version"], "TLS 1.3");
    assert!(
        r["handshake"]["cipher"]
            .as_str()
            .unwrap()
            .starts_with("TLS_")
    );
    assert!(r["handshake"]["group"].is_string());
    let chain = r["handshake"]["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "leaf and intermediate as sent");
    for (cert, pem) in [
        (&chain[0], &w.good.leaf),
        (&chain[1], w.good.intermediate.as_ref().unwrap()),
    ] {
        let subject = openssl_x509(pem, &["-subject", "-nameopt", "RFC2253"]);
        assert_eq!(
            format!("subject={}", cert["subject"].as_str().unwrap()),
            subject
        );
        let issuer = openssl_x509(pem, &["-issuer", "-nameopt", "RFC2253"]);
        assert_eq!(
            format!("issuer={}", cert["issuer"].as_str().unwrap()),
            issuer
        );
        let serial = openssl_x509(pem, &["-serial"]).to_lowercase();
        assert_eq!(
            serial.trim_start_matches("serial=").trim_start_matches('0'),
            cert["serial"].as_str().unwrap()
        );
        let fp = openssl_x509(pem, &["-fingerprint", "-sha256"])
            .to_lowercase()
            .replace(':', "");
        assert_eq!(
            fp.split_once('=').unwrap().1,
            cert["fingerprint_sha256"].as_str().unwrap()
        );
        assert_eq!(
            openssl_date(pem, "-startdate"),
            cert["not_before"].as_i64().unwrap()
        );
        assert_eq!(
            openssl_date(pem, "-enddate"),
            cert["not_after"].as_i64().unwrap()
        );
        let key = openssl_x509(pem, &["-text"]);
        assert!(key.contains("Public-Key: (256 bit)"), "{key}");
        assert_eq!(
            (cert["key_type"].as_str(), cert["key_bits"].as_u64()),
            (Some("EC"), Some(256))
        );
    }
    let sans = openssl_x509(&w.good.leaf, &["-ext", "subjectAltName"]);
    assert!(
        sans.contains("DNS:localhost") && sans.contains("IP Address:127.0.0.1"),
        "{sans}"
    );
    assert_eq!(
        chain[0]["sans"],
        serde_json::json!(["localhost", "127.0.0.1"])
    );
    let days = r["leaf_days_left"].as_i64().unwrap();
    assert!((58..=60).contains(&days), "{days}");
    // Only the target was granted and touched.
    assert_eq!(
        j["grants"],
        serde_json::json!([format!("tcp-connect://{}", addr(0))])
    );
    assert_eq!(j["denied"], 0);
}

#[test]
fn each_bad_certificate_fails_with_its_reason_and_still_every_fact() {
    for (site, reason) in [
        (1, "expired"),
        (2, "not-yet-valid"),
        (3, "name-mismatch"),
        (4, "self-signed"),
    ] {
        let (code, j, stderr) = tls_json(&[&addr(site), "--ca", &ca(), "--sni", "localhost"]);
        assert_eq!(code, 1, "site {site}: {j}");
        let r = &j["report"];
        assert_eq!(r["verified"], false, "site {site}");
        assert_eq!(
            r["handshake"]["verification"]["error"], reason,
            "site {site}: {j}"
        );
        assert!(stderr.contains(reason), "{stderr}");
        let leaf = &r["handshake"]["chain"][0];
        assert!(leaf["subject"].as_str().unwrap().contains("CN="), "{leaf}");
        assert!(leaf["not_after"].as_i64().unwrap() > 0);
        assert_eq!(r["handshake"]["version"], "TLS 1.3");
        // --insecure reports the same and exits 0.
        let (code, j, _) = tls_json(&[
            &addr(site),
            "--ca",
            &ca(),
            "--sni",
            "localhost",
            "--insecure",
        ]);
        assert_eq!(code, 0, "site {site} --insecure: {j}");
        assert_eq!(j["report"]["handshake"]["verification"]["error"], reason);
    }
    // Expired: the days left are negative, not hidden.
    let (_, j, _) = tls_json(&[&addr(1), "--ca", &ca(), "--insecure"]);
    assert!(j["report"]["leaf_days_left"].as_i64().unwrap() < 0);
}

#[test]
fn without_the_test_ca_the_issuer_is_unknown() {
    // The system bundle does not hold the test root.
    let (code, j, _) = tls_json(&[&addr(0), "--sni", "localhost"]);
    assert_eq!(code, 1);
    assert_eq!(
        j["report"]["handshake"]["verification"]["error"],
        "unknown-issuer"
    );
}

#[test]
fn versions_are_negotiated_and_bounded() {
    let (code, j, _) = tls_json(&[&addr(5), "--ca", &ca(), "--sni", "localhost"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["report"]["handshake"]["version"], "TLS 1.2");
    assert!(
        j["report"]["handshake"]["cipher"]
            .as_str()
            .unwrap()
            .starts_with("TLS_ECDHE_")
    );
    let (code, j, _) = tls_json(&[&addr(6), "--ca", &ca(), "--sni", "localhost"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["report"]["handshake"]["version"], "TLS 1.3");
    // A 1.2-only server and --min-version 1.3: no common version, a clear failure.
    let (code, j, _) = tls_json(&[&addr(5), "--ca", &ca(), "--min-version", "1.3"]);
    assert_eq!(code, 1);
    assert_eq!(j["error"]["kind"], "handshake-failed", "{j}");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("TLS handshake failed"),
        "{j}"
    );
    let (code, j, _) = tls_json(&[&addr(6), "--ca", &ca(), "--max-version", "1.2"]);
    assert_eq!(code, 1);
    assert_eq!(j["error"]["kind"], "handshake-failed", "{j}");
}

#[test]
fn warn_days_fails_on_a_leaf_expiring_soon() {
    let (code, _, _) = tls_json(&[
        &addr(0),
        "--ca",
        &ca(),
        "--sni",
        "localhost",
        "--warn-days",
        "30",
    ]);
    assert_eq!(code, 0);
    let (code, _, stderr) = tls_json(&[
        &addr(0),
        "--ca",
        &ca(),
        "--sni",
        "localhost",
        "--warn-days",
        "90",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("the leaf expires") && stderr.contains("--warn-days 90"),
        "{stderr}"
    );
}

#[test]
fn text_output_reads_like_s_client_brief_with_the_chain() {
    let out = Command::new(netkit())
        .args([
            "tls",
            &addr(0),
            "--ca",
            &ca(),
            "--sni",
            "localhost",
            "--audit",
        ])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for needle in [
        "Protocol version: TLS 1.3",
        "Ciphersuite: TLS_",
        "Verification: OK",
        "Chain as sent (2 certificates)",
        "CN=netkit test intermediate",
    ] {
        assert!(stdout.contains(needle), "{needle:?} in {stdout}");
    }
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("granted: tcp-connect://{}", addr(0))),
        "{stderr}"
    );
}

#[test]
fn the_component_runs_under_the_stock_wasmtime_cli_with_roots_from_a_dir() {
    let w = world();
    let wasm = netkit_tests::components_dir().join("tls-probe.wasm");
    let out = Command::new(netkit_tests::wasmtime())
        .args(["run", "-S", "inherit-network", "--dir"])
        .arg(format!("{}::/pki", w.dir.display()))
        .arg(&wasm)
        .args([
            &addr(0),
            "--ca",
            "/pki/ca.pem",
            "--sni",
            "localhost",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["report"]["verified"], true, "{j}");
    // No roots readable: verification fails and says why, with every fact.
    let out = Command::new(netkit_tests::wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(&wasm)
        .args([&addr(0), "--json"])
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        j["report"]["handshake"]["verification"]["error"], "unknown-issuer",
        "{j}"
    );
    assert!(
        j["report"]["handshake"]["verification"]["detail"]
            .as_str()
            .unwrap()
            .contains("no trust roots")
    );
}

#[test]
fn a_server_that_stalls_mid_handshake_times_out_within_the_timeout() {
    // Accepts, reads the ClientHello, never answers.
    let stall = netkit_tests::tcp_holding();
    let start = std::time::Instant::now();
    let (code, j, _) = tls_json(&[&stall.to_string(), "--timeout", "1s"]);
    assert_eq!(code, 1);
    assert_eq!(j["error"]["kind"], "timeout", "{j}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// A TLS 1.2 "server" that answers any ClientHello with a ServerHello, a
/// Certificate message holding one malformed certificate, a key exchange and
/// ServerHelloDone, in the clear as TLS 1.2 sends them.
fn malformed_certificate_server() -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 16 * 1024];
            let _ = s.read(&mut buf);
            let hs = |t: u8, body: &[u8]| {
                let n = body.len();
                let mut m = vec![t, (n >> 16) as u8, (n >> 8) as u8, n as u8];
                m.extend_from_slice(body);
                m
            };
            let mut hello = vec![3, 3];
            hello.extend_from_slice(&[0x42; 32]);
            hello.extend_from_slice(&[0, 0xc0, 0x2f, 0, 0, 0]);
            let garbage = [0x30u8, 0x03, 0x02, 0x01, 0x00];
            let mut certs = vec![0, 0, garbage.len() as u8 + 3, 0, 0, garbage.len() as u8];
            certs.extend_from_slice(&garbage);
            let mut kx = vec![3, 0, 0x1d, 32];
            kx.extend_from_slice(&[9u8; 32]);
            kx.extend_from_slice(&[8, 4, 0, 2, 0xab, 0xcd]);
            let mut msgs = hs(2, &hello);
            msgs.extend(hs(11, &certs));
            msgs.extend(hs(12, &kx));
            msgs.extend(hs(14, &[]));
            let mut record = vec![0x16, 3, 3, (msgs.len() >> 8) as u8, msgs.len() as u8];
            record.extend(msgs);
            let _ = s.write_all(&record);
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    });
    addr
}

#[test]
fn a_malformed_certificate_is_reported_with_its_fingerprint_not_a_crash() {
    let addr = malformed_certificate_server();
    let start = std::time::Instant::now();
    let (code, j, _) = tls_json(&[&addr.to_string(), "--ca", &ca(), "--timeout", "3s"]);
    assert_eq!(code, 1, "{j}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(j["error"]["kind"], "handshake-failed", "{j}");
    let h = &j["error"]["handshake"];
    assert_eq!(h["verification"]["error"], "malformed", "{j}");
    assert!(
        h["chain"][0]["parse_error"]
            .as_str()
            .unwrap()
            .contains("malformed certificate"),
        "{j}"
    );
    assert_eq!(
        h["chain"][0]["fingerprint_sha256"].as_str().unwrap().len(),
        64
    );
}

#[test]
fn a_chain_of_100_certificates_is_read_whole_and_bounded() {
    let w = world();
    // The leaf, then the intermediate 99 times.
    let leaf = std::fs::read_to_string(&w.good.leaf).unwrap();
    let int = std::fs::read_to_string(w.good.intermediate.as_ref().unwrap()).unwrap();
    let mut long = w.good.clone();
    long.chain = w.dir.join("long.chain.pem");
    std::fs::write(&long.chain, format!("{leaf}{}", int.repeat(99))).unwrap();
    let nginx = start_nginx(&w.dir.join("nginx-long"), &[Site::tls(&long, HELLO)]);
    let start = std::time::Instant::now();
    let (code, j, _) = tls_json(&[
        &nginx.addrs[0].to_string(),
        "--ca",
        &ca(),
        "--sni",
        "localhost",
        "--timeout",
        "5s",
    ]);
    assert!(start.elapsed() < std::time::Duration::from_secs(7));
    let chain = j["report"]["handshake"]["chain"]
        .as_array()
        .unwrap_or_else(|| panic!("{j}"));
    assert_eq!(chain.len(), 100);
    // Whatever webpki makes of 99 copies, the verdict is a verdict.
    assert!(
        code == 0 || j["report"]["handshake"]["verification"]["error"].is_string(),
        "{j}"
    );
}

/// aiosmtpd (PyPI) with STARTTLS, serving the good chain.
fn start_aiosmtpd() -> (netkit_tests::Peer, std::net::SocketAddr) {
    let w = world();
    netkit_tests::start_aiosmtpd(&w.good.chain, &w.good.key)
}

#[test]
fn starttls_smtp_against_aiosmtpd() {
    let (_smtp, addr) = start_aiosmtpd();
    let (code, j, stderr) = tls_json(&[
        &addr.to_string(),
        "--starttls",
        "smtp",
        "--ca",
        &ca(),
        "--sni",
        "localhost",
    ]);
    assert_eq!(code, 0, "{j}\n{stderr}");
    assert_eq!(j["report"]["verified"], true);
    assert_eq!(
        j["report"]["handshake"]["chain"].as_array().unwrap().len(),
        2
    );
    // Without STARTTLS the server's greeting is not TLS: a clear failure, not a hang.
    let (code, j, _) = tls_json(&[&addr.to_string(), "--ca", &ca(), "--timeout", "3s"]);
    assert_eq!(code, 1);
    assert!(
        matches!(
            j["error"]["kind"].as_str(),
            Some("handshake-failed" | "timeout")
        ),
        "{j}"
    );
    // STARTTLS against a server that does not speak SMTP names what it got.
    let (code, j, _) = tls_json(&[
        &world().nginx.addrs[0].to_string(),
        "--starttls",
        "smtp",
        "--timeout",
        "2s",
    ]);
    assert_eq!(code, 1);
    assert!(
        j["error"]["message"].as_str().unwrap().contains("SMTP"),
        "{j}"
    );
}

#[test]
fn an_alpn_name_the_handshake_cannot_carry_is_refused_not_blamed_on_the_server() {
    // Issue 31: an empty or 256-byte --alpn failed the handshake as if the server had.
    let long = "a".repeat(256);
    for alpn in ["", long.as_str(), "h2,"] {
        let out = std::process::Command::new(netkit_tests::netkit())
            .args(["tls", "127.0.0.1:9", "--alpn", alpn])
            .output()
            .unwrap();
        let e = netkit_tests::text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{alpn:?}: {e}");
        assert!(e.contains("1 to 255 bytes"), "{alpn:?}: {e}");
        assert!(!e.contains("granted"), "{alpn:?}: {e}");
    }
}
