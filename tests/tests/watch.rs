//! `netkit watch` against real peers: a real Prometheus scrapes it (and the
//! real blackbox_exporter probing the same targets) and the test reads
//! probe_success through Prometheus's query API; hostile custom components
//! stay contained; config errors, reloads, /probe's allow list, signals.

use netkit_tests::*;
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::{Duration, Instant};

fn free_addr() -> SocketAddr {
    ([127, 0, 0, 1], free_port()).into()
}

/// A listener that accepts and holds connections (an "up" TCP target).
fn tcp_up() -> SocketAddr {
    tcp_holding()
}

/// A port nothing listens on.
fn tcp_closed() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn prometheus_scrapes_watch_and_agrees_with_blackbox_exporter() {
    let dns = start_unbound();
    let (up, closed) = (tcp_up(), tcp_closed());
    let dir = std::env::temp_dir().join(format!("netkit-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hostile = hostile_wasm();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[probe]]
name = "web"
kind = "tcp"
target = "{up}"
interval = "1s"
timeout = "1s"
allow_targets = ["127.0.0.0/8:*"]

[[probe]]
name = "closed"
kind = "tcp"
target = "{closed}"
interval = "1s"

[[probe]]
name = "dns"
kind = "dns"
target = "{dns}"
query = "www.example.test"
type = "A"
interval = "1s"

[[probe]]
name = "spinner"
kind = "component"
component = "{hostile}"
args = ["spin", "x"]
interval = "1s"
timeout = "300ms"

[[probe]]
name = "hog"
kind = "component"
component = "{hostile}"
args = ["grow", "x"]
interval = "1s"
timeout = "1s"

[[probe]]
name = "sneak"
kind = "component"
component = "{hostile}"
args = ["tcp-connect", "{up}"]
interval = "1s"
timeout = "1s"
"#,
            dns = dns.server,
            hostile = hostile.display()
        ),
    )
    .unwrap();
    let (watch, listen) = start_netkit_watch(&config);

    // blackbox_exporter probing the same tcp and dns targets.
    let bb_config = dir.join("blackbox.yml");
    std::fs::write(
        &bb_config,
        "modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 2s\n  dns_test:\n    prober: dns\n    timeout: 2s\n    dns:\n      query_name: www.example.test\n      query_type: A\n      transport_protocol: udp\n      preferred_ip_protocol: ip4\n",
    )
    .unwrap();
    let (_bb, bb) = start_blackbox_exporter(&bb_config);

    let prom = free_addr();
    let relabel = |module: &str, targets: &[String], exporter: SocketAddr, job: &str| {
        format!(
            "  - job_name: {job}\n    metrics_path: /probe\n    params:\n      module: [{module}]\n    static_configs:\n      - targets: [{}]\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: {exporter}\n",
            targets
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let prom_config = dir.join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: netkit\n    static_configs:\n      - targets: ['{listen}']\n{}{}{}",
            relabel("tcp_connect", &[up.to_string(), closed.to_string()], bb, "blackbox_tcp"),
            relabel("dns_test", std::slice::from_ref(&dns.server), bb, "blackbox_dns"),
            relabel("web", &[up.to_string(), closed.to_string()], listen, "netkit_probe"),
        ),
    )
    .unwrap();
    let _prom = Peer::start(
        "prometheus",
        Command::new(prometheus())
            .arg(format!("--config.file={}", prom_config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={prom}")),
    );
    wait_for_http(prom, "/-/ready", Duration::from_secs(60));

    // netkit's scheduled probes, read back through Prometheus.
    let ours = prom_values(prom, "probe_success{job=\"netkit\"}", "probe", 6);
    let get = |v: &[(String, f64)], k: &str| v.iter().find(|(n, _)| n == k).map(|(_, x)| *x);
    assert_eq!(get(&ours, "web"), Some(1.0), "{ours:?}");
    assert_eq!(get(&ours, "closed"), Some(0.0), "{ours:?}");
    assert_eq!(get(&ours, "dns"), Some(1.0), "{ours:?}");
    for hostile in ["spinner", "hog", "sneak"] {
        assert_eq!(get(&ours, hostile), Some(0.0), "{hostile}: {ours:?}");
    }
    // blackbox_exporter agrees on the same targets.
    let bb_tcp = prom_values(prom, "probe_success{job=\"blackbox_tcp\"}", "instance", 2);
    let mut want = vec![(closed.to_string(), 0.0), (up.to_string(), 1.0)];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(bb_tcp, want, "blackbox_exporter");
    let bb_dns = prom_values(prom, "probe_success{job=\"blackbox_dns\"}", "instance", 1);
    assert_eq!(bb_dns[0].1, 1.0, "{bb_dns:?}");
    // netkit's /probe, relabelled as blackbox's: the same answers.
    let nk_tcp = prom_values(prom, "probe_success{job=\"netkit_probe\"}", "instance", 2);
    assert_eq!(nk_tcp, bb_tcp, "netkit /probe vs blackbox_exporter");

    // The hostile components: each failed for its own reason, the sneak's
    // connect was denied and counted, and the others kept their timing.
    let text = http("GET", listen, "/metrics").1;
    assert!(
        metric_sample(
            &text,
            "netkit_probe_failures_total",
            "probe=\"spinner\",reason=\"deadline\""
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{text}"
    );
    assert!(
        metric_sample(
            &text,
            "netkit_probe_failures_total",
            "probe=\"hog\",reason=\"out-of-memory\""
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{text}"
    );
    // Its first step outside its (empty) grants, the connect's implied bind, is denied.
    assert!(
        metric_sample(
            &text,
            "netkit_sandbox_denied_total",
            "probe=\"sneak\",op=\"tcp-"
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{text}"
    );
    assert_eq!(
        metric_sample(&text, "netkit_sandbox_denied_total", "probe=\"web\""),
        None,
        "{text}"
    );
    let web_duration = metric_sample(&text, "probe_duration_seconds", "probe=\"web\"").unwrap();
    assert!(
        web_duration < 0.1,
        "web took {web_duration} s beside the spinner"
    );
    let spinner = metric_sample(&text, "probe_duration_seconds", "probe=\"spinner\"").unwrap();
    assert!(
        (0.25..1.0).contains(&spinner),
        "the spinner ran {spinner} s with a 300 ms timeout"
    );
    assert!(metric_sample(&text, "probe_tcp_connect_seconds", "probe=\"web\"").unwrap() > 0.0);
    assert_eq!(
        metric_sample(&text, "probe_dns_rcode", "probe=\"dns\""),
        Some(0.0)
    );
    assert_eq!(
        metric_sample(&text, "probe_dns_answer_rrs", "probe=\"dns\""),
        Some(2.0)
    );
    assert!(metric_sample(&text, "netkit_probe_runs_total", "probe=\"web\"").unwrap() >= 2.0);
    // The components' own output (the sneak prints "BLOCKED tcp-connect ...")
    // is theirs, not mixed into the exporter's output or log.
    let (out, log) = (watch.stdout_so_far(), watch.stderr_so_far());
    assert!(
        !out.contains("BLOCKED") && !log.contains("BLOCKED"),
        "{out}{log}"
    );
    assert!(log.contains("down: "), "{log}");
}

#[test]
fn config_errors_reload_probe_limits_and_signals() {
    let dir = std::env::temp_dir().join(format!("netkit-watch-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    // A bad config at start: exit 2, file:line:col.
    std::fs::write(
        &config,
        "[[probe]]\nname = \"a\"\nkind = \"ftp\"\ntarget = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = Command::new(netkit())
        .args(["watch", "--config"])
        .arg(&config)
        .args(["--listen", &free_addr().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:3:8: ", config.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (up, other) = (tcp_up(), tcp_up());
    let good = format!(
        "[[probe]]\nname = \"web\"\nkind = \"tcp\"\ntarget = \"{up}\"\ninterval = \"200ms\"\nallow_targets = [\"127.0.0.0/8:{}\"]\n",
        other.port()
    );
    std::fs::write(&config, &good).unwrap();
    let (watch, listen) = start_netkit_watch(&config);
    // /probe: its own target, an allowed one, a forbidden one, an unknown module.
    let (s, body) = http("GET", listen, "/probe?module=web");
    assert_eq!(s, 200);
    assert!(body.contains("probe_success 1"), "{body}");
    let (s, body) = http("GET", listen, &format!("/probe?module=web&target={other}"));
    assert_eq!((s, body.contains("probe_success 1")), (200, true), "{body}");
    let (s, body) = http(
        "GET",
        listen,
        &format!("/probe?module=web&target=127.0.0.1:{}", other.port() + 1),
    );
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("allow_targets"), "{body}");
    assert_eq!(http("GET", listen, "/probe?module=nope").0, 400);
    // A bad reload is refused and the old config stays; a good one applies.
    std::fs::write(
        &config,
        format!("{good}\n[[probe]]\nname = \"x\"\nkind = \"tcp\"\ntarget = \"nowhere\"\n"),
    )
    .unwrap();
    let (s, body) = http("POST", listen, "/-/reload");
    assert_eq!(s, 400, "{body}");
    assert!(body.contains(":11:10: target"), "{body}");
    assert_eq!(http("GET", listen, "/probe?module=web").0, 200);
    std::fs::write(&config, format!("{good}\n[[probe]]\nname = \"second\"\nkind = \"tcp\"\ntarget = \"{other}\"\ninterval = \"200ms\"\n")).unwrap();
    let (s, body) = http("POST", listen, "/-/reload");
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("1 added, 0 changed, 0 removed, 1 unchanged"),
        "{body}"
    );
    // Both probes run on their own schedule.
    let start = Instant::now();
    let runs_before = loop {
        let m = http("GET", listen, "/metrics").1;
        if m.contains("netkit_probe_runs_total{probe=\"second\"}")
            && let Some(runs) = metric_sample(&m, "netkit_probe_runs_total", "probe=\"web\"")
        {
            break runs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the probes did not run: {m}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // SIGHUP reloads too: the second probe goes away, web keeps counting.
    std::fs::write(&config, &good).unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(watch.pid() as i32, libc::SIGHUP) };
    let start = Instant::now();
    loop {
        let m = http("GET", listen, "/metrics").1;
        if !m.contains("probe=\"second\"") {
            // The unchanged probe kept counting across both reloads.
            let runs = metric_sample(&m, "netkit_probe_runs_total", "probe=\"web\"")
                .unwrap_or_else(|| panic!("{m}"));
            assert!(runs >= runs_before, "{m}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGTERM stops cleanly, exit 0; the log has one "up" line for web, not one per run.
    let done = watch.terminate(Duration::from_secs(10));
    assert!(done.success, "{}", done.stderr);
    assert_eq!(
        done.stderr.matches("up: ").count(),
        2,
        "one up line per probe start: {}",
        done.stderr
    );
}

#[test]
fn every_kind_reports_its_own_values() {
    let chrony = start_chrony(free_udp_port(), "");
    let (_echo, echo) = netkit_echo_server(&[]);
    let udp_port = free_udp_port();
    let _udp = Peer::start(
        "socat",
        Command::new(socat()).args([
            &format!("UDP-LISTEN:{udp_port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ]),
    );
    let dns = start_unbound();
    let dir = std::env::temp_dir().join(format!("netkit-watch-kinds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[probe]]
name = "ntp"
kind = "sntp"
target = "127.0.0.1:{ntp}"
interval = "500ms"

[[probe]]
name = "echo"
kind = "echo"
target = "{echo}"
interval = "500ms"
message = "hello from watch"

[[probe]]
name = "udp"
kind = "udp"
target = "127.0.0.1:{udp_port}"
send = "ping"
expect = "^ping$"
interval = "500ms"

[[probe]]
name = "nx"
kind = "dns"
target = "{dns}"
query = "nope.example.test"
interval = "500ms"
"#,
            ntp = chrony.port,
            dns = dns.server,
        ),
    )
    .unwrap();
    let (_watch, listen) = start_netkit_watch(&config);
    let start = Instant::now();
    let text = loop {
        let m = http("GET", listen, "/metrics").1;
        if ["ntp", "echo", "udp", "nx"].iter().all(|p| {
            metric_sample(&m, "netkit_probe_runs_total", &format!("probe=\"{p}\"")).is_some()
        }) {
            break m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not every probe ran: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    for p in ["ntp", "echo", "udp"] {
        assert_eq!(
            metric_sample(&text, "probe_success", &format!("probe=\"{p}\"")),
            Some(1.0),
            "{p}: {text}"
        );
    }
    assert_eq!(
        metric_sample(&text, "probe_sntp_stratum", "probe=\"ntp\""),
        Some(10.0),
        "{text}"
    );
    assert!(
        metric_sample(&text, "probe_sntp_offset_seconds", "probe=\"ntp\"")
            .unwrap()
            .abs()
            < 0.1
    );
    assert!(metric_sample(&text, "probe_echo_rtt_seconds", "probe=\"echo\"").unwrap() > 0.0);
    assert!(metric_sample(&text, "probe_udp_rtt_seconds", "probe=\"udp\"").unwrap() > 0.0);
    // NXDOMAIN: a DNS answer, but not a success; rcode 3, reason named.
    assert_eq!(
        metric_sample(&text, "probe_success", "probe=\"nx\""),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        metric_sample(&text, "probe_dns_rcode", "probe=\"nx\""),
        Some(3.0),
        "{text}"
    );
    assert!(
        metric_sample(
            &text,
            "netkit_probe_failures_total",
            "probe=\"nx\",reason=\"NXDOMAIN\""
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
}
