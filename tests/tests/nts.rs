//! NTS (RFC 8915) against chronyd 4.3 as an NTS server on loopback (with
//! `chronyd -Q … nts` as the reference client), and against a scripted
//! hostile server for the failures chronyd never shows: forged, misnumbered,
//! replayed and NAKed replies, broken key exchanges, and a key exchange that
//! leads to an ungranted server.

use netkit_tests::nts_server::{self, HostileNts, Ke, Ntp};
use netkit_tests::pki::{Leaf, Pki};
use netkit_tests::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Offsets are compared to the millisecond: one chronyd at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netkit-nts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn nts_chrony(binds: &[&str], leaf: &Leaf, extra: &str) -> (Chrony, u16) {
    start_nts_chrony(binds, &leaf.key, &leaf.chain, extra)
}

fn sntp_nts(server: &str, ca: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![server, "--nts", "--ca", ca.to_str().unwrap()];
    args.extend_from_slice(extra);
    netkit_json("sntp", &args)
}

fn grants(v: &Value) -> Vec<String> {
    v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect()
}

fn denied_addresses(v: &Value) -> Vec<String> {
    v["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["result"] == "denied")
        .map(|e| e["address"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn authenticated_query_agrees_with_chronyd_q_over_ipv4_and_ipv6() {
    let _serial = serial();
    let pki = Pki::new(&scratch("pki-good"));
    let leaf = pki.leaf("ntp", &["127.0.0.1", "::1", "localhost"], -1, 30);
    let (chrony, ke) = nts_chrony(&["127.0.0.1", "::1"], &leaf, "");
    for (host, ke_server) in [
        ("127.0.0.1", format!("127.0.0.1:{ke}")),
        ("::1", format!("[::1]:{ke}")),
    ] {
        let (code, v, stderr) = sntp_nts(&ke_server, &pki.ca, &["--samples", "4", "--burst"]);
        assert_eq!(code, 0, "{v} {stderr}");
        let r = &v["report"];
        assert_eq!(r["authenticated"], true, "{v}");
        let ntp = if host.contains(':') {
            format!("[{host}]:{}", chrony.port)
        } else {
            format!("{host}:{}", chrony.port)
        };
        assert_eq!(r["nts"]["ke_server"], ke_server.as_str(), "{v}");
        assert_eq!(r["nts"]["ntp_server"], ntp.as_str(), "{v}");
        assert_eq!(r["server"], ntp.as_str(), "{v}");
        assert_eq!(r["nts"]["aead"], "AEAD_AES_SIV_CMAC_256", "{v}");
        assert_eq!(
            r["nts"]["cookies_left"], 8,
            "each reply refills the jar: {v}"
        );
        assert!(r["nts"]["ke_ns"].as_u64().unwrap() > 0, "{v}");
        assert_eq!(r["stratum"], 10, "{v}");
        // Exactly the two addresses, and nothing else tried.
        assert_eq!(
            grants(&v),
            [format!("tcp-connect://{ke_server}"), format!("udp://{ntp}")],
            "{v}"
        );
        assert_eq!(v["denied"], 0, "{v}");
        let ours = r["offset_ns"].as_i64().unwrap() as f64 / 1e9;
        let theirs = chronyd_q_nts_offset(host, chrony.port, ke, &pki.ca);
        assert!(
            (ours - theirs).abs() < 0.001,
            "{host}: netkit offset {ours:.6} s vs chronyd -Q nts {theirs:.6} s"
        );
    }
    // Text: the ntpdig line, then how it was authenticated; grants on stderr.
    let out = Command::new(netkit())
        .args(["sntp", "--nts", &format!("localhost:{ke}"), "--ca"])
        .arg(&pki.ca)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout} {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains(" s10 no-leap"), "{stdout}");
    assert!(
        lines[1].starts_with(&format!(
            "authenticated (NTS): key exchange with 127.0.0.1:{ke} in "
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("granted: tcp-connect://localhost:{ke}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("granted: udp://127.0.0.1:{}", chrony.port)),
        "{stderr}"
    );
    // Plain SNTP says it is not authenticated.
    let (code, v, _) = netkit_json("sntp", &[&format!("127.0.0.1:{}", chrony.port)]);
    assert_eq!(
        (code, &v["report"]["authenticated"]),
        (0, &Value::Bool(false)),
        "{v}"
    );
}

#[test]
fn a_key_exchange_naming_another_host_is_refused_unless_granted() {
    let _serial = serial();
    let pki = Pki::new(&scratch("pki-other"));
    let leaf = pki.leaf("ntp2", &["127.0.0.2"], -1, 30);
    // chronyd on 127.0.0.2 names 127.0.0.1 as its NTP server; a relay there
    // forwards to it.
    let (chrony, ke) = nts_chrony(&["127.0.0.2"], &leaf, "ntsntpserver 127.0.0.1");
    let port = chrony.port;
    let _relay = Peer::start(
        "socat",
        Command::new(socat()).args([
            &format!("UDP4-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"),
            &format!("UDP4:127.0.0.2:{port}"),
        ]),
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let ke_server = format!("127.0.0.2:{ke}");
    let (code, v, _) = sntp_nts(&ke_server, &pki.ca, &["--timeout", "2s"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["kind"], "denied", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("--allow-ntp-server 127.0.0.1:{port}")),
        "{message}"
    );
    // The refused address is in the audit, and only the KE was granted.
    assert_eq!(denied_addresses(&v), [format!("127.0.0.1:{port}")], "{v}");
    assert_eq!(grants(&v), [format!("tcp-connect://{ke_server}")], "{v}");
    // A grant for another port of that host does not do.
    let (code, v, _) = sntp_nts(&ke_server, &pki.ca, &["--allow-ntp-server", "127.0.0.1:9"]);
    assert_eq!(
        (code, &v["error"]["kind"]),
        (1, &Value::from("denied")),
        "{v}"
    );
    // Granted: the query goes to 127.0.0.1 through the relay, authenticated.
    let allow = format!("127.0.0.1:{port}");
    let (code, v, stderr) = sntp_nts(&ke_server, &pki.ca, &["--allow-ntp-server", &allow]);
    assert_eq!(code, 0, "{v} {stderr}");
    assert_eq!(v["report"]["authenticated"], true, "{v}");
    assert_eq!(v["report"]["nts"]["ntp_server"], allow.as_str(), "{v}");
    assert_eq!(
        grants(&v),
        [
            format!("tcp-connect://{ke_server}"),
            format!("udp://{allow}")
        ],
        "{v}"
    );
}

#[test]
fn wrong_ca_and_wrong_name_are_refused() {
    let _serial = serial();
    let pki = Pki::new(&scratch("pki-name"));
    let other = Pki::new(&scratch("pki-stranger"));
    let leaf = pki.leaf("v4only", &["127.0.0.1"], -1, 30);
    let (_chrony, ke) = nts_chrony(&["127.0.0.1", "::1"], &leaf, "");
    let (code, v, _) = sntp_nts(&format!("127.0.0.1:{ke}"), &other.ca, &[]);
    assert_eq!(
        (code, &v["error"]["kind"]),
        (1, &Value::from("key-exchange")),
        "{v}"
    );
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("the certificate does not verify for 127.0.0.1"),
        "{m}"
    );
    // The certificate names 127.0.0.1, not ::1.
    let (code, v, _) = sntp_nts(&format!("[::1]:{ke}"), &pki.ca, &[]);
    assert_eq!(
        (code, &v["error"]["kind"]),
        (1, &Value::from("key-exchange")),
        "{v}"
    );
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("does not verify for ::1"), "{m}");
    // Neither got as far as NTP: only the KE server was granted.
    assert_eq!(grants(&v).len(), 1, "{v}");
}

fn hostile(ke: Ke, ntp: Ntp) -> (HostileNts, PathBuf) {
    let pki = Pki::new(&scratch(&format!("pki-hostile-{}", free_port())));
    let leaf = pki.leaf("hostile", &["127.0.0.1"], -1, 30);
    (
        nts_server::start(&leaf.chain, &leaf.key, ke, ntp),
        pki.ca.clone(),
    )
}

#[test]
fn forged_misnumbered_replayed_and_nakked_replies_are_refused_by_name() {
    for (mode, kind, reason) in [
        (
            Ntp::ForgedAuthenticator,
            "bad-reply",
            "authenticator does not verify",
        ),
        (
            Ntp::WrongUniqueId,
            "bad-reply",
            "unique identifier does not match",
        ),
        (Ntp::Nak, "bad-reply", "NTS NAK"),
    ] {
        let (server, ca) = hostile(Ke::Good, mode);
        let (code, v, _) = sntp_nts(
            &server.ke.to_string(),
            &ca,
            &["--timeout", "1s", "--tries", "2"],
        );
        assert_eq!(code, 1, "{mode:?}: {v}");
        assert_eq!(v["error"]["kind"], kind, "{mode:?}: {v}");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains(reason), "{mode:?}: {m}");
        assert!(v.get("report").is_none(), "never used for the offset: {v}");
    }
    // A genuine reply, then that same reply replayed to a later query.
    let (server, ca) = hostile(Ke::Good, Ntp::ReplayFirst);
    let (code, v, _) = sntp_nts(&server.ke.to_string(), &ca, &[]);
    assert_eq!(code, 0, "the first is genuine: {v}");
    let (code, v, _) = sntp_nts(
        &server.ke.to_string(),
        &ca,
        &["--timeout", "1s", "--tries", "1"],
    );
    assert_eq!(code, 1, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unique identifier does not match"),
        "{v}"
    );
}

#[test]
fn broken_key_exchanges_are_refused_by_name() {
    for (mode, reason) in [
        (Ke::NoAead, "no AEAD Algorithm Negotiation record"),
        (Ke::NoCookies, "no cookies"),
        (Ke::UnknownCritical, "type 17185 is marked critical"),
        (Ke::ServerError, "error 2 (Internal Server Error)"),
        (Ke::Truncated, "closed the connection before End of Message"),
    ] {
        let (server, ca) = hostile(mode.clone(), Ntp::Good);
        let (code, v, _) = sntp_nts(&server.ke.to_string(), &ca, &["--timeout", "2s"]);
        assert_eq!(code, 1, "{mode:?}: {v}");
        assert_eq!(v["error"]["kind"], "key-exchange", "{mode:?}: {v}");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains(reason), "{mode:?}: {m}");
        assert_eq!(grants(&v).len(), 1, "{mode:?}: no NTP grant: {v}");
    }
}

#[test]
fn a_key_exchange_leading_elsewhere_is_not_followed() {
    // 127.0.0.3 is loopback too, but nothing may reach it unless granted; a
    // name is refused before any lookup of it. Both show in the audit.
    for host in ["127.0.0.3", "time.invalid"] {
        let (server, ca) = hostile(Ke::Names(host.into(), 123), Ntp::Good);
        let (code, v, _) = sntp_nts(&server.ke.to_string(), &ca, &[]);
        assert_eq!(
            (code, &v["error"]["kind"]),
            (1, &Value::from("denied")),
            "{v}"
        );
        let flag = format!("--allow-ntp-server {host}:123");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(&flag),
            "{v}"
        );
        assert_eq!(v["denied"], 1, "{v}");
        if host.parse::<std::net::IpAddr>().is_ok() {
            assert_eq!(denied_addresses(&v), [format!("{host}:123")], "{v}");
        }
    }
    // Bad flags are the user's to fix, before anything runs.
    let (server, ca) = hostile(Ke::Good, Ntp::Good);
    let out = Command::new(netkit())
        .args([
            "sntp",
            "--nts",
            &server.ke.to_string(),
            "--allow-ntp-server",
            "h:x",
            "--ca",
        ])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--allow-ntp-server"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.key_exchanges(), 0);
}

#[test]
fn the_stock_wasmtime_cli_runs_nts_unmodified() {
    let (server, ca) = hostile(Ke::Good, Ntp::Good);
    let run = |server: &HostileNts, ca: &Path| {
        let out = Command::new(wasmtime())
            .args(["run", "-S", "inherit-network", "--dir"])
            .arg(format!("{}::/pki", ca.parent().unwrap().display()))
            .arg(components_dir().join("sntp-client.wasm"))
            .args([
                "--nts",
                &server.ke.to_string(),
                "--ca",
                "/pki/ca.pem",
                "--json",
            ])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {} {}", text(&out.stdout), text(&out.stderr)));
        (out.status.success(), v)
    };
    let (ok, v) = run(&server, &ca);
    assert!(ok, "{v}");
    assert_eq!(v["report"]["authenticated"], true, "{v}");
    assert_eq!(
        v["report"]["nts"]["ntp_server"],
        server.ntp.to_string(),
        "{v}"
    );
    // The component refuses to be led elsewhere on its own, too.
    let (elsewhere, ca2) = hostile(Ke::Names("127.0.0.3".into(), 123), Ntp::Good);
    let (ok, v) = run(&elsewhere, &ca2);
    assert!(!ok, "{v}");
    assert_eq!(v["error"]["kind"], "denied", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--allow-ntp-server 127.0.0.3:123"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_host_keeps_the_session_and_queries_without_a_new_key_exchange() {
    use netkit::nts::{NtsRequest, run};
    use netkit::sntp::{Family, NtsOptions, QueryOptions, SntpClient};
    let (server, ca) = hostile(Ke::Good, Ntp::Good);
    let host = netkit::runtime::Host::new().unwrap();
    let client = SntpClient::new(&host).unwrap();
    let request = NtsRequest {
        ke_name: "127.0.0.1".into(),
        ke_addr: server.ke,
        options: NtsOptions {
            server_name: None,
            roots: netkit::tls::roots(Some(&ca)).unwrap(),
            timeout_ms: 5000,
        },
        allowed: Vec::new(),
        query: QueryOptions {
            timeout_ms: 2000,
            tries: 2,
            samples: 1,
            burst: true,
            family: Family::Any,
        },
        budget: None,
    };
    let base = netkit::runtime::Sandbox::new("nts", netkit::policy::ResolvedPolicy::new(vec![]));
    let first = run(&client, &base, &request, None).await.unwrap();
    assert!(first.outcome.is_ok(), "{:?}", first.outcome);
    assert_eq!(first.key_exchanges, 1);
    assert!(first.nts.as_ref().unwrap().ke_ns > 0);
    let kept = first.session.clone().unwrap();
    assert_eq!(kept.cookies.len(), 8);
    let mut session = Some(kept);
    for _ in 0..10 {
        let next = run(&client, &base, &request, session.take()).await.unwrap();
        assert!(next.outcome.is_ok(), "{:?}", next.outcome);
        assert_eq!(next.key_exchanges, 0, "cookies kept: no key exchange");
        assert_eq!(next.nts.as_ref().unwrap().ke_ns, 0);
        assert_eq!(next.granted.len(), 1, "only the NTP server granted");
        session = next.session;
    }
    assert_eq!(server.key_exchanges(), 1);
    // Cookies refused (a NAK): a new key exchange in the same run.
    let (naks, ca) = hostile(Ke::Good, Ntp::Nak);
    let mut nak_request = request.clone();
    nak_request.ke_addr = naks.ke;
    nak_request.options.roots = netkit::tls::roots(Some(&ca)).unwrap();
    nak_request.query.timeout_ms = 300;
    let mut stale = session.unwrap();
    stale.ke_server = naks.ke.to_string();
    stale.ntp_server = naks.ntp.ip().to_string();
    stale.ntp_port = naks.ntp.port();
    let again = run(&client, &base, &nak_request, Some(stale))
        .await
        .unwrap();
    assert_eq!(again.key_exchanges, 1, "{:?}", again.outcome);
    assert!(again.outcome.is_err());
    assert_eq!(naks.key_exchanges(), 1);
}

#[test]
fn watch_keeps_cookies_between_runs_and_chronyd_sees_one_key_exchange() {
    let _serial = serial();
    let dir = scratch("watch");
    let pki = Pki::new(&dir.join("pki"));
    let leaf = pki.leaf("ntp", &["127.0.0.1"], -1, 30);
    // chronyc talks to chronyd over a socket in a directory only we may enter.
    let cmd = dir.join("cmd");
    std::fs::create_dir_all(&cmd).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cmd, std::fs::Permissions::from_mode(0o700)).unwrap();
    let sock = cmd.join("chronyd.sock");
    let (chrony, ke) = nts_chrony(
        &["127.0.0.1"],
        &leaf,
        &format!("bindcmdaddress {}", sock.display()),
    );
    let (elsewhere, elsewhere_ca) = hostile(Ke::Names("127.0.0.3".into(), 123), Ntp::Good);
    let before = serverstats(&sock);
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[probe]]
name = "nts"
kind = "sntp"
target = "127.0.0.1:{ke}"
nts = true
tls_config = {{ ca_file = "{ca}" }}
interval = "300ms"
timeout = "2s"

[[probe]]
name = "led-elsewhere"
kind = "sntp"
target = "{elsewhere}"
nts = true
tls_config = {{ ca_file = "{elsewhere_ca}" }}
interval = "300ms"
timeout = "2s"

"#,
            ca = pki.ca.display(),
            elsewhere = elsewhere.ke,
            elsewhere_ca = elsewhere_ca.display(),
        ),
    )
    .unwrap();
    let (_watch, listen) = start_netkit_watch(&config);
    let start = std::time::Instant::now();
    let metrics = loop {
        let m = http("GET", listen, "/metrics").1;
        if metric_sample(&m, "netkit_probe_runs_total", "probe=\"nts\"").unwrap_or(0.0) >= 8.0 {
            break m;
        }
        assert!(
            start.elapsed().as_secs() < 30,
            "8 runs never happened:\n{m}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let get = |metric: &str, probe: &str| {
        metric_sample(&metrics, metric, &format!("probe=\"{probe}\""))
            .unwrap_or_else(|| panic!("no {metric} for {probe}:\n{metrics}"))
    };
    assert_eq!(get("probe_success", "nts"), 1.0, "{metrics}");
    assert_eq!(get("probe_nts_authenticated", "nts"), 1.0, "{metrics}");
    assert_eq!(get("probe_nts_key_exchanges", "nts"), 1.0, "{metrics}");
    assert_eq!(
        get("probe_nts_key_exchange_seconds", "nts"),
        0.0,
        "{metrics}"
    );
    assert_eq!(get("probe_nts_cookies", "nts"), 8.0, "{metrics}");
    assert_eq!(get("probe_sntp_stratum", "nts"), 10.0, "{metrics}");
    // chronyd agrees: one key exchange (beyond the readiness check's
    // connection), every NTP packet of ours authenticated.
    let after = serverstats(&sock);
    assert_eq!(
        after.0 - before.0,
        1,
        "NTS-KE connections accepted: {before:?} then {after:?}"
    );
    assert!(
        after.1 - before.1 >= 8,
        "authenticated NTP packets: {before:?} then {after:?}"
    );
    // Led to an ungranted server: every run fails as denied, at no cost to the other.
    assert_eq!(get("probe_success", "led-elsewhere"), 0.0, "{metrics}");
    assert_eq!(
        get("probe_nts_authenticated", "led-elsewhere"),
        0.0,
        "{metrics}"
    );
    assert!(
        get("netkit_sandbox_denied_total", "led-elsewhere") >= 1.0,
        "{metrics}"
    );
    let (status, body) = http("GET", listen, "/probe?module=led-elsewhere&debug=true");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("allow_ntp_servers"), "{body}");
    drop(chrony);
}

