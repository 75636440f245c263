//! `netkit watch`'s icmp kind beside blackbox_exporter's icmp module on
//! loopback: they agree on success and the reply's hop limit; netkit adds what
//! blackbox refused (several packets per run, sent and received counts, the
//! round trips as a histogram with smokeping_prober's buckets), /probe
//! keeps allow_targets, and a hostile component flooding the ICMP capability
//! beside them leaves the other probes and the exporter answering.

use netkit_tests::*;
use std::time::{Duration, Instant};

#[test]
fn icmp_kind_agrees_with_blackbox_exporter_and_counts_packets() {
    require_ping_group();
    let dir = std::env::temp_dir().join(format!("netkit-watch-icmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        r#"
[[probe]]
name = "lo"
kind = "icmp"
target = "127.0.0.1"
interval = "1s"
timeout = "3s"
allow_targets = ["127.0.0.0/8", "[::1]"]

[[probe]]
name = "lo5"
kind = "icmp"
target = "::1"
interval = "1s"
timeout = "3s"
packets = 5
packet_interval = "100ms"
ttl = 9

[[probe]]
name = "hostile"
kind = "component"
component = "HOSTILE"
args = ["icmp-flood", "127.0.0.1"]
allow = ["icmp://127.0.0.1"]
interval = "1s"
timeout = "3s"
"#
        .replace("HOSTILE", &hostile_wasm().display().to_string()),
    )
    .unwrap();
    let bb_config = dir.join("blackbox.yml");
    std::fs::write(
        &bb_config,
        "modules:\n  icmp:\n    prober: icmp\n    timeout: 3s\n    icmp:\n      preferred_ip_protocol: ip4\n  icmp6:\n    prober: icmp\n    timeout: 3s\n    icmp:\n      preferred_ip_protocol: ip6\n",
    )
    .unwrap();
    let (_bb, bb) = start_blackbox_exporter(&bb_config);
    let (_watch, watch) = start_netkit_watch(&config);
    for (ours_module, theirs_module, target) in [
        ("lo", "icmp", "127.0.0.1"),
        ("lo", "icmp6", "::1"),
        ("lo", "icmp", "127.0.0.2"),
    ] {
        let ours = probe_metrics(watch, ours_module, target);
        let theirs = probe_metrics(bb, theirs_module, target);
        for metric in [
            "probe_success",
            "probe_icmp_reply_hop_limit",
            "probe_ip_protocol",
        ] {
            let a = metric_sample(&ours, metric, "");
            let b = metric_sample(&theirs, metric, "");
            assert!(
                a.is_some() && a == b,
                "{target} {metric}: netkit {a:?}, blackbox {b:?}\n--- netkit\n{ours}\n--- blackbox\n{theirs}"
            );
        }
        for phase in ["resolve", "setup", "rtt"] {
            let label = format!("phase=\"{phase}\"");
            assert!(
                metric_sample(&ours, "probe_icmp_duration_seconds", &label).is_some(),
                "{ours}"
            );
            assert!(
                metric_sample(&theirs, "probe_icmp_duration_seconds", &label).is_some(),
                "{theirs}"
            );
        }
        assert_eq!(
            metric_sample(&ours, "probe_icmp_packets_sent", ""),
            Some(1.0),
            "{ours}"
        );
        assert_eq!(
            metric_sample(&ours, "probe_icmp_packets_received", ""),
            Some(1.0),
            "{ours}"
        );
        assert_eq!(
            metric_sample(&ours, "probe_icmp_rtt_seconds_count", ""),
            Some(1.0),
            "{ours}"
        );
    }
    // Outside allow_targets: refused, never pinged.
    for bad in ["169.254.169.254", "10.0.0.1", "127.0.0.1:80"] {
        let (status, body) = http(
            "GET",
            watch,
            &format!("/probe?module=lo&target={}", url_encode(bad)),
        );
        assert!(status == 400 || status == 403, "{bad}: {status} {body}");
    }
    // Scheduled runs: five packets a run, and the histogram accumulates.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, metrics) = http("GET", watch, "/metrics");
        let sent = metric_sample(&metrics, "probe_icmp_packets_sent", "probe=\"lo5\"");
        let count = metric_sample(&metrics, "probe_icmp_rtt_seconds_count", "probe=\"lo5\"");
        let floods = metric_sample(&metrics, "netkit_probe_runs_total", "probe=\"hostile\"");
        if sent == Some(5.0) && count.is_some_and(|c| c >= 10.0) && floods.is_some_and(|n| n >= 2.0)
        {
            // The flood ran into its caps (exit 1: BLOCKED) while the others kept succeeding.
            assert!(
                metric_sample(&metrics, "netkit_probe_failures_total", "reason=\"exit-1\"")
                    .is_some(),
                "{metrics}"
            );
            assert_eq!(
                metric_sample(&metrics, "probe_success", "probe=\"lo\""),
                Some(1.0),
                "{metrics}"
            );
            assert_eq!(
                metric_sample(&metrics, "probe_icmp_packets_received", "probe=\"lo5\""),
                Some(5.0),
                "{metrics}"
            );
            assert_eq!(
                metric_sample(&metrics, "probe_success", "probe=\"lo5\""),
                Some(1.0),
                "{metrics}"
            );
            // smokeping_prober's first bucket, and loopback answers within it or the next few.
            assert!(
                metrics.contains("probe_icmp_rtt_seconds_bucket{")
                    && metrics.contains("le=\"0.00005\""),
                "{metrics}"
            );
            let within = metric_sample(&metrics, "probe_icmp_rtt_seconds_bucket", "le=\"0.0256\"");
            assert!(within.is_some(), "{metrics}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scheduled icmp runs did not report: {metrics}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
