//! `bench watch-load`: netkit watch as an exposed daemon under attack. For
//! `--load-seconds` (60 by default): 1,000 `/probe` clients (each one request
//! a second, ignoring Retry-After) against a slow module, 200 slowloris
//! connections, a reload every second of a config with 10,000 probes, and a
//! hostile component probe spinning until its deadline. Measured: the share
//! of scheduled runs that started within 100 ms of their due time (the
//! schedule-lag histogram), whether they all succeeded, `/-/healthy` p99,
//! resident memory before, at peak and after. blackbox_exporter under the
//! same `/probe` flood beside it, for scale.

use super::soak::rss_of;
use super::*;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// `/probe` clients.
const CLIENTS: usize = 1000;
/// Slowloris connections.
const SLOWLORIS: usize = 200;
/// Probes in the config (most idle: interval 1 h).
const PROBES: usize = 10_000;
/// Scheduled probes that run every second and are measured.
const BUSY: usize = 100;

/// Everything the flood threads do, stopped together.
struct Flood {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    answered: Arc<AtomicU64>,
    busy: Arc<AtomicU64>,
}

impl Flood {
    /// `CLIENTS` clients asking `addr` for `path` once a second each, and
    /// `SLOWLORIS` connections that send half a request and hold it.
    fn start(addr: SocketAddr, path: &str) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let (answered, busy) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let mut threads = Vec::new();
        for i in 0..CLIENTS {
            let (stop, answered, busy) = (stop.clone(), answered.clone(), busy.clone());
            let request = format!("GET {path} HTTP/1.0\r\n\r\n");
            threads.push(
                std::thread::Builder::new()
                    .stack_size(64 << 10)
                    .spawn(move || {
                        // Spread the clients over the first second.
                        std::thread::sleep(Duration::from_millis((i % 1000) as u64));
                        while !stop.load(Ordering::Relaxed) {
                            let t = Instant::now();
                            if let Ok(mut s) =
                                std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
                            {
                                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                                let _ = s.write_all(request.as_bytes());
                                let mut head = [0u8; 12];
                                if s.read_exact(&mut head).is_ok() {
                                    answered.fetch_add(1, Ordering::Relaxed);
                                    if head.ends_with(b"503") {
                                        busy.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                            }
                            if let Some(rest) = Duration::from_secs(1).checked_sub(t.elapsed()) {
                                std::thread::sleep(rest);
                            }
                        }
                    })
                    .unwrap(),
            );
        }
        for _ in 0..SLOWLORIS {
            let stop = stop.clone();
            threads.push(
                std::thread::Builder::new()
                    .stack_size(64 << 10)
                    .spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            let Ok(mut s) = std::net::TcpStream::connect(addr) else {
                                std::thread::sleep(Duration::from_millis(100));
                                continue;
                            };
                            let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n");
                            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                            // Hold it, a header byte now and then, until the server closes it.
                            let mut buf = [0u8; 256];
                            while !stop.load(Ordering::Relaxed) {
                                match s.read(&mut buf) {
                                    Ok(0) => break,
                                    Ok(_) => break,
                                    Err(_) => {
                                        if s.write_all(b"X").is_err() {
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                    })
                    .unwrap(),
            );
        }
        Flood {
            stop,
            threads,
            answered,
            busy,
        }
    }

    fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        (
            self.answered.load(Ordering::Relaxed),
            self.busy.load(Ordering::Relaxed),
        )
    }
}

/// `/-/healthy` latencies (ms) every 50 ms until `stop`, and the RSS peak (KiB) of `pid`.
fn watch_health(
    addr: SocketAddr,
    pid: u32,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(Vec<f64>, u64)> {
    std::thread::spawn(move || {
        let (mut lat, mut peak) = (Vec::new(), 0);
        while !stop.load(Ordering::Relaxed) {
            let t = Instant::now();
            let (s, _) = http("GET", addr, "/-/healthy");
            lat.push(if s == 200 {
                t.elapsed().as_secs_f64() * 1e3
            } else {
                f64::INFINITY
            });
            peak = peak.max(rss_of(pid));
            std::thread::sleep(Duration::from_millis(50));
        }
        (lat, peak)
    })
}

/// The rows.
pub fn section(rows: &mut Vec<Row>, seconds: u64) {
    let dir = std::env::temp_dir().join(format!("netkit-bench-watch-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let accept_close = |silent: bool| {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming().flatten() {
                if silent {
                    held.push(s);
                }
            }
        });
        a
    };
    let (up, silent) = (accept_close(false), accept_close(true));
    let mut config = String::new();
    for i in 0..PROBES {
        let interval = if i < BUSY { "1s" } else { "1h" };
        config.push_str(&format!(
            "[[probe]]\nname = \"s{i}\"\nkind = \"tcp\"\ntarget = \"{up}\"\ninterval = \"{interval}\"\ntimeout = \"900ms\"\n"
        ));
    }
    config.push_str(&format!(
        "[[probe]]\nname = \"slow\"\nkind = \"tcp\"\ntarget = \"{silent}\"\nsend = \"x\"\nexpect = \"never\"\ninterval = \"1h\"\ntimeout = \"5s\"\n"
    ));
    config.push_str(&format!(
        "[[probe]]\nname = \"hostile\"\nkind = \"component\"\ncomponent = \"{}\"\nargs = [\"spin\"]\ninterval = \"2s\"\ntimeout = \"1s\"\n",
        hostile_wasm().display()
    ));
    let file = dir.join("watch.toml");
    std::fs::write(&file, &config).unwrap();
    let (watch, listen) = start_netkit_watch(&file);
    // Let every busy probe start and settle, then take the idle figure.
    std::thread::sleep(Duration::from_secs(5));
    let idle = rss_of(watch.pid());
    let m0 = http("GET", listen, "/metrics").1;
    let stop = Arc::new(AtomicBool::new(false));
    let health = watch_health(listen, watch.pid(), stop.clone());
    let reloader = {
        let (stop, file, config) = (stop.clone(), file.clone(), config.clone());
        std::thread::spawn(move || {
            let (mut ok, mut n) = (0u32, 0u32);
            while !stop.load(Ordering::Relaxed) {
                // Every other reload changes one idle probe.
                let edited = if n % 2 == 0 {
                    config.replace(
                        "name = \"s9999\"\nkind = \"tcp\"",
                        "name = \"s9999\"\nkind = \"tcp\"\nsend = \"x\"",
                    )
                } else {
                    config.clone()
                };
                std::fs::write(&file, edited).unwrap();
                let t = Instant::now();
                if http("POST", listen, "/-/reload").0 == 200 {
                    ok += 1;
                }
                n += 1;
                if let Some(rest) = Duration::from_secs(1).checked_sub(t.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
            (ok, n)
        })
    };
    let flood = Flood::start(listen, "/probe?module=slow");
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    // The figures of the load's own window, before the flood is wound down.
    let m1 = http("GET", listen, "/metrics").1;
    let window = window.elapsed().as_secs_f64();
    let (answered, busy) = flood.stop();
    stop.store(true, Ordering::Relaxed);
    let (lat, peak) = health.join().unwrap();
    let (reloads_ok, reloads) = reloader.join().unwrap();
    std::thread::sleep(Duration::from_secs(10));
    let after = rss_of(watch.pid());
    // Scheduled runs of the busy probes in the window, and how late they started.
    let lag = |m: &str, le: &str| {
        metric_sample(
            m,
            "netkit_schedule_lag_seconds_bucket",
            &format!("le=\"{le}\""),
        )
        .unwrap_or(0.0)
    };
    let count = |m: &str| metric_sample(m, "netkit_schedule_lag_seconds_count", "").unwrap_or(0.0);
    let runs = count(&m1) - count(&m0);
    let on_time = lag(&m1, "0.1") - lag(&m0, "0.1");
    // The busy probes' runs due in the window (the hostile one's and the few
    // hourly probes' first runs that fall in it come on top).
    let expected = BUSY as f64 * window;
    let failures = |m: &str| {
        m.lines()
            .filter(|l| l.starts_with("netkit_probe_failures_total{probe=\"s"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let failed = failures(&m1) - failures(&m0);
    let healthy_p99 = percentile(lat.clone(), 99.0);
    let group = "watch-load: the schedule under a /probe flood, slowloris and reloads";
    rows.push(Row {
        group,
        what: format!("scheduled runs started within 100 ms ({runs:.0} runs, {expected:.0} due)"),
        value: 100.0 * on_time / runs.max(1.0),
        unit: "%",
        ratio: format!(
            "goal >= 99 %: {}; {:.1} % of due runs ran; {failed:.0} of the busy probes' runs failed",
            if on_time / runs.max(1.0) >= 0.99 { "met" } else { "not met" },
            100.0 * runs / expected
        ),
    });
    rows.push(Row {
        group,
        what: "netkit watch /-/healthy p99 under the load".into(),
        value: healthy_p99,
        unit: "ms",
        ratio: format!(
            "{} checks; {reloads_ok} of {reloads} reloads of {PROBES} probes answered 200",
            lat.len()
        ),
    });
    rows.push(Row {
        group,
        what: "netkit watch RSS: idle / peak / 10 s after".into(),
        value: after as f64 / 1024.0,
        unit: "MiB after",
        ratio: format!(
            "idle {:.1} MiB, peak {:.1} MiB, after {:.2}x idle; /probe: {answered} answered, {busy} of them 503",
            idle as f64 / 1024.0,
            peak as f64 / 1024.0,
            after as f64 / idle.max(1) as f64
        ),
    });
    drop(watch);
    // ---------------------------------------------------------------- blackbox_exporter, same flood
    let bb_config = dir.join("blackbox.yml");
    std::fs::write(
        &bb_config,
        "modules:\n  slow:\n    prober: tcp\n    timeout: 5s\n    tcp:\n      query_response:\n        - send: \"x\"\n        - expect: \"never\"\n",
    )
    .unwrap();
    let (bb_peer, bb) = start_blackbox_exporter(&bb_config);
    let bb_idle = rss_of(bb_peer.pid());
    let stop = Arc::new(AtomicBool::new(false));
    let health = watch_health(bb, bb_peer.pid(), stop.clone());
    let flood = Flood::start(bb, &format!("/probe?module=slow&target={silent}"));
    let bb_seconds = seconds.min(30);
    std::thread::sleep(Duration::from_secs(bb_seconds));
    let (bb_answered, _) = flood.stop();
    stop.store(true, Ordering::Relaxed);
    let (bb_lat, bb_peak) = health.join().unwrap();
    std::thread::sleep(Duration::from_secs(10));
    let bb_after = rss_of(bb_peer.pid());
    rows.push(Row {
        group,
        what: format!("blackbox_exporter 0.23, same /probe flood and slowloris, {bb_seconds} s (for scale)"),
        value: percentile(bb_lat, 99.0),
        unit: "ms /-/healthy p99",
        ratio: format!(
            "RSS idle {:.1} / peak {:.1} / after {:.1} MiB; /probe: {bb_answered} answered (no limit: every request runs)",
            bb_idle as f64 / 1024.0,
            bb_peak as f64 / 1024.0,
            bb_after as f64 / 1024.0
        ),
    });
    drop(bb_peer);
    slowloris_rows(rows, &file, &bb_config);
    note(format!(
        "watch-load: {seconds} s; {CLIENTS} clients x 1 /probe per s (a slow module, 5 s timeout), {SLOWLORIS} slowloris connections, a reload per second of {PROBES} probes ({BUSY} every second, the rest hourly), a hostile component spinning to its 1 s deadline every 2 s; netkit watch with its default limits"
    ));
}

/// Scrapes of `/metrics` beside 3,000 and 30,000 renewing slowloris
/// connections from many source addresses: netkit watch (default limits:
/// 1,024 connections, the longest-waiting closed to make room) beside
/// blackbox_exporter (which holds every connection up to its fd limit).
fn slowloris_rows(
    rows: &mut Vec<Row>,
    watch_config: &std::path::Path,
    bb_config: &std::path::Path,
) {
    use netkit_tests::slowloris::{Slowloris, scrape_series};
    let group = "watch-load: Prometheus scrapes beside renewing slowloris connections";
    for connections in [3_000usize, 30_000] {
        for subject in ["netkit watch", "blackbox_exporter"] {
            let (peer, addr) = if subject == "netkit watch" {
                start_netkit_watch(watch_config)
            } else {
                start_blackbox_exporter(bb_config)
            };
            let attack = Slowloris::start(addr, connections);
            let t = Instant::now();
            while attack.opened.load(Ordering::Relaxed) < 2_000
                && t.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            let (ok, took, failed) = scrape_series(
                addr,
                40,
                Duration::from_millis(250),
                Duration::from_secs(10),
            );
            drop(attack);
            drop(peer);
            let p99 = percentile(took.iter().map(|d| d.as_secs_f64() * 1e3).collect(), 99.0);
            rows.push(Row {
                group,
                what: format!("{subject}, {connections} slowloris connections: scrapes answered"),
                value: 100.0 * ok as f64 / 40.0,
                unit: "%",
                ratio: format!(
                    "{ok} of 40 (goal 100 %); p99 of those answered {p99:.1} ms{}",
                    failed
                        .first()
                        .map(|f| format!("; first failure: {f}"))
                        .unwrap_or_default()
                ),
            });
        }
    }
}