#[test]
fn watch_refuses_nts_settings_that_cannot_hold() {
    let dir = scratch("watch-bad");
    let base = "[[probe]]\nname = \"n\"\nkind = \"sntp\"\ntarget = \"127.0.0.1:4460\"\n";
    for (extra, expect) in [
        (
            "nts = true\ntls_config = { insecure_skip_verify = true }\n",
            "authenticates nothing",
        ),
        (
            "nts = true\ntls_config = { min_version = \"TLS12\" }\n",
            "TLS 1.3 only",
        ),
        (
            "allow_ntp_servers = [\"127.0.0.1\"]\n",
            "only for kind = \"sntp\" with nts = true",
        ),
        (
            "nts = true\nallow_ntp_servers = [\"h:x\"]\n",
            "allow_ntp_servers",
        ),
        (
            "tls_config = { ca_file = \"x\" }\n",
            "tls_config is only for",
        ),
    ] {
        let config = dir.join("bad.toml");
        std::fs::write(&config, format!("{base}{extra}")).unwrap();
        let out = Command::new(netkit())
            .args(["watch", "--config"])
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{}", free_port())])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expect), "{extra}: {stderr}");
    }
    let config = dir.join("bad.toml");
    std::fs::write(
        &config,
        "[[probe]]\nname = \"n\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:1\"\nnts = true\n",
    )
    .unwrap();
    let out = Command::new(netkit())
        .args(["watch", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nts = is only for kind = \"sntp\""),
        "{}",
        text(&out.stderr)
    );
}

/// chronyd's (NTS-KE connections accepted, authenticated NTP packets), from `chronyc serverstats`.
fn serverstats(sock: &Path) -> (u64, u64) {
    let out = Command::new("chronyc")
        .arg("-h")
        .arg(sock)
        .arg("serverstats")
        .output()
        .expect("chronyc (apt-get install -y chrony)");
    let stats = text(&out.stdout);
    let stat = |name: &str| -> u64 {
        stats
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next()?.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no {name:?} in chronyc serverstats: {stats} {}",
                    text(&out.stderr)
                )
            })
    };
    (
        stat("NTS-KE connections accepted"),
        stat("Authenticated NTP packets"),
    )
}
