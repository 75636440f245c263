//! `netkit watch` as a drop-in for blackbox_exporter: its config files load
//! unchanged (blackbox's own two and fifteen real ones), `--config.check`
//! reports per module what netkit lacks, bad files are refused at
//! file:line:col, and the modules run beside Debian's blackbox_exporter
//! against the same loopback peers with the same metrics.

use netkit_tests::nginx::{Site, start_nginx};
use netkit_tests::{
    Peer, free_port, http, metric_sample, netkit, probe_metrics, socat, spawn_netkit_watch,
    start_blackbox_exporter, start_netkit_watch, start_unbound, wait_for_http, wait_for_tcp,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("blackbox-configs")
        .join(name)
}

/// `netkit watch --config.check --config.file F`: exit code, stdout, stderr.
fn check(file: &Path) -> (i32, String, String) {
    let out = Command::new(netkit())
        .args(["watch", "--config.check", "--config.file"])
        .arg(file)
        .output()
        .expect("netkit runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report's verdict per module, and the problems under each.
fn verdicts(report: &str) -> BTreeMap<String, (String, String)> {
    let mut out: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in report.lines() {
        if let Some(rest) = line.strip_prefix("  ")
            && !rest.starts_with(' ')
            && rest != "(file)"
        {
            let (m, v) = rest.rsplit_once(": ").expect("NAME: verdict");
            out.insert(m.into(), (v.into(), String::new()));
            current = Some(m.into());
        } else if line.starts_with("    ")
            && let Some(m) = &current
        {
            out.get_mut(m).unwrap().1.push_str(line);
        }
    }
    out
}

/// What each file of the corpus must report: the modules that do not load
/// (verdict and a word of the reason); every other module must be `ok`.
/// A module that does not load: its name, its verdict, a word of the reason.
type Refused = (&'static str, &'static str, &'static str);

const EXPECTED: &[(&str, usize, &[Refused])] = &[
    (
        "upstream/blackbox.yml",
        14,
        &[
            ("grpc", "unsupported", "grpc prober"),
            ("grpc_plain", "unsupported", "grpc prober"),
            ("websocket", "unsupported", "websocket prober"),
            ("http_3xx", "unsupported", "enable_http3"),
        ],
    ),
    (
        "upstream/example.yml",
        27,
        &[
            ("http_2xx_example", "unsupported", "http_headers"),
            ("http_with_proxy", "unsupported", "proxy_url"),
            (
                "http_with_proxy_and_headers",
                "unsupported",
                "proxy_connect_header",
            ),
            ("http_json_cel_match", "unsupported", "CEL"),
            ("http_2xx_oauth_client_credentials", "unsupported", "OAuth2"),
            ("icmp_example", "unsupported", "source_ip_address"),
            ("unix_socket_ping", "unsupported", "unix prober"),
            ("http_with_header_from_files", "unsupported", "http_headers"),
            (
                "websocket_example_basic_auth",
                "unsupported",
                "websocket prober",
            ),
            (
                "websocket_example_bearer_token",
                "unsupported",
                "websocket prober",
            ),
        ],
    ),
    (
        "01-wikimedia-common.yml",
        16,
        &[
            ("gnmi_connect", "unsupported", "grpc prober"),
            ("http_connect_23xx_proxied", "unsupported", "proxy_url"),
        ],
    ),
    ("02-sapcc-helm-charts.yml", 10, &[]),
    ("03-kolla-ansible.yml", 10, &[]),
    ("04-matrix-org.yml", 4, &[]),
    ("05-archlinux-infrastructure.yml", 5, &[]),
    ("06-kube-prometheus.yml", 6, &[]),
    ("07-giantswarm-blackbox-app.yml", 5, &[]),
    ("08-nsrc-noc-setup.yml", 4, &[]),
    ("09-gardener-shoot.yml", 1, &[]),
    ("10-moj-staff-infra.yml", 5, &[]),
    ("11-teamapps-general.yml", 15, &[]),
    ("12-pingcap-tiup.yml", 8, &[]),
    ("13-kerus1024-backup.yml", 3, &[]),
    ("14-pigsty.yml", 5, &[]),
    ("15-elan-ev-opencast.yml", 2, &[]),
];

#[test]
fn config_check_reports_every_corpus_file_module_by_module() {
    for (file, count, refused) in EXPECTED {
        let path = corpus(file);
        assert!(path.is_file(), "{}: the corpus is missing", path.display());
        let (code, out, err) = check(&path);
        let v = verdicts(&out);
        assert_eq!(v.len(), *count, "{file}: modules in the report\n{out}{err}");
        for (m, (verdict, problems)) in &v {
            match refused.iter().find(|(n, _, _)| n == m) {
                Some((_, want, why)) => {
                    assert_eq!(verdict, want, "{file} {m}\n{out}");
                    assert!(problems.contains(why), "{file} {m}: {why:?} in\n{problems}");
                }
                None => assert_eq!(verdict, "ok", "{file} {m}: {problems}"),
            }
        }
        assert_eq!(code, i32::from(!refused.is_empty()), "{file}\n{out}{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // blackbox's deprecation warning, where blackbox logs it (files 01, 02, 10, 11, 15).
    for file in [
        "01-wikimedia-common.yml",
        "02-sapcc-helm-charts.yml",
        "10-moj-staff-infra.yml",
        "11-teamapps-general.yml",
        "15-elan-ev-opencast.yml",
    ] {
        let out = check(&corpus(file)).1;
        assert!(
            out.contains("no_follow_redirects: deprecated"),
            "{file}\n{out}"
        );
    }
    // The HTTP/2 default is said, and "HTTP/2" (never Go's "HTTP/2.0") is noted.
    let out = check(&corpus("15-elan-ev-opencast.yml")).1;
    assert!(out.contains("enable_http2: true (the default)"), "{out}");
    assert!(out.contains("\"HTTP/2\" never equals"), "{out}");
}

/// A bad file: `netkit watch` refuses to start, naming file:line:col.
fn refused(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = Command::new(netkit())
        .args(["watch", "--config.file"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn bad_configs_are_refused_at_file_line_and_column_all_at_once() {
    let dir = std::env::temp_dir().join(format!("netkit-bb-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let e = refused(
        &dir,
        "unknown.yml",
        "modules:\n  a:\n    prober: http\n    http:\n      valid_status_code: [200]\n",
    );
    assert!(
        e.contains(&format!(
            "{d}/unknown.yml:5:7: module \"a\": modules.a.http.valid_status_code: unknown key"
        )),
        "{e}"
    );
    let e = refused(
        &dir,
        "dup.yml",
        "modules:\n  a:\n    prober: tcp\n    prober: http\n",
    );
    assert!(
        e.contains(&format!(
            "{d}/dup.yml:4:5: not YAML: mapping key \"prober\" already defined at line 3"
        )),
        "{e}"
    );
    let e = refused(
        &dir,
        "type.yml",
        "modules:\n  a:\n    prober: http\n    timeout: soon\n",
    );
    assert!(
        e.contains(&format!(
            "{d}/type.yml:4:14: module \"a\": modules.a.timeout: \"soon\" is not a duration"
        )),
        "{e}"
    );
    let e = refused(
        &dir,
        "regex.yml",
        "modules:\n  a:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: [\"a(\"]\n",
    );
    assert!(
        e.contains(&format!(
            "{d}/regex.yml:5:37: module \"a\": modules.a.http.fail_if_body_matches_regexp"
        )),
        "{e}"
    );
    assert!(e.contains("not a regular expression"), "{e}");
    let e = refused(&dir, "prober.yml", "modules:\n  a:\n    prober: htp\n");
    assert!(
        e.contains(&format!(
            "{d}/prober.yml:3:13: module \"a\": modules.a.prober: prober 'htp' is not valid"
        )),
        "{e}"
    );
    // Unsupported keys are refused by name with the reason, all in one message.
    let e = refused(
        &dir,
        "many.yml",
        "modules:\n  a:\n    prober: http\n    http:\n      proxy_url: http://127.0.0.1:3128\n      oauth2:\n        client_id: x\n  b:\n    prober: grpc\n",
    );
    assert!(e.contains("(3 problems;"), "{e}");
    assert!(e.contains(&format!("unsupported: {d}/many.yml:5:18: module \"a\": modules.a.http.proxy_url: proxies are not supported yet")), "{e}");
    assert!(
        e.contains(&format!(
            "unsupported: {d}/many.yml:6:7: module \"a\": modules.a.http.oauth2: OAuth2"
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "unsupported: {d}/many.yml:9:13: module \"b\": modules.b.prober: the grpc prober"
        )),
        "{e}"
    );
    // And the same through --config.check: exit 1, the module named.
    let (code, out, _) = check(&dir.join("many.yml"));
    assert_eq!(code, 1);
    assert!(
        out.contains("  a: unsupported\n") && out.contains("  b: unsupported\n"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The metric names (families) of an exposition.
fn names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_string())
        .collect()
}

/// `/probe` of `module` on `target` from blackbox_exporter at `bb` and netkit
/// at `ours`: both succeed or fail as `success` says, the metrics in `same`
/// are equal, and netkit has every metric name blackbox returned. Both texts.
fn side_by_side(
    bb: SocketAddr,
    ours_at: SocketAddr,
    module: &str,
    target: &str,
    success: f64,
    same: &[&str],
) -> (String, String) {
    let success = &success;
    let theirs = probe_metrics(bb, module, target);
    let ours = probe_metrics(ours_at, module, target);
    let v = |t: &str, m: &str| metric_sample(t, m, "");
    assert_eq!(
        v(&theirs, "probe_success"),
        Some(*success),
        "blackbox {module} {target}\n{theirs}"
    );
    assert_eq!(
        v(&ours, "probe_success"),
        Some(*success),
        "netkit {module} {target}\n{ours}\nblackbox:\n{theirs}"
    );
    for m in same {
        assert!(v(&theirs, m).is_some(), "blackbox {module}: {m}\n{theirs}");
        assert_eq!(
            v(&ours, m),
            v(&theirs, m),
            "{module} {target}: {m}\nnetkit:\n{ours}\nblackbox:\n{theirs}"
        );
    }
    let missing: Vec<String> = names(&theirs).difference(&names(&ours)).cloned().collect();
    assert!(
        missing.is_empty(),
        "{module} {target}: netkit lacks {missing:?}\nnetkit:\n{ours}\nblackbox:\n{theirs}"
    );
    (theirs, ours)
}

/// The modules of one blackbox.yml, run by netkit watch and by
/// blackbox_exporter against the same loopback peers: the same verdicts,
/// the same metric names, equal values where the outcome is deterministic.
#[test]
fn a_blackbox_yml_runs_beside_blackbox_exporter_with_the_same_metrics() {
    netkit_tests::require_ping_group();
    let dir = std::env::temp_dir().join(format!("netkit-bb-side-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nginx = start_nginx(
        &dir.join("nginx"),
        &[Site::plain(
            "location = / { return 200 \"hello from nginx\\n\"; }\n location = /moved { return 302 /; }",
        )],
    );
    let web = nginx.addrs[0];
    let dns = start_unbound();
    let banner: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _ssh = Peer::start(
        "socat banner",
        Command::new(socat()).args([
            &format!("TCP-LISTEN:{},bind=127.0.0.1,reuseaddr,fork", banner.port()),
            "SYSTEM:echo SSH-2.0-OpenSSH_9.2",
        ]),
    );
    wait_for_tcp(banner, Duration::from_secs(10));
    let config = dir.join("blackbox.yml");
    std::fs::write(
        &config,
        r#"modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      fail_if_body_not_matches_regexp: ["hello"]
  http_body_fails:
    prober: http
    timeout: 5s
    http:
      fail_if_body_matches_regexp: ["hello"]
  http_302:
    prober: http
    timeout: 5s
    http:
      valid_status_codes: [302]
      no_follow_redirects: true
  tcp_connect:
    prober: tcp
    timeout: 5s
  ssh_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^SSH-2.0-"
  dns_a:
    prober: dns
    timeout: 5s
    dns:
      query_name: www.example.test
      query_type: A
      transport_protocol: tcp
      validate_answer_rrs:
        fail_if_not_matches_regexp: ["www.example.test.\t.*\tIN\tA\t192.0.2.1[01]"]
  dns_validation_fails:
    prober: dns
    timeout: 5s
    dns:
      query_name: www.example.test
      query_type: A
      validate_answer_rrs:
        fail_if_matches_regexp: [".*192.0.2.11$"]
  dns_nxdomain:
    prober: dns
    timeout: 5s
    dns:
      query_name: nope.example.test
      query_type: A
      valid_rcodes: [NXDOMAIN]
  dns_soa:
    prober: dns
    timeout: 5s
    dns:
      query_name: example.test
      query_type: SOA
      valid_rcodes: [NOERROR]
  icmp:
    prober: icmp
    timeout: 5s
"#,
    )
    .unwrap();
    let (_bb, bb) = start_blackbox_exporter(&config);
    let (_watch, ours_at) = start_netkit_watch(&config);
    let w = format!("http://{web}/");
    let closed: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = format!("http://{closed}/");
    let moved = format!("http://{web}/moved");
    let cases: &[(&str, &str, f64, &[&str])] = &[
        (
            "http_2xx",
            &w,
            1.0,
            &[
                "probe_http_status_code",
                "probe_http_ssl",
                "probe_http_redirects",
                "probe_failed_due_to_regex",
                "probe_http_content_length",
                "probe_ip_protocol",
                "probe_ip_addr_hash",
            ],
        ),
        (
            "http_2xx",
            &refused,
            0.0,
            &[
                "probe_http_status_code",
                "probe_http_content_length",
                "probe_http_redirects",
                "probe_http_version",
                "probe_ip_addr_hash",
            ],
        ),
        (
            "tcp_connect",
            &closed.to_string(),
            0.0,
            &["probe_ip_addr_hash", "probe_failed_due_to_regex"],
        ),
        (
            "http_body_fails",
            &w,
            0.0,
            &["probe_http_status_code", "probe_failed_due_to_regex"],
        ),
        (
            "http_302",
            &moved,
            1.0,
            &["probe_http_status_code", "probe_http_redirects"],
        ),
        ("tcp_connect", &dns.server, 1.0, &["probe_ip_protocol"]),
        ("ssh_banner", &banner.to_string(), 1.0, &[]),
        ("ssh_banner", &web.to_string(), 0.0, &[]),
        (
            "dns_a",
            &dns.server,
            1.0,
            &[
                "probe_dns_answer_rrs",
                "probe_dns_authority_rrs",
                "probe_dns_additional_rrs",
                "probe_dns_query_succeeded",
            ],
        ),
        (
            "dns_validation_fails",
            &dns.server,
            0.0,
            &["probe_dns_answer_rrs", "probe_dns_query_succeeded"],
        ),
        (
            "dns_nxdomain",
            &dns.server,
            1.0,
            &[
                "probe_dns_answer_rrs",
                "probe_dns_authority_rrs",
                "probe_dns_query_succeeded",
            ],
        ),
        (
            "dns_soa",
            &dns.server,
            1.0,
            &["probe_dns_answer_rrs", "probe_dns_serial"],
        ),
        ("icmp", "127.0.0.1", 1.0, &["probe_ip_protocol"]),
    ];
    for (module, target, success, same) in cases {
        side_by_side(bb, ours_at, module, target, *success, same);
    }
    // Open modules as blackbox's, but never to link-local addresses or netkit's own address.
    for (module, target) in [
        (
            "http_2xx",
            "http://169.254.169.254/latest/meta-data/".to_string(),
        ),
        ("tcp_connect", "[fe80::1]:80".to_string()),
        ("tcp_connect", "169.254.169.254:80".to_string()),
        ("http_2xx", format!("http://{ours_at}/metrics")),
        ("tcp_connect", ours_at.to_string()),
    ] {
        let (s, body) = http(
            "GET",
            ours_at,
            &format!(
                "/probe?module={module}&target={}",
                netkit_tests::url_encode(&target)
            ),
        );
        assert_eq!(s, 403, "{module} {target}: {body}");
    }
    // blackbox's answers for a module that does not exist, counted as blackbox counts it.
    let (s, body) = http("GET", ours_at, "/probe?module=nope&target=127.0.0.1:1");
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("Unknown module \"nope\""), "{body}");
    let (s, body) = http("GET", ours_at, "/probe?module=tcp_connect");
    assert_eq!(s, 400, "{body}");
    let m = http("GET", ours_at, "/metrics").1;
    assert_eq!(
        metric_sample(&m, "blackbox_module_unknown_total", ""),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric_sample(&m, "blackbox_exporter_config_last_reload_successful", ""),
        Some(1.0),
        "{m}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// blackbox's tcp `query_response` in full (multi-step dialogs, `${N}` from
/// the last match, STARTTLS mid-dialog, a dialog over `tls: true`) run by
/// netkit and by blackbox_exporter against the same peers: aiosmtpd, socat
/// scripts, socat with openssl. `labels` and `expect_bytes`, which Debian's
/// blackbox 0.23 lacks, are checked against netkit alone.
#[test]
fn tcp_dialogs_run_beside_blackbox_exporter() {
    let dir = std::env::temp_dir().join(format!("netkit-bb-dialog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = netkit_tests::pki::Pki::new(&dir.join("pki"));
    let leaf = pki.leaf("mail", &["localhost", "127.0.0.1"], -1, 60);
    let (_smtp, smtp) = netkit_tests::start_aiosmtpd(&leaf.chain, &leaf.key);
    // An IRC server's registration: PING with a cookie, 001 only for the right PONG.
    let irc_sh = dir.join("irc.sh");
    std::fs::write(
        &irc_sh,
        "#!/bin/bash\nread -r nick; read -r user\necho ':srv NOTICE * :hello'\necho 'PING :c00kie42'\nread -r pong\npong=${pong%$'\\r'}\nif [ \"$pong\" = 'PONG c00kie42' ]; then echo ':srv 001 prober :Welcome'; else echo \":srv 464 * :bad pong [$pong]\"; fi\nsleep 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&irc_sh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let listen = |what: &str, addr: &str, then: String| {
        Peer::start(what, Command::new(socat()).args([addr, &then]))
    };
    let irc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _irc = listen(
        "socat irc",
        &format!("TCP-LISTEN:{},bind=127.0.0.1,reuseaddr,fork", irc.port()),
        format!("EXEC:{}", irc_sh.display()),
    );
    let banner: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _banner = listen(
        "socat banner",
        &format!("TCP-LISTEN:{},bind=127.0.0.1,reuseaddr,fork", banner.port()),
        "SYSTEM:echo SSH-2.0-OpenSSH_9.2p1 Debian-2; printf N; sleep 1".into(),
    );
    let pop3s: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _pop3s = listen(
        "socat openssl pop3s",
        &format!(
            "OPENSSL-LISTEN:{},bind=127.0.0.1,reuseaddr,fork,verify=0,cert={},key={}",
            pop3s.port(),
            leaf.chain.display(),
            leaf.key.display()
        ),
        "SYSTEM:echo '+OK POP3 ready'; sleep 1".into(),
    );
    // Mutual TLS: socat's openssl asks for a client certificate from the test's CA.
    let client = pki.leaf("client", &["prober.test"], -1, 60);
    let mtls: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let _mtls = listen(
        "socat openssl mtls",
        &format!(
            "OPENSSL-LISTEN:{},bind=127.0.0.1,reuseaddr,fork,verify=1,cafile={},cert={},key={}",
            mtls.port(),
            pki.ca.display(),
            leaf.chain.display(),
            leaf.key.display()
        ),
        "SYSTEM:echo '+OK client known'; sleep 1".into(),
    );
    for a in [irc, banner, pop3s, mtls] {
        wait_for_tcp(a, Duration::from_secs(10));
    }
    let ca = pki.ca.display().to_string();
    let (cert, key) = (client.chain.display(), client.key.display());
    let common = format!(
        r#"modules:
  irc_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - send: "NICK prober"
        - send: "USER prober prober prober :prober"
        - expect: "PING :([^ ]+)"
          send: "PONG ${{1}}"
        - expect: "^:[^ ]+ 001"
  smtp_starttls:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^220 ([^ ]+) "
        - send: "EHLO prober"
        - expect: "^250-STARTTLS"
        - send: "STARTTLS"
        - expect: "^220"
        - starttls: true
        - send: "EHLO prober"
        - expect: "^250-"
        - send: "QUIT"
      tls_config:
        ca_file: {ca}
  smtp_starttls_untrusted:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^220"
        - send: "EHLO prober"
        - expect: "^250-STARTTLS"
        - send: "STARTTLS"
        - expect: "^220"
        - starttls: true
  pop3s_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^\\+OK"
      tls: true
      tls_config:
        ca_file: {ca}
  pop3s_banner_upstream:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^+OK"
      tls: true
      tls_config:
        ca_file: {ca}
  tls_connect:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: {ca}
        cert_file: {cert}
        key_file: {key}
  mtls_banner:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      query_response:
        - expect: "^\\+OK client known"
      tls_config:
        ca_file: {ca}
        cert_file: {cert}
        key_file: {key}
  mtls_banner_without_certificate:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      query_response:
        - expect: "^\\+OK"
      tls_config:
        ca_file: {ca}
"#
    );
    let extra = r#"  ssh_banner_extract:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
      - expect: "^SSH-2.0-([^ -]+)(?: (.*))?$"
        labels:
        - name: ssh_version
          value: "${1}"
        - name: ssh_version_comments
          value: "${2}"
        expect_bytes: N
  ssh_bytes_differ:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
      - expect: "^SSH-2.0-"
        expect_bytes: !!binary AA==
"#;
    let theirs_cfg = dir.join("blackbox.yml");
    std::fs::write(&theirs_cfg, &common).unwrap();
    let ours_cfg = dir.join("netkit.yml");
    std::fs::write(&ours_cfg, format!("{common}{extra}")).unwrap();
    let (_bb, bb) = start_blackbox_exporter(&theirs_cfg);
    let (_watch, ours_at) = start_netkit_watch(&ours_cfg);
    let cases: &[(&str, SocketAddr, f64, &[&str])] = &[
        ("irc_banner", irc, 1.0, &["probe_failed_due_to_regex"]),
        // A peer that closes without the PING: the regex failure, counted.
        ("irc_banner", banner, 0.0, &["probe_failed_due_to_regex"]),
        (
            "smtp_starttls",
            smtp,
            1.0,
            &[
                "probe_failed_due_to_regex",
                "probe_ssl_earliest_cert_expiry",
                "probe_ssl_last_chain_expiry_timestamp_seconds",
            ],
        ),
        // The system's roots do not know the test's CA: the handshake fails.
        ("smtp_starttls_untrusted", smtp, 0.0, &[]),
        (
            "pop3s_banner",
            pop3s,
            1.0,
            &[
                "probe_failed_due_to_regex",
                "probe_ssl_earliest_cert_expiry",
            ],
        ),
        // TLS to a plain-text peer.
        ("pop3s_banner", irc, 0.0, &[]),
        // blackbox's own example: Go reads "^+OK" as "OK" at the start of a
        // line (a repeated ^), so it fails against "+OK"; netkit's regex does the same.
        (
            "pop3s_banner_upstream",
            pop3s,
            0.0,
            &["probe_failed_due_to_regex"],
        ),
        // A client certificate (cert_file, key_file): a handshake, then a dialog.
        (
            "tls_connect",
            mtls,
            1.0,
            &["probe_ssl_earliest_cert_expiry"],
        ),
        ("mtls_banner", mtls, 1.0, &["probe_failed_due_to_regex"]),
        ("mtls_banner_without_certificate", mtls, 0.0, &[]),
    ];
    for (module, target, success, same) in cases {
        let target = target.to_string();
        let (theirs, ours) = side_by_side(bb, ours_at, module, &target, *success, same);
        if *success == 1.0 && (module.starts_with("smtp") || module.starts_with("pop3s")) {
            for t in [&theirs, &ours] {
                assert!(
                    t.contains("probe_tls_version_info{version=\"TLS 1.3\"} 1"),
                    "{module}: {t}"
                );
            }
        }
    }
    // The PONG carried the cookie: the script answers 001 only then (the run's log shows the dialog).
    let (_, debug) = http(
        "GET",
        ours_at,
        &format!("/probe?module=irc_banner&target={irc}&debug=true"),
    );
    assert!(debug.contains("> PONG c00kie42"), "{debug}");
    assert!(debug.contains("< :srv 001 prober :Welcome"), "{debug}");
    // labels → probe_expect_info, expanded from the match; expect_bytes after the line.
    let ours = probe_metrics(ours_at, "ssh_banner_extract", &banner.to_string());
    assert_eq!(
        metric_sample(&ours, "probe_success", ""),
        Some(1.0),
        "{ours}"
    );
    assert_eq!(
        metric_sample(
            &ours,
            "probe_expect_info",
            "{ssh_version=\"OpenSSH_9.2p1\",ssh_version_comments=\"Debian-2\"}"
        ),
        Some(1.0),
        "{ours}"
    );
    let ours = probe_metrics(ours_at, "ssh_bytes_differ", &banner.to_string());
    assert_eq!(
        metric_sample(&ours, "probe_success", ""),
        Some(0.0),
        "{ours}"
    );
    assert_eq!(
        metric_sample(&ours, "probe_failed_due_to_bytes", ""),
        Some(1.0),
        "{ours}"
    );
    assert_eq!(
        metric_sample(&ours, "probe_failed_due_to_regex", ""),
        Some(0.0),
        "{ours}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// blackbox's `--web.route-prefix` / `--web.external-url` (every endpoint
/// under the prefix, the root redirected), `/probe?hostname=` (an http
/// module's Host header; a tcp module's TLS name, as blackbox's), and
/// `--log.prober` (each run's outcome on stderr at its own level).
#[test]
fn route_prefix_hostname_and_probe_logs_as_blackbox() {
    let dir = std::env::temp_dir().join(format!("netkit-bb-prefix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = netkit_tests::pki::Pki::new(&dir.join("pki"));
    let leaf = pki.leaf("named", &["localhost"], -1, 60);
    let nginx = start_nginx(
        &dir.join("nginx"),
        &[
            Site::plain("location = /host { return 200 \"host=$host\\n\"; }"),
            Site::tls(&leaf, "location / { return 200 \"tls\\n\"; }"),
        ],
    );
    let (web, tls) = (nginx.addrs[0], nginx.addrs[1]);
    let config = dir.join("blackbox.yml");
    std::fs::write(
        &config,
        format!(
            r#"modules:
  http_host:
    prober: http
    timeout: 5s
    http:
      fail_if_body_not_matches_regexp: ["host=virt\\.example"]
  http_fixed_host:
    prober: http
    timeout: 5s
    http:
      headers:
        Host: fixed.example
  tls_named:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: {}
"#,
            pki.ca.display()
        ),
    )
    .unwrap();
    let (mut peer, at) = spawn_netkit_watch(
        &config,
        &[
            "--web.external-url",
            "http://proxy.example:8080/blackbox",
            "--log.prober",
            "debug",
        ],
    );
    wait_for_http(at, "/blackbox/-/healthy", Duration::from_secs(60));
    let (bb_peer, bb) = start_blackbox_exporter(&config);
    // Every endpoint under the prefix; the bare paths are gone; the root redirects.
    assert_eq!(http("GET", at, "/metrics").0, 404);
    assert_eq!(http("GET", at, "/blackbox/metrics").0, 200);
    let raw = raw_get(at, "/");
    assert!(raw.starts_with("HTTP/1.1 302"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("location: http://proxy.example:8080/blackbox"),
        "{raw}"
    );
    let (s, index) = http("GET", at, "/blackbox/");
    assert_eq!(s, 200);
    assert!(index.contains("href=\"/blackbox/metrics\""), "{index}");
    // hostname= is the Host header, in netkit as in blackbox.
    let probe = |exporter: SocketAddr, prefix: &str, module: &str, target: &str, extra: &str| {
        http(
            "GET",
            exporter,
            &format!(
                "{prefix}/probe?module={module}&target={}{extra}",
                netkit_tests::url_encode(target)
            ),
        )
    };
    let web_url = format!("http://{web}/host");
    for (exporter, prefix) in [(at, "/blackbox"), (bb, "")] {
        let (_, m) = probe(exporter, prefix, "http_host", &web_url, "");
        assert_eq!(metric_sample(&m, "probe_success", ""), Some(0.0), "{m}");
        let (_, m) = probe(
            exporter,
            prefix,
            "http_host",
            &web_url,
            "&hostname=virt.example",
        );
        assert_eq!(
            metric_sample(&m, "probe_success", ""),
            Some(1.0),
            "{prefix}: {m}"
        );
        // A module with its own, different Host header: 400 with blackbox's words.
        let (s, body) = probe(
            exporter,
            prefix,
            "http_fixed_host",
            &web_url,
            "&hostname=virt.example",
        );
        assert_eq!(s, 400, "{body}");
        assert!(
            body.contains("host header defined both in module configuration"),
            "{body}"
        );
        // A tcp module's TLS name: the certificate names only localhost.
        let (_, m) = probe(exporter, prefix, "tls_named", &tls.to_string(), "");
        assert_eq!(
            metric_sample(&m, "probe_success", ""),
            Some(0.0),
            "{prefix}: {m}"
        );
        if exporter == bb {
            // Debian's blackbox 0.23 predates hostname= for the tcp prober.
            continue;
        }
        let (_, m) = probe(
            exporter,
            prefix,
            "tls_named",
            &tls.to_string(),
            "&hostname=localhost",
        );
        assert_eq!(
            metric_sample(&m, "probe_success", ""),
            Some(1.0),
            "{prefix}: {m}"
        );
        assert!(
            metric_sample(&m, "probe_timeout_seconds", "").is_some(),
            "{prefix}: {m}"
        );
    }
    drop(bb_peer);
    // --log.prober debug: successes and failures alike, with module and target.
    peer.wait_for_stderr("Probe succeeded", Duration::from_secs(10));
    peer.wait_for_stderr("Probe failed", Duration::from_secs(10));
    let log = peer.stderr_so_far();
    assert!(log.contains("module=\"tls_named\""), "{log}");
    // A bad --web.external-url is refused by name before anything starts.
    let out = Command::new(netkit())
        .args(["watch", "--config.file"])
        .arg(&config)
        .args(["--web.external-url", "'http://x/'"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--web.external-url"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The raw answer to `GET path` (status line and headers, redirects not followed).
fn raw_get(at: SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(at).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// A module with allow_targets is closed to everything else; scheduled
/// probes (netkit's addition) run a module on a target and show on /metrics.
#[test]
fn allow_targets_close_a_module_and_scheduled_probes_run_on_metrics() {
    let dir = std::env::temp_dir().join(format!("netkit-bb-closed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let up = netkit_tests::tcp_holding();
    let config = dir.join("netkit.yml");
    std::fs::write(
        &config,
        format!(
            "modules:\n  tcp_local:\n    prober: tcp\n    timeout: 2s\n    tcp:\n      allow_targets: [\"127.0.0.1:{p}\"]\nscheduled:\n  - name: local_tcp\n    module: tcp_local\n    target: 127.0.0.1:{p}\n    interval: 200ms\n",
            p = up.port()
        ),
    )
    .unwrap();
    // Two listen addresses, as blackbox's repeated --web.listen-address.
    let second: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let (_watch, at) = netkit_tests::start_netkit_watch_with(
        &config,
        &["--web.listen-address", &second.to_string()],
    );
    assert_eq!(http("GET", second, "/-/healthy").0, 200);
    assert!(probe_metrics(second, "tcp_local", &up.to_string()).contains("probe_success 1"));
    assert!(probe_metrics(at, "tcp_local", &up.to_string()).contains("probe_success 1"));
    let (s, body) = http(
        "GET",
        at,
        &format!("/probe?module=tcp_local&target=127.0.0.1:{}", up.port() + 1),
    );
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("allow_targets"), "{body}");
    // A scheduled probe is not a module of /probe.
    assert_eq!(
        http("GET", at, "/probe?module=local_tcp&target=127.0.0.1:1").0,
        400
    );
    let start = std::time::Instant::now();
    loop {
        let m = http("GET", at, "/metrics").1;
        if metric_sample(&m, "probe_success", "probe=\"local_tcp\"") == Some(1.0) {
            assert!(
                !m.contains("probe=\"tcp_local\""),
                "a module alone is not scheduled:\n{m}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{m}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Debian's headless chromium: the DOM a page at `url` renders.
fn rendered_dom(url: &str) -> String {
    let chromium = netkit_tests::require("chromium", "apt-get install -y chromium");
    let profile = std::env::temp_dir().join(format!("netkit-chromium-{}", std::process::id()));
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// blackbox's pages for people: the index page lists the modules (which are
/// open) and the recent probes linking to their logs, `/logs` shows a run's
/// log, `/config` the config with secrets masked; a scrape's timeout header
/// (less --timeout-offset) bounds a run.
#[test]
fn index_logs_config_and_the_scrape_timeout() {
    let dir = std::env::temp_dir().join(format!("netkit-bb-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("blackbox.yml");
    std::fs::write(
        &config,
        "modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 5s\n  banner:\n    prober: tcp\n    timeout: 5s\n    tcp:\n      query_response:\n      - expect: \"^SSH-\"\n  web:\n    prober: http\n    http:\n      basic_auth:\n        username: u\n        password: hunter2\n      allow_targets: [\"127.0.0.0/8:*\"]\n",
    )
    .unwrap();
    let (_watch, at) = start_netkit_watch(&config);
    let up = netkit_tests::tcp_holding();
    probe_metrics(at, "tcp_connect", &up.to_string());
    probe_metrics(at, "tcp_connect", "127.0.0.1:1");
    // A target with markup in it is escaped on the page, never run as markup.
    let evil = "<b>x</b>:1";
    let _ = http(
        "GET",
        at,
        &format!(
            "/probe?module=tcp_connect&target={}",
            netkit_tests::url_encode(evil)
        ),
    );
    let dom = rendered_dom(&format!("http://{at}/"));
    assert!(dom.contains("<h2>Recent Probes</h2>"), "{dom}");
    assert!(dom.contains(&format!("<td>tcp_connect</td><td>{up}</td><td class=\"ok\">Success</td><td><a href=\"/logs?id=0\">Logs</a></td>")), "{dom}");
    assert!(dom.contains("<td>127.0.0.1:1</td><td class=\"fail\">Failure</td><td><a href=\"/logs?id=1\">Logs</a></td>"), "{dom}");
    assert!(!dom.contains("<b>x</b>"), "{dom}");
    assert!(
        dom.contains("<code>tcp_connect</code>: open to any target"),
        "{dom}"
    );
    assert!(
        dom.contains("<code>web</code>: closed to what its allow_targets list"),
        "{dom}"
    );
    let log = rendered_dom(&format!("http://{at}/logs?id=1"));
    assert!(
        log.contains("module=\"tcp_connect\" target=\"127.0.0.1:1\" probe failed (refused)"),
        "{log}"
    );
    assert!(log.contains("probe_success 0"), "{log}");
    let (s, body) = http("GET", at, &format!("/logs?target={up}"));
    assert_eq!(s, 200);
    assert!(body.contains("probe succeeded"), "{body}");
    assert_eq!(http("GET", at, "/logs?id=999").0, 404);
    let (s, body) = http("GET", at, "/config");
    assert_eq!(s, 200);
    assert!(
        body.contains("password: <secret>") && !body.contains("hunter2"),
        "{body}"
    );
    assert!(body.contains("prober: tcp"), "{body}");
    // A scrape that allows 1.5 s, less the default offset of 0.5 s: a run
    // waiting for a banner that never comes ends after 1 s, not the module's 5 s.
    let silent = netkit_tests::tcp_holding();
    let out = Command::new(netkit_tests::curl())
        .args(["-s", "-H", "X-Prometheus-Scrape-Timeout-Seconds: 1.5"])
        .arg(format!(
            "http://{at}/probe?module=banner&target={silent}&debug=true"
        ))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    let after: f64 = body
        .split(" after ")
        .nth(1)
        .and_then(|r| r.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {body}"));
    assert!(body.contains("probe failed"), "{body}");
    assert!(
        (0.9..3.0).contains(&after),
        "the run took {after} s: {body}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real Prometheus with blackbox_exporter's README relabelling, unchanged
/// but for the exporter's address, scraping netkit watch and blackbox side by side.
#[test]
fn prometheus_with_blackbox_readme_relabelling_scrapes_netkit() {
    let dir = std::env::temp_dir().join(format!("netkit-bb-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nginx = start_nginx(
        &dir.join("nginx"),
        &[Site::plain("location = / { return 200 \"hello\\n\"; }")],
    );
    let web = nginx.addrs[0];
    let closed: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = dir.join("blackbox.yml");
    std::fs::write(
        &config,
        "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n",
    )
    .unwrap();
    let (_bb, bb) = start_blackbox_exporter(&config);
    let (_watch, nk) = start_netkit_watch(&config);
    let job = |name: &str, exporter: SocketAddr| {
        format!(
            "  - job_name: {name}\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    metrics_path: /probe\n    params:\n      module: [http_2xx]\n    static_configs:\n      - targets:\n        - http://{web}/\n        - http://{closed}/\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: {exporter}\n"
        )
    };
    let prom: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let prom_config = dir.join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "scrape_configs:\n{}{}",
            job("blackbox", bb),
            job("netkit", nk)
        ),
    )
    .unwrap();
    let _prom = Peer::start(
        "prometheus",
        Command::new(netkit_tests::prometheus())
            .arg(format!("--config.file={}", prom_config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={prom}")),
    );
    netkit_tests::wait_for_http(prom, "/-/ready", Duration::from_secs(60));
    let theirs = netkit_tests::prom_values(prom, "probe_success{job=\"blackbox\"}", "instance", 2);
    let ours = netkit_tests::prom_values(prom, "probe_success{job=\"netkit\"}", "instance", 2);
    let mut want = vec![
        (format!("http://{closed}/"), 0.0),
        (format!("http://{web}/"), 1.0),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(theirs, want);
    assert_eq!(
        ours, theirs,
        "netkit vs blackbox_exporter through Prometheus"
    );
    let codes = netkit_tests::prom_values(
        prom,
        "probe_http_status_code{job=\"netkit\"}",
        "instance",
        2,
    );
    assert_eq!(
        codes,
        netkit_tests::prom_values(
            prom,
            "probe_http_status_code{job=\"blackbox\"}",
            "instance",
            2
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The example config the README points to loads, every module of it.
#[test]
fn the_shipped_example_config_loads() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/blackbox.yml");
    let (code, out, err) = check(&example);
    assert_eq!(code, 0, "{out}{err}");
    let v = verdicts(&out);
    assert!(v.len() >= 14, "{out}");
    assert!(v.values().all(|(verdict, _)| verdict == "ok"), "{out}");
}

/// `netkit watch convert` on the TOML example the README had: it converts,
/// and the YAML is read module by module (only the files the example names
/// and this machine lacks are reported, as missing).
#[test]
fn the_readme_toml_example_converts_to_a_yaml_that_loads() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let start = readme
        .find("```toml\nprobe_concurrency")
        .expect("the README's TOML example");
    let body = &readme[start + "```toml\n".len()..];
    let toml = &body[..body.find("```").unwrap()];
    let dir = std::env::temp_dir().join(format!("netkit-bb-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml_path = dir.join("watch.toml");
    std::fs::write(&toml_path, toml).unwrap();
    let out = Command::new(netkit())
        .args(["watch", "convert"])
        .arg(&toml_path)
        .output()
        .unwrap();
    let yaml = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml_path = dir.join("blackbox.yml");
    std::fs::write(&yaml_path, &yaml).unwrap();
    let (_, report, err) = check(&yaml_path);
    let v = verdicts(&report);
    let probes = toml.matches("[[probe]]").count();
    // A module and a scheduled probe of the same name each (listed once here).
    assert_eq!(v.len(), probes, "{report}{err}");
    assert!(
        report.contains(&format!("{probes} modules"))
            && report.contains(&format!("{probes} scheduled probes")),
        "{report}"
    );
    for (m, (verdict, problems)) in &v {
        let missing_file =
            problems.contains("does not exist here") || problems.contains("no such file");
        assert!(
            verdict == "ok" || missing_file,
            "{m}: {verdict}: {problems}\n{yaml}"
        );
    }
    // Nothing refused as unknown or unsupported: every TOML key has its YAML place.
    // (A scheduled probe of a module that did not load says so, pointing above.)
    assert!(
        !report.contains("unknown key")
            && !report
                .lines()
                .any(|l| l.contains("unsupported:") && !l.contains("does not load (see it above)")),
        "{report}\n{yaml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
