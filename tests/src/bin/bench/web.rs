//! HTTPS and TLS: `netkit http` and `netkit tls` against curl and `openssl
//! s_client` as processes; the in-process HTTPS probe and TLS handshake against
//! the same done natively with tokio + rustls (a fresh connection and
//! handshake per call, no resumption on either side); `netkit watch` https
//! probes per CPU-second against blackbox_exporter's http_2xx.

use super::embedded::per_call;
use super::*;
use netkit::http::{HttpProber, HttpRequest};
use netkit::runtime::{Host, Sandbox};
use netkit::tls::{TlsOptions, TlsProbeOptions, TlsProber};
use netkit_tests::nginx::{Site, start_nginx};
use netkit_tests::pki::Pki;
use std::sync::Arc;

const CALLS: usize = 300;

/// The rows.
pub fn section(rows: &mut Vec<Row>) {
    let dir = std::env::temp_dir().join(format!("netkit-bench-web-{}", std::process::id()));
    let pki = Pki::new(&dir);
    let leaf = pki.leaf("bench", &["localhost", "127.0.0.1"], -1, 60);
    let nginx = start_nginx(
        &dir.join("nginx"),
        &[Site::tls(
            &leaf,
            "    location = / { return 200 \"hello from nginx\\n\"; }\n",
        )],
    );
    let addr = nginx.addrs[0];
    let url = format!("https://127.0.0.1:{}/", addr.port());
    let ca = pki.ca.display().to_string();

    // ------------------------------------------------------------ processes
    let group = "https GET, process";
    let curl_ms = process::time_process(20, {
        let (url, ca) = (url.clone(), ca.clone());
        move || {
            let mut c = Command::new(curl());
            c.args(["-s", "-o", "/dev/null", "--cacert", &ca, &url]);
            c
        }
    });
    let netkit_ms = process::time_process(20, {
        let (url, ca) = (url.clone(), ca.clone());
        move || {
            let mut c = Command::new(netkit());
            c.args(["http", &url, "--ca", &ca]);
            c
        }
    });
    for (what, ms) in [("curl", curl_ms), ("netkit http (cache warm)", netkit_ms)] {
        rows.push(Row {
            group,
            what: what.into(),
            value: ms,
            unit: "ms",
            ratio: format!("{:.2}x curl", ms / curl_ms),
        });
    }
    note(format!("curl: curl -s -o /dev/null --cacert {ca} {url}"));
    note(format!(
        "netkit http: {} http {url} --ca {ca}",
        netkit().display()
    ));
    let group = "tls handshake, process";
    let target = addr.to_string();
    let openssl_ms = process::time_process(20, {
        let (target, ca) = (target.clone(), ca.clone());
        move || {
            let mut c = Command::new(openssl());
            c.args(["s_client", "-brief", "-CAfile", &ca, "-connect", &target]);
            c.stdin(std::process::Stdio::null());
            c
        }
    });
    let tls_ms = process::time_process(20, {
        let (target, ca) = (target.clone(), ca.clone());
        move || {
            let mut c = Command::new(netkit());
            c.args(["tls", &target, "--ca", &ca]);
            c
        }
    });
    for (what, ms) in [
        ("openssl s_client -brief", openssl_ms),
        ("netkit tls (cache warm)", tls_ms),
    ] {
        rows.push(Row {
            group,
            what: what.into(),
            value: ms,
            unit: "ms",
            ratio: format!("{:.2}x openssl", ms / openssl_ms),
        });
    }
    note(format!(
        "openssl: openssl s_client -brief -CAfile {ca} -connect {target} < /dev/null"
    ));
    note(format!(
        "netkit tls: {} tls {target} --ca {ca}",
        netkit().display()
    ));

    // ------------------------------------------------------------ in process
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let roots_der = netkit::tls::roots(Some(&pki.ca)).unwrap();
    let mut store = rustls::RootCertStore::empty();
    for d in &roots_der {
        store
            .add(rustls::pki_types::CertificateDer::from(d.clone()))
            .unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1")
        .unwrap()
        .to_owned();
    let native_handshake = async || {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = connector.connect(name.clone(), tcp).await.unwrap();
        drop(tls);
    };
    let native_get = async || {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut tls = connector.connect(name.clone(), tcp).await.unwrap();
        tls.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        assert!(out.starts_with(b"HTTP/1.1 200"));
    };
    let host = Host::with_options(
        netkit::cache::CompileCache::default_dir().map(netkit::cache::CompileCache::new),
        true,
    )
    .unwrap();
    let tls_prober = TlsProber::new(&host).unwrap();
    let http_prober = HttpProber::new(&host).unwrap();
    let tls_options = TlsOptions {
        server_name: None,
        roots: roots_der.clone(),
        insecure: false,
        min_version: None,
        max_version: None,
        alpn: Vec::new(),
        client_certificate: None,
    };
    let probe_options = TlsProbeOptions {
        tls: tls_options.clone(),
        timeout_ms: 5000,
        starttls: None,
    };
    let request = HttpRequest {
        url: url.clone(),
        method: "GET".into(),
        headers: Vec::new(),
        body: None,
        tls: tls_options,
        timeout_ms: 5000,
        max_body: 1 << 20,
        compression: true,
        max_redirects: 0,
        allow_redirects: Vec::new(),
        resolve: Vec::new(),
    };
    let (mut n_hs, mut o_hs, mut n_get, mut o_get) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ECHO_ROUNDS {
        n_hs.push(per_call(&rt, CALLS, native_handshake));
        o_hs.push(per_call(&rt, CALLS, async || {
            let r = tls_prober
                .probe("127.0.0.1", addr, &probe_options)
                .await
                .unwrap()
                .unwrap();
            assert!(r.handshake.verify_error.is_none());
        }));
        n_get.push(per_call(&rt, CALLS, native_get));
        o_get.push(per_call(&rt, CALLS, async || {
            let sandbox = Sandbox::new("bench", netkit::http::client_policy(&[addr]));
            let r = http_prober
                .probe_in(&sandbox, &request)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(r.status, 200);
        }));
    }
    for (group, native, ours) in [
        (
            "embedded TLS handshake (connect + TLS 1.3 + verify)",
            median(n_hs),
            median(o_hs),
        ),
        (
            "embedded HTTPS GET (connect + TLS 1.3 + request + body)",
            median(n_get),
            median(o_get),
        ),
    ] {
        rows.push(Row {
            group,
            what: "native tokio + rustls (floor)".into(),
            value: native,
            unit: "µs/call",
            ratio: "1.00x".into(),
        });
        rows.push(Row {
            group,
            what: "netkit: fresh instance per probe (rustls in wasm)".into(),
            value: ours,
            unit: "µs/call",
            ratio: format!("{:.2}x native (+{:.0} µs)", ours / native, ours - native),
        });
    }

    // ------------------------------------------------------------ watch vs blackbox
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        format!("[[probe]]\nname = \"web\"\nkind = \"http\"\ntarget = \"{url}\"\ninterval = \"1h\"\ntimeout = \"5s\"\ntls_config = {{ ca_file = \"{ca}\" }}\n"),
    )
    .unwrap();
    let bb_config = dir.join("blackbox.yml");
    std::fs::write(
        &bb_config,
        format!("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n      tls_config:\n        ca_file: {ca}\n"),
    )
    .unwrap();
    let (watch, watch_addr) = start_netkit_watch(&config);
    let (bb, bb_addr) = start_blackbox_exporter(&bb_config);
    let ours = super::watch::load(watch_addr, "/probe?module=web", watch.pid());
    let theirs = super::watch::load(
        bb_addr,
        &format!("/probe?module=http_2xx&target={}", url_encode(&url)),
        bb.pid(),
    );
    let group = "watch https /probe, 4 clients";
    super::watch::versus_blackbox(rows, group, ("http_2xx", "http"), ours, theirs);
}
