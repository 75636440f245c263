//! Issue 31: netkit watch keeps answering Prometheus under slowloris. Thousands
//! of connections from many loopback source addresses send half a request
//! head, a byte now and then, and reopen whatever is closed; a scraper making
//! Prometheus's requests must succeed every time: at 3,000 connections (where
//! blackbox_exporter, holding them all, also succeeds) and at 30,000 (beyond
//! the fd limit a Go exporter has). Before the fix (a plain cap of 1,024)
//! netkit watch answered 3 scrapes of 40.

use netkit_tests::slowloris::{Slowloris, scrape_series};
use netkit_tests::{http, start_netkit_watch, tcp_holding};
use std::time::Duration;

fn metric(body: &str, series: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A directory and a watch config in it with one tcp probe (its peer holds connections).
fn one_probe_config(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("netkit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        format!(
            "[[probe]]\nname = \"web\"\nkind = \"tcp\"\ntarget = \"{}\"\ninterval = \"1s\"\n",
            tcp_holding()
        ),
    )
    .unwrap();
    (dir, config)
}

#[test]
fn prometheus_is_served_beside_3000_and_30000_slowloris_connections() {
    let (dir, config) = one_probe_config("slowloris");
    // Default limits: --web.max-connections 1024, 64 per source, 10 s header timeout.
    let (watch, listen) = start_netkit_watch(&config);
    for connections in [3_000, 30_000] {
        let attack = Slowloris::start(listen, connections);
        // Until the attack holds the whole cap (and is being evicted).
        let start = std::time::Instant::now();
        while attack.opened.load(std::sync::atomic::Ordering::Relaxed) < 2_000 {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the attacker opened only {} connections in 60 s",
                attack.opened.load(std::sync::atomic::Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let (ok, took, failed) = scrape_series(
            listen,
            40,
            Duration::from_millis(250),
            Duration::from_secs(10),
        );
        let opened = attack.opened.load(std::sync::atomic::Ordering::Relaxed);
        let closed = attack.closed.load(std::sync::atomic::Ordering::Relaxed);
        drop(attack);
        assert_eq!(
            ok, 40,
            "{connections} slowloris connections: {ok} of 40 scrapes answered; failures: {failed:?}"
        );
        let slowest = took.iter().max().unwrap();
        eprintln!(
            "{connections} connections: 40 of 40 scrapes, slowest {slowest:?}; attacker opened {opened}, had {closed} closed"
        );
        // The attack was real: the server closed attacker connections to make room.
        assert!(closed > 1_000, "only {closed} attacker connections closed");
    }
    let (status, body) = http("GET", listen, "/metrics");
    assert_eq!(status, 200);
    let evicted = metric(
        &body,
        "netkit_http_connections_rejected_total{reason=\"evicted\"}",
    );
    assert!(evicted > 1_000.0, "evicted {evicted}:\n{body}");
    let done = watch.terminate(Duration::from_secs(10));
    assert!(done.success, "{}", done.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_source_is_held_to_its_limit() {
    // --web.max-connections-per-source 3: a 4th connection from one address
    // closes that address's longest-waiting one; other addresses are untouched.
    let (dir, config) = one_probe_config("per-source");
    let (watch, listen) =
        netkit_tests::start_netkit_watch_with(&config, &["--web.max-connections-per-source", "3"]);
    use std::io::{Read, Write};
    let half_sent = |source: [u8; 4]| {
        let mut s = connect_from(source, listen).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s
    };
    let answered = |s: &mut std::net::TcpStream| {
        s.write_all(b"Host: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200")
    };
    let mut other = half_sent([127, 2, 0, 2]);
    let mut held: Vec<_> = (0..3)
        .map(|_| {
            let s = half_sent([127, 2, 0, 1]);
            // Let the server read it (and find the head incomplete) before the next.
            std::thread::sleep(Duration::from_millis(100));
            s
        })
        .collect();
    let mut fourth = half_sent([127, 2, 0, 1]);
    // The oldest of that source was closed for it.
    let mut buf = [0u8; 64];
    assert_eq!(
        held[0].read(&mut buf).unwrap_or(0),
        0,
        "the oldest was kept"
    );
    assert!(answered(&mut fourth), "the 4th connection was not served");
    assert!(
        answered(&mut held[2]),
        "a newer one of that source was closed"
    );
    assert!(
        answered(&mut other),
        "another source's connection was closed"
    );
    let (_, body) = http("GET", listen, "/metrics");
    assert_eq!(
        metric(
            &body,
            "netkit_http_connections_rejected_total{reason=\"per_source\"}"
        ),
        1.0,
        "{body}"
    );
    let done = watch.terminate(Duration::from_secs(10));
    assert!(done.success, "{}", done.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A connection to `to` from `source` (a loopback address).
fn connect_from(source: [u8; 4], to: std::net::SocketAddr) -> std::io::Result<std::net::TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let s = rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4()?;
        s.bind((std::net::Ipv4Addr::from(source), 0).into())?;
        s.connect(to).await?.into_std()
    })?;
    s.set_nonblocking(false)?;
    Ok(s)
}
