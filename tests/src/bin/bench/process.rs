//! Whole-process rows: an SNTP query as a process (netkit, wasmtime run, chronyd -Q,
//! ntpdig) and its peak RSS.

use super::*;

/// Median wall time (ms) of `runs` executions of `cmd`, which must succeed.
pub(crate) fn time_process(runs: usize, mut cmd: impl FnMut() -> Command) -> f64 {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = cmd().output().expect("run benchmark command");
        let elapsed = start.elapsed().as_secs_f64() * 1e3;
        assert!(
            out.status.success(),
            "benchmark command failed: {}",
            text(&out.stderr)
        );
        times.push(elapsed);
    }
    median(times)
}

/// Peak RSS in KiB of one run of `cmd`, measured by GNU time.
pub(crate) fn peak_rss_kib(cmd: Command) -> u64 {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(program)
        .args(args)
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .output()
        .expect("run /usr/bin/time (apt-get install -y time)");
    text(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

/// The SNTP process and RSS rows against `chrony`; the `wasmtime` CLI and the
/// components in `wasm_dir`.
pub fn sntp(rows: &mut Vec<Row>, only: &Only, chrony: &Chrony) {
    let wasmtime = wasmtime();
    let wasm_dir = components_dir();
    let server = format!("127.0.0.1:{}", chrony.port);
    let sntp_wasm = wasm_dir.join("sntp-client.wasm");
    let cold_cache =
        std::env::temp_dir().join(format!("netkit-bench-cache-{}", std::process::id()));
    let warm_cache = std::env::temp_dir().join(format!("netkit-bench-warm-{}", std::process::id()));
    let netkit_cmd = |cache: &std::path::Path| {
        let mut c = Command::new(netkit());
        c.env("NETKIT_CACHE_DIR", cache).args(["sntp", &server]);
        c
    };
    let wasmtime_cmd = || {
        let mut c = Command::new(&wasmtime);
        c.args(["run", "-S", "inherit-network"])
            .arg(&sntp_wasm)
            .arg(&server);
        c
    };
    // Warm both caches once.
    netkit_cmd(&warm_cache).output().unwrap();
    wasmtime_cmd().output().unwrap();
    if only.wants("sntp") {
        let runs = 15;
        let netkit_ms = time_process(runs, || netkit_cmd(&warm_cache));
        let wasmtime_ms = time_process(runs, wasmtime_cmd);
        let chrony_q_ms = time_process(3, || {
            let mut c = Command::new(chronyd());
            c.args(["-Q", "-f", "/dev/null"]).arg(format!(
                "server 127.0.0.1 port {} iburst maxsamples 1",
                chrony.port
            ));
            c
        });
        let cold_netkit = time_process(5, || {
            let _ = std::fs::remove_dir_all(&cold_cache);
            netkit_cmd(&cold_cache)
        });
        let cold_wasmtime = time_process(5, || {
            let mut c = Command::new(&wasmtime);
            c.args(["run", "-C", "cache=n", "-S", "inherit-network"])
                .arg(&sntp_wasm)
                .arg(&server);
            c
        });
        let vs = |x: f64| format!("{:.2}x wasmtime run", x / wasmtime_ms);
        rows.push(Row {
            group: "sntp query, process",
            what: "netkit sntp (cache warm)".into(),
            value: netkit_ms,
            unit: "ms",
            ratio: vs(netkit_ms),
        });
        rows.push(Row {
            group: "sntp query, process",
            what: "wasmtime run sntp-client.wasm (cache warm)".into(),
            value: wasmtime_ms,
            unit: "ms",
            ratio: "1.00x".into(),
        });
        rows.push(Row {
            group: "sntp query, process",
            what: "chronyd -Q".into(),
            value: chrony_q_ms,
            unit: "ms",
            ratio: vs(chrony_q_ms),
        });
        rows.push(Row {
            group: "sntp query, process",
            what: "netkit sntp (cold cache)".into(),
            value: cold_netkit,
            unit: "ms",
            ratio: format!("{:.2}x wasmtime cold", cold_netkit / cold_wasmtime),
        });
        rows.push(Row {
            group: "sntp query, process",
            what: "wasmtime run (cache off)".into(),
            value: cold_wasmtime,
            unit: "ms",
            ratio: "1.00x".into(),
        });

        // ntpdig only talks to port 123.
        {
            let _lock = port_123();
            let _c123 = start_chrony(123, "");
            let dig = time_process(5, || {
                let mut c = Command::new(ntpdig());
                c.args(["-t", "2", "127.0.0.1"]);
                c
            });
            rows.push(Row {
                group: "sntp query, process",
                what: "ntpdig (port 123)".into(),
                value: dig,
                unit: "ms",
                ratio: vs(dig),
            });
        }
    }
    if only.wants("rss") {
        // ------------------------------------------------------------ memory
        let netkit_rss = peak_rss_kib(netkit_cmd(&warm_cache));
        let wasmtime_rss = peak_rss_kib(wasmtime_cmd());
        rows.push(Row {
            group: "peak RSS, sntp query",
            what: "netkit sntp".into(),
            value: netkit_rss as f64 / 1024.0,
            unit: "MiB",
            ratio: format!(
                "{:.2}x wasmtime run",
                netkit_rss as f64 / wasmtime_rss as f64
            ),
        });
        rows.push(Row {
            group: "peak RSS, sntp query",
            what: "wasmtime run".into(),
            value: wasmtime_rss as f64 / 1024.0,
            unit: "MiB",
            ratio: "1.00x".into(),
        });
    }
}
