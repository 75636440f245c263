//! `netkit watch` beside blackbox_exporter on the same loopback targets:
//! probes per CPU-second under the same `/probe` load, p99 probe latency as
//! the client sees it, and resident memory with 1,000 configured probes.

use super::soak::rss_of;
use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Seconds each load runs.
const LOAD_SECONDS: u64 = 5;
/// Clients issuing `/probe` requests back to back.
const CLIENTS: usize = 4;

/// CPU seconds (user + system) `pid` has used.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// One load's result: successful probes per CPU-second, p99 latency (ms), count.
pub(crate) type Load = (f64, f64, u64);

/// `CLIENTS` threads requesting `path` from `addr` for `LOAD_SECONDS`: probes
/// that succeeded, per CPU-second of `pid`, and the p99 latency (ms).
pub(crate) fn load(addr: SocketAddr, path: &str, pid: u32) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let cpu0 = cpu_seconds(pid);
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, path) = (stop.clone(), path.to_string());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut ok = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let (status, body) = http("GET", addr, &path);
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                    if status == 200 && body.contains("probe_success 1") {
                        ok += 1;
                    }
                }
                (ok, lat)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(LOAD_SECONDS));
    stop.store(true, Ordering::Relaxed);
    let mut ok = 0;
    let mut lat = Vec::new();
    for t in threads {
        let (o, l) = t.join().unwrap();
        ok += o;
        lat.extend(l);
    }
    let cpu = (cpu_seconds(pid) - cpu0).max(1e-3);
    (ok as f64 / cpu, percentile(lat, 99.0), ok)
}

/// The rows.
pub fn section(rows: &mut Vec<Row>) {
    let dir = std::env::temp_dir().join(format!("netkit-bench-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The target: a listener that accepts and closes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            drop(s);
        }
    });
    let probe_config = |n: usize, interval: &str| {
        (0..n)
            .map(|i| {
                format!(
                    "[[probe]]\nname = \"p{i}\"\nkind = \"tcp\"\ntarget = \"{target}\"\ninterval = \"{interval}\"\ntimeout = \"2s\"\n"
                )
            })
            .collect::<String>()
    };
    // ---------------------------------------------------------------- throughput
    let one = dir.join("one.toml");
    std::fs::write(&one, probe_config(1, "1h")).unwrap();
    let (watch, listen) = start_netkit_watch(&one);
    let bb_config = dir.join("blackbox.yml");
    let mut modules = String::from("modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 2s\n");
    for i in 0..1000 {
        modules.push_str(&format!("  tcp_{i}:\n    prober: tcp\n    timeout: 2s\n"));
    }
    std::fs::write(&bb_config, modules).unwrap();
    let (bb_peer, bb) = start_blackbox_exporter(&bb_config);
    let mut results = Vec::new();
    for _ in 0..ECHO_ROUNDS {
        results.push((
            load(
                bb,
                &format!("/probe?module=tcp_connect&target={target}"),
                bb_peer.pid(),
            ),
            load(listen, "/probe?module=p0", watch.pid()),
        ));
    }
    let med = |f: &dyn Fn(&(Load, Load)) -> f64| median(results.iter().map(f).collect());
    let (bb_rate, nk_rate) = (med(&|r| r.0.0), med(&|r| r.1.0));
    let (bb_p99, nk_p99) = (med(&|r| r.0.1), med(&|r| r.1.1));
    let group = "watch: /probe under load (tcp connect, loopback)";
    rows.push(Row {
        group,
        what: "blackbox_exporter 0.23 (Debian)".into(),
        value: bb_rate,
        unit: "probes per CPU-second",
        ratio: format!("1.00x; p99 {bb_p99:.2} ms"),
    });
    rows.push(Row {
        group,
        what: "netkit watch (fresh sandboxed instance per probe)".into(),
        value: nk_rate,
        unit: "probes per CPU-second",
        ratio: format!(
            "{:.2}x blackbox_exporter; p99 {nk_p99:.2} ms ({:.2}x); goal >= 1x: {}",
            nk_rate / bb_rate,
            nk_p99 / bb_p99,
            if nk_rate >= bb_rate { "met" } else { "not met" }
        ),
    });
    note(format!(
        "load: {CLIENTS} clients, {LOAD_SECONDS} s, /probe back to back; CPU from /proc/PID/stat"
    ));
    drop(watch);
    // ---------------------------------------------------------------- memory
    let many = dir.join("many.toml");
    std::fs::write(&many, probe_config(1000, "5s")).unwrap();
    let (watch, listen) = start_netkit_watch(&many);
    // Every probe has run at least once after one interval (and a little).
    std::thread::sleep(Duration::from_secs(7));
    let runs = http("GET", listen, "/metrics")
        .1
        .lines()
        .filter(|l| l.starts_with("netkit_probe_runs_total{"))
        .count();
    let nk_rss = rss_of(watch.pid()) as f64 / 1024.0;
    let bb_rss = rss_of(bb_peer.pid()) as f64 / 1024.0;
    let group = "watch: resident memory, 1,000 configured tcp probes";
    rows.push(Row {
        group,
        what: "blackbox_exporter (1,001 modules, after the load above)".into(),
        value: bb_rss,
        unit: "MiB",
        ratio: "1.00x".into(),
    });
    rows.push(Row {
        group,
        what: format!("netkit watch (1,000 probes every 5 s; {runs} have run)"),
        value: nk_rss,
        unit: "MiB",
        ratio: format!(
            "{:.2}x blackbox_exporter; goal <= 2x: {}",
            nk_rss / bb_rss,
            if nk_rss <= 2.0 * bb_rss {
                "met"
            } else {
                "not met"
            }
        ),
    });
}

/// The four rows of a `/probe` load beside blackbox_exporter: probes per
/// CPU-second and p99 latency of each, as ratios to blackbox.
pub(crate) fn versus_blackbox(
    rows: &mut Vec<Row>,
    group: &'static str,
    (module, kind): (&str, &str),
    ours: Load,
    theirs: Load,
) {
    rows.push(Row {
        group,
        what: format!("blackbox_exporter {module}: probes per CPU-second"),
        value: theirs.0,
        unit: "probes/cpu-s",
        ratio: "1.00x".into(),
    });
    rows.push(Row {
        group,
        what: format!("netkit watch {kind}: probes per CPU-second"),
        value: ours.0,
        unit: "probes/cpu-s",
        ratio: format!("{:.2}x blackbox (goal >= 1x)", ours.0 / theirs.0),
    });
    rows.push(Row {
        group,
        what: "blackbox_exporter: p99 latency".into(),
        value: theirs.1,
        unit: "ms",
        ratio: "1.00x".into(),
    });
    rows.push(Row {
        group,
        what: "netkit watch: p99 latency".into(),
        value: ours.1,
        unit: "ms",
        ratio: format!("{:.2}x blackbox", ours.1 / theirs.1),
    });
}
