//! `netkit watch`'s http and tls kinds beside blackbox_exporter (`http_2xx`
//! and a tcp module with `tls: true`) against the same nginx: the figures
//! agree where blackbox reports them, and netkit's TLS metrics are there
//! whatever the verification result.

use netkit_tests::nginx::{Site, start_nginx};
use netkit_tests::pki::Pki;
use netkit_tests::{
    http, metric_sample, probe_metrics, start_blackbox_exporter, start_netkit_watch, url_encode,
};
use std::time::{Duration, Instant};

const BODY: &str = "    location = / { return 200 \"hello from nginx\\n\"; }\n    location = /meta { return 302 http://169.254.169.254/latest/; }\n";

#[test]
fn http_and_tls_kinds_agree_with_blackbox_exporter_and_report_tls_whatever_the_verdict() {
    let dir = std::env::temp_dir().join(format!("netkit-watch-web-{}", std::process::id()));
    let pki = Pki::new(&dir);
    let good = pki.leaf("good", &["localhost", "127.0.0.1"], -1, 60);
    let expired = pki.leaf("expired", &["localhost", "127.0.0.1"], -90, -2);
    let nginx = start_nginx(
        &dir.join("nginx"),
        &[
            Site::tls(&good, BODY),
            Site::tls(&expired, BODY),
            Site::plain(BODY),
        ],
    );
    let (good_addr, expired_addr, plain_addr) = (nginx.addrs[0], nginx.addrs[1], nginx.addrs[2]);
    let ca = pki.ca.display().to_string();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[probe]]
name = "web"
kind = "http"
target = "https://localhost:{gp}/"
interval = "1s"
timeout = "3s"
tls_config = {{ ca_file = "{ca}" }}

[[probe]]
name = "web_expired"
kind = "http"
target = "https://localhost:{ep}/"
interval = "1s"
timeout = "3s"
tls_config = {{ ca_file = "{ca}" }}

[[probe]]
name = "plain"
kind = "http"
target = "http://127.0.0.1:{pp}/"
interval = "1s"
timeout = "3s"
fail_if_body_not_matches_regexp = ["hello"]
allow_targets = ["127.0.0.0/8:*"]

[[probe]]
name = "cert"
kind = "tls"
target = "localhost:{gp}"
interval = "1s"
timeout = "3s"
tls_config = {{ ca_file = "{ca}" }}

[[probe]]
name = "cert_expired"
kind = "tls"
target = "localhost:{ep}"
interval = "1s"
timeout = "3s"
tls_config = {{ ca_file = "{ca}" }}
"#,
            gp = good_addr.port(),
            ep = expired_addr.port(),
            pp = plain_addr.port(),
        ),
    )
    .unwrap();
    let bb_config = dir.join("blackbox.yml");
    std::fs::write(
        &bb_config,
        format!(
            "modules:\n  http_2xx:\n    prober: http\n    timeout: 3s\n    http:\n      preferred_ip_protocol: ip4\n      tls_config:\n        ca_file: {ca}\n  tls_connect:\n    prober: tcp\n    timeout: 3s\n    tcp:\n      preferred_ip_protocol: ip4\n      tls: true\n      tls_config:\n        ca_file: {ca}\n"
        ),
    )
    .unwrap();
    let (_bb, bb) = start_blackbox_exporter(&bb_config);
    let (_watch, watch) = start_netkit_watch(&config);
    let url = format!("https://localhost:{}/", good_addr.port());
    let ours = probe_metrics(watch, "web", &url);
    let theirs = probe_metrics(bb, "http_2xx", &url);
    for (metric, labels) in [
        ("probe_success", ""),
        ("probe_http_status_code", ""),
        ("probe_http_ssl", ""),
        ("probe_ssl_earliest_cert_expiry", ""),
        ("probe_tls_version_info", "version=\"TLS 1.3\""),
        ("probe_http_version", ""),
        ("probe_http_redirects", ""),
    ] {
        let a = metric_sample(&ours, metric, labels);
        let b = metric_sample(&theirs, metric, labels);
        assert!(
            a.is_some() && a == b,
            "{metric}{{{labels}}}: netkit {a:?}, blackbox {b:?}\n--- netkit\n{ours}\n--- blackbox\n{theirs}"
        );
    }
    for phase in ["connect", "tls", "processing", "transfer"] {
        assert!(
            metric_sample(
                &ours,
                "probe_http_duration_seconds",
                &format!("phase=\"{phase}\"")
            )
            .is_some(),
            "{ours}"
        );
    }
    let target = format!("localhost:{}", good_addr.port());
    let ours = probe_metrics(watch, "cert", &target);
    let theirs = probe_metrics(bb, "tls_connect", &target);
    for (metric, labels) in [
        ("probe_success", ""),
        ("probe_ssl_earliest_cert_expiry", ""),
        ("probe_tls_version_info", "version=\"TLS 1.3\""),
    ] {
        let a = metric_sample(&ours, metric, labels);
        let b = metric_sample(&theirs, metric, labels);
        assert!(
            a.is_some() && a == b,
            "{metric}: netkit {a:?}, blackbox {b:?}\n{ours}\n{theirs}"
        );
    }
    // Expired: both fail; blackbox says nothing about TLS, netkit says everything.
    let url = format!("https://localhost:{}/", expired_addr.port());
    let ours = probe_metrics(watch, "web_expired", &url);
    let theirs = probe_metrics(bb, "http_2xx", &url);
    assert_eq!(metric_sample(&ours, "probe_success", ""), Some(0.0));
    assert_eq!(metric_sample(&theirs, "probe_success", ""), Some(0.0));
    assert!(
        metric_sample(&theirs, "probe_ssl_earliest_cert_expiry", "").is_none(),
        "{theirs}"
    );
    let expiry = metric_sample(&ours, "probe_ssl_earliest_cert_expiry", "")
        .expect("TLS metrics despite the failed verification");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(expiry < now, "an expired chain: {expiry} < {now}");
    assert_eq!(
        metric_sample(&ours, "probe_tls_verify_error", "reason=\"expired\""),
        Some(1.0),
        "{ours}"
    );
    assert!(metric_sample(&ours, "probe_ssl_leaf_not_before_timestamp_seconds", "").is_some());
    // The scheduled runs' series on /metrics carry the same, labelled by probe.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, metrics) = http("GET", watch, "/metrics");
        let verify = metric_sample(&metrics, "probe_tls_verify_error", "probe=\"cert_expired\"");
        let ok = metric_sample(&metrics, "probe_success", "probe=\"cert\"");
        if verify == Some(1.0) && ok == Some(1.0) {
            assert!(metrics.contains("reason=\"expired\""), "{metrics}");
            assert!(
                metric_sample(&metrics, "probe_ssl_last_chain_info", "probe=\"cert\"").is_some(),
                "{metrics}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scheduled runs did not report: {metrics}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // /probe keeps allow_targets for URLs: scheme, host and port.
    let other = format!("http://127.0.0.2:{}/", plain_addr.port());
    let (status, _) = http(
        "GET",
        watch,
        &format!("/probe?module=plain&target={}", url_encode(&other)),
    );
    assert_eq!(status, 200, "127.0.0.2 is in 127.0.0.0/8");
    for bad in [
        "http://169.254.169.254/latest/",
        "http://[::ffff:169.254.169.254]/",
        "http://0xa9fea9fe/",
        "https://127.0.0.1:1/",
    ] {
        let (status, body) = http(
            "GET",
            watch,
            &format!("/probe?module=plain&target={}", url_encode(bad)),
        );
        assert_eq!(status, 403, "{bad}: {body}");
    }
    // debug=true: the log, the metrics and the audit; a redirect to a metadata address shows as denied.
    let meta = format!("http://127.0.0.1:{}/meta", plain_addr.port());
    let (status, body) = http(
        "GET",
        watch,
        &format!(
            "/probe?module=plain&target={}&debug=true",
            url_encode(&meta)
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("redirect-not-granted"), "{body}");
    assert!(
        body.contains("Audit of the sandbox")
            && body.contains("169.254.169.254")
            && body.contains("DENIED"),
        "{body}"
    );
    assert!(
        body.contains(&format!("tcp-connect  127.0.0.1:{}", plain_addr.port())),
        "{body}"
    );
}
