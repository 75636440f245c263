//! netkit benchmarks: side by side in one run, as ratios, printed as one table.
//!
//! `cargo run -p netkit-tests --bin bench` (after `cargo build -p netkit`).
//! Arguments pick sections (default: all): `sntp`, `rss`, `embedded`, `echo`, `held`;
//! `--conns 1000` limits the echo section to that many connections.
//! Starts its own peers on loopback: chronyd, netkit and `wasmtime run` servers,
//! native tokio echo servers (current-thread and multi-thread) and socat.

use netkit_tests::*;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long each echo measurement counts.
const ECHO_SECONDS: f64 = 2.0;
/// Streaming before the throughput count starts (socket buffers filling up).
const WARMUP_SECONDS: f64 = 1.0;
/// Echo measurements per subject; the table shows their medians.
const ECHO_ROUNDS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank - 1]
}

/// Median wall time (ms) of `runs` executions of `cmd`, which must succeed.
fn time_process(runs: usize, mut cmd: impl FnMut() -> Command) -> f64 {
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
fn peak_rss_kib(cmd: Command) -> u64 {
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

struct Row {
    group: &'static str,
    what: String,
    value: f64,
    unit: &'static str,
    ratio: String,
}

fn print_table(rows: &[Row]) {
    println!("\n| benchmark | subject | median | unit | ratio |");
    println!("|---|---|---:|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {:.2} | {} | {} |",
            r.group, r.what, r.value, r.unit, r.ratio
        );
    }
}

// ---------------------------------------------------------------- echo servers

async fn native_echo(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let (mut r, mut w) = s.split();
            let _ = tokio::io::copy(&mut r, &mut w).await;
        });
    }
}

/// A native tokio echo server on its own thread: `threads` = 1 is a current-thread runtime.
fn start_native(threads: usize) -> SocketAddr {
    // The same backlog as the echo component and socat (std's default is 128).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = if threads == 1 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()
                .unwrap()
        };
        rt.block_on(async move { native_echo(socket.listen(1024).unwrap()).await });
    });
    addr
}

/// Open `conns` connections to `addr` and see each answer one echo, so that the
/// measurement that follows starts with every connection accepted and served.
/// Connections that fail are counted, not retried.
async fn connect_all(addr: SocketAddr, conns: usize) -> (Vec<TcpStream>, usize) {
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await.ok()?;
                s.set_nodelay(true).ok();
                s.write_all(b"w").await.ok()?;
                let mut b = [0u8; 1];
                tokio::time::timeout(Duration::from_secs(10), s.read_exact(&mut b))
                    .await
                    .ok()?
                    .ok()?;
                Some(s)
            })
        })
        .collect();
    let mut streams = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Some(s) => streams.push(s),
            None => failed += 1,
        }
    }
    (streams, failed)
}

/// Steady-state throughput (MB/s echoed back) of `conns` connections, each
/// streaming 64 KiB writes while reading the echo concurrently (no stop-and-wait),
/// and how many connections failed (refused, reset, stalled) along the way.
///
/// All connections are opened and answered first; bytes are then counted over
/// ECHO_SECONDS after WARMUP_SECONDS of streaming, so neither connection setup
/// nor filling the socket buffers is in the figure.
async fn throughput(addr: SocketAddr, conns: usize) -> Echoed {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let t = Instant::now();
    let (streams, mut failed) = connect_all(addr, conns).await;
    let opened = t.elapsed();
    let echoed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|s| {
            let (echoed, stop) = (echoed.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut r, mut w) = s.into_split();
                let stop_w = stop.clone();
                let writer = tokio::spawn(async move {
                    let chunk = vec![7u8; 64 * 1024];
                    while !stop_w.load(Ordering::Relaxed) {
                        if w.write_all(&chunk).await.is_err() {
                            return false;
                        }
                    }
                    w.shutdown().await.is_ok()
                });
                let mut buf = vec![0u8; 64 * 1024];
                let mut ok = true;
                loop {
                    match tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf)).await {
                        Ok(Ok(0)) => break,
                        Ok(Ok(n)) => {
                            echoed.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                writer.await.unwrap_or(false) && ok
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(WARMUP_SECONDS)).await;
    let (t0, c0) = (Instant::now(), echoed.load(Ordering::Relaxed));
    tokio::time::sleep(Duration::from_secs_f64(ECHO_SECONDS)).await;
    let (t1, c1) = (Instant::now(), echoed.load(Ordering::Relaxed));
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        if !t.await.unwrap() {
            failed += 1;
        }
    }
    Echoed {
        mbs: (c1 - c0) as f64 / (t1 - t0).as_secs_f64() / 1e6,
        failed,
        opened,
    }
}

/// What [`throughput`] measured.
struct Echoed {
    /// Steady-state MB/s echoed back.
    mbs: f64,
    /// Connections that failed to open, or broke or stalled while streaming.
    failed: usize,
    /// Time to open every connection and see each answer once.
    opened: Duration,
}

/// A transmit timestamp nobody else sends, to match chronyd's reply to our request.
fn rand_transmit() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

/// Medians over the rounds of one echo subject.
struct Summary {
    mbs: f64,
    p50: f64,
    p99: f64,
    opened_ms: f64,
    /// Failed connections, summed over the rounds.
    failed: usize,
}

impl Summary {
    fn of(runs: &[(Echoed, f64, f64)]) -> Self {
        let pick = |f: &dyn Fn(&(Echoed, f64, f64)) -> f64| median(runs.iter().map(f).collect());
        Self {
            mbs: pick(&|r| r.0.mbs),
            p50: pick(&|r| r.1),
            p99: pick(&|r| r.2),
            opened_ms: pick(&|r| r.0.opened.as_secs_f64() * 1e3),
            failed: runs.iter().map(|r| r.0.failed).sum(),
        }
    }
}

/// p50 and p99 round trip (µs) of 64-byte messages over `conns` connections,
/// measured for ECHO_SECONDS once every connection is open and answered.
async fn latency(addr: SocketAddr, conns: usize) -> (f64, f64) {
    let (streams, _) = connect_all(addr, conns).await;
    let deadline = Instant::now() + Duration::from_secs_f64(ECHO_SECONDS);
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut rtts = Vec::new();
                let msg = [9u8; 64];
                let mut back = [0u8; 64];
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if s.write_all(&msg).await.is_err() || s.read_exact(&mut back).await.is_err() {
                        break;
                    }
                    rtts.push(t.elapsed().as_secs_f64() * 1e6);
                }
                rtts
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (percentile(all.clone(), 50.0), percentile(all, 99.0))
}

/// The in-process SNTP query through the embedding API, next to the same exchange
/// done natively, and the memory each in-flight instance costs.
///
/// Runs on a current-thread tokio runtime, as a plugin host driving guests from one
/// thread would (on a multi-thread runtime both the native exchange and netkit pay
/// cross-thread wake-ups, some 40-60 µs per call here).
/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the kernel fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(
        rc,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: CPU_ISSET reads the set filled above.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Let `pid` (0: the calling thread) run only on `cpus`.
fn pin(pid: u32, cpus: &[usize]) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        // SAFETY: `c` < CPU_SETSIZE (it came from allowed_cpus).
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc =
        unsafe { libc::sched_setaffinity(pid as libc::pid_t, std::mem::size_of_val(&set), &set) };
    assert_eq!(
        rc,
        0,
        "sched_setaffinity({pid}, {cpus:?}): {}",
        std::io::Error::last_os_error()
    );
}

/// µs per call over `calls` calls of `call` on `rt`, after 100 unmeasured ones.
fn per_call(rt: &tokio::runtime::Runtime, calls: usize, mut call: impl AsyncFnMut()) -> f64 {
    rt.block_on(async {
        for _ in 0..100 {
            call().await;
        }
        let start = Instant::now();
        for _ in 0..calls {
            call().await;
        }
        start.elapsed().as_secs_f64() * 1e6 / calls as f64
    })
}

/// In-process queries through the embedding API, against the native floor.
///
/// Where chronyd runs relative to the caller decides the floor on this VM: on the
/// caller's CPU an exchange is a local wake-up, on another idle CPU it costs two
/// cross-CPU wake-ups (~20 µs each here), and the scheduler picks either from run
/// to run. So both placements are measured, each for every subject, with the
/// calling thread (and the threads netkit starts from it) and chronyd pinned.
fn embedded(rows: &mut Vec<Row>, chrony: &Chrony) {
    use netkit::cache::CompileCache;
    use netkit::runtime::Host;
    use netkit::sntp::{Family, QueryOptions, SntpClient};
    const CALLS: usize = 2000;
    let addr: SocketAddr = ([127, 0, 0, 1], chrony.port).into();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = QueryOptions {
        timeout_ms: 2000,
        tries: 3,
        samples: 1,
        burst: true,
        family: Family::Any,
    };
    let client_for = |pooling: bool| {
        let nrt = Host::with_options(CompileCache::default_dir().map(CompileCache::new), pooling)
            .unwrap();
        SntpClient::new(&nrt).unwrap()
    };
    let cpus = allowed_cpus();
    let mut placements = vec![(
        "embedded sntp query, chronyd on the caller's CPU",
        cpus[0],
        cpus[0],
    )];
    if cpus.len() > 1 {
        placements.push((
            "embedded sntp query, chronyd on another CPU",
            cpus[0],
            cpus[1],
        ));
    }
    // The floor: the same exchange natively, a new socket per call as the component does.
    let native_once = async || {
        let sock = tokio::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
        sock.connect(addr).await.unwrap();
        let mut request = [0u8; 48];
        request[0] = 0x23; // LI 0, version 4, mode 3 (client)
        request[40..48].copy_from_slice(&rand_transmit().to_be_bytes());
        sock.send(&request).await.unwrap();
        let mut reply = [0u8; 68];
        let n = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut reply))
            .await
            .expect("chronyd did not answer within 2 s")
            .unwrap();
        assert!(n >= 48 && reply[24..32] == request[40..48], "not our reply");
    };
    for (group, caller, server) in placements {
        pin(0, &[caller]);
        pin(chrony.pid(), &[server]);
        let mut native = Vec::new();
        let mut netkit = [Vec::new(), Vec::new()];
        let clients = [client_for(false), client_for(true)];
        // Subjects take turns, ECHO_ROUNDS times; medians below.
        for _ in 0..ECHO_ROUNDS {
            native.push(per_call(&rt, CALLS, native_once));
            for (client, times) in clients.iter().zip(netkit.iter_mut()) {
                times.push(per_call(&rt, CALLS, async || {
                    client.query(addr, &options).await.unwrap().unwrap();
                }));
            }
        }
        let native_call = median(native);
        rows.push(Row {
            group,
            what: "native tokio UDP exchange with the same chronyd (floor)".into(),
            value: native_call,
            unit: "µs/call",
            ratio: "1.00x".into(),
        });
        for (pooling, times) in [false, true].into_iter().zip(netkit) {
            let allocator = if pooling { "pooling" } else { "on-demand" };
            let per_call = median(times);
            rows.push(Row {
                group,
                what: format!("instantiate + query (InstancePre, {allocator} allocator)"),
                value: per_call,
                unit: "µs/call",
                ratio: format!(
                    "{:.0} instances/s; {:.2}x the native exchange (+{:.0} µs)",
                    1e6 / per_call,
                    per_call / native_call,
                    per_call - native_call
                ),
            });
        }
    }
    pin(0, &cpus);
    pin(chrony.pid(), &cpus);
    let group = "embedded sntp query, memory";
    for pooling in [false, true] {
        let allocator = if pooling { "pooling" } else { "on-demand" };
        let client = client_for(pooling);
        // Memory per instance: IN_FLIGHT queries waiting on a port that never
        // answers, each with its own store, instance, socket and stack.
        const IN_FLIGHT: usize = 200;
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let silent_addr = silent.local_addr().unwrap();
        let wait = QueryOptions {
            timeout_ms: 1500,
            tries: 1,
            ..options
        };
        let (before, during) = rt.block_on(async {
            let before = rss_kib();
            let queries = (0..IN_FLIGHT).map(|_| client.query(silent_addr, &wait));
            let (during, outcomes) = futures::future::join(
                async {
                    tokio::time::sleep(Duration::from_millis(700)).await;
                    rss_kib()
                },
                futures::future::join_all(queries),
            )
            .await;
            for o in outcomes {
                assert!(
                    matches!(o, Ok(Err(netkit::sntp::SntpError::Timeout(_)))),
                    "a silent server must time out: {o:?}"
                );
            }
            (before, during)
        });
        rows.push(Row {
            group,
            what: format!("memory per in-flight instance ({allocator} allocator)"),
            value: (during.saturating_sub(before)) as f64 / IN_FLIGHT as f64,
            unit: "KiB",
            ratio: format!("RSS growth with {IN_FLIGHT} queries waiting, divided by {IN_FLIGHT}"),
        });
    }
}

/// This process's resident set in KiB.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages in /proc/self/statm");
    pages * 4
}

/// Which sections to run, from the command line.
struct Only {
    sections: Vec<String>,
    conns: Option<usize>,
}

impl Only {
    fn parse() -> Self {
        const SECTIONS: [&str; 5] = ["sntp", "rss", "embedded", "echo", "held"];
        let mut sections = Vec::new();
        let mut conns = None;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if a == "--conns" {
                conns = args.next().and_then(|n| n.parse().ok());
                if conns.is_none() {
                    eprintln!("bench: --conns needs a number of connections, e.g. --conns 1000");
                    std::process::exit(2);
                }
            } else if SECTIONS.contains(&a.as_str()) {
                sections.push(a);
            } else {
                eprintln!(
                    "bench: unknown argument {a:?}; sections are {}, plus --conns N",
                    SECTIONS.join(", ")
                );
                std::process::exit(2);
            }
        }
        Self { sections, conns }
    }

    fn wants(&self, section: &str) -> bool {
        self.sections.is_empty() || self.sections.iter().any(|s| s == section)
    }
}

fn main() {
    let only = Only::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    let wasm_dir = components_dir();
    let wasmtime = wasmtime();

    // ------------------------------------------------------------ SNTP, whole process
    let sntp_wanted = ["sntp", "rss", "embedded"].iter().any(|s| only.wants(s));
    if sntp_wanted {
        let chrony = start_chrony(free_udp_port(), "");
        let server = format!("127.0.0.1:{}", chrony.port);
        let sntp_wasm = wasm_dir.join("sntp-client.wasm");
        let cold_cache =
            std::env::temp_dir().join(format!("netkit-bench-cache-{}", std::process::id()));
        let warm_cache =
            std::env::temp_dir().join(format!("netkit-bench-warm-{}", std::process::id()));
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
        if only.wants("embedded") {
            embedded(&mut rows, &chrony);
        }
    }
    if only.wants("echo") || only.wants("held") {
        // ------------------------------------------------------------ echo
        let echo_wasm = wasm_dir.join("echo-server.wasm");
        let netkit_port = free_port();
        let mut netkit_server = Peer::start(
            "netkit echo-server",
            Command::new(netkit()).args([
                "echo-server",
                "--quiet",
                "--max-connections",
                "20000",
                "--port",
                &netkit_port.to_string(),
            ]),
        );
        netkit_server.wait_for_stderr("listening on tcp", Duration::from_secs(30));
        let wt_port = free_port();
        let mut wt_server = Peer::start(
            "wasmtime run echo-server.wasm",
            Command::new(&wasmtime)
                .args(["run", "-S", "inherit-network"])
                .arg(&echo_wasm)
                .args([
                    "--quiet",
                    "--max-connections",
                    "20000",
                    "--port",
                    &wt_port.to_string(),
                ]),
        );
        wt_server.wait_for_stderr("listening on tcp", Duration::from_secs(30));
        let socat_port = free_port();
        let _socat = Peer::start(
            "socat",
            Command::new(socat()).args([
                &format!("TCP-LISTEN:{socat_port},bind=127.0.0.1,reuseaddr,fork,backlog=1024"),
                "EXEC:cat",
            ]),
        );
        wait_for_tcp(([127, 0, 0, 1], socat_port).into(), Duration::from_secs(10));
        let native1 = start_native(1);
        let native_mt = start_native(2);
        let subjects: Vec<(&str, SocketAddr)> = vec![
            ("netkit echo-server", ([127, 0, 0, 1], netkit_port).into()),
            (
                "wasmtime run echo-server.wasm",
                ([127, 0, 0, 1], wt_port).into(),
            ),
            ("native tokio, current-thread", native1),
            ("native tokio, multi-thread", native_mt),
            ("socat fork EXEC:cat", ([127, 0, 0, 1], socat_port).into()),
        ];
        let conn_counts: Vec<usize> = match only.conns {
            Some(n) => vec![n],
            None => vec![1, 100, 1000],
        };
        for conns in conn_counts.iter().copied().filter(|_| only.wants("echo")) {
            let here: Vec<&(&str, SocketAddr)> = subjects
                .iter()
                // A process per connection: 1000 cats is not a fair fight.
                .filter(|(name, _)| !(name.starts_with("socat") && conns > 100))
                .collect();
            // Rounds interleave the subjects so that the machine's noise falls on all alike.
            let mut runs: Vec<Vec<(Echoed, f64, f64)>> = here.iter().map(|_| Vec::new()).collect();
            for round in 1..=ECHO_ROUNDS {
                for (i, (name, addr)) in here.iter().enumerate() {
                    eprintln!("bench: echo {name}, {conns} connections, round {round}");
                    let echoed = rt.block_on(throughput(*addr, conns));
                    let (p50, p99) = rt.block_on(latency(*addr, conns));
                    runs[i].push((echoed, p50, p99));
                }
            }
            let summary: Vec<Summary> = runs.iter().map(|r| Summary::of(r)).collect();
            let at =
                |label: &str| &summary[here.iter().position(|(n, _)| n.contains(label)).unwrap()];
            let (base, mt) = (at("current-thread"), at("multi-thread"));
            let (base_mbs, base_p99, base_open, mt_mbs) =
                (base.mbs, base.p99, base.opened_ms, mt.mbs);
            let group: &'static str = match conns {
                1 => "echo, 1 conn",
                n => format!("echo, {n} conns").leak(),
            };
            for ((name, _), s) in here.iter().zip(&summary) {
                let failures = if s.failed > 0 {
                    format!(
                        " ({} connections failed over {ECHO_ROUNDS} rounds)",
                        s.failed
                    )
                } else {
                    String::new()
                };
                rows.push(Row {
                    group,
                    what: format!("{name}: MB/s (64 KiB)"),
                    value: s.mbs,
                    unit: "MB/s",
                    ratio: format!(
                        "{:.2}x native 1-thread, {:.2}x native multi{}",
                        s.mbs / base_mbs,
                        s.mbs / mt_mbs,
                        failures
                    ),
                });
                rows.push(Row {
                    group,
                    what: format!("{name}: p50 / p99 RTT (64 B)"),
                    value: s.p99,
                    unit: "µs p99",
                    ratio: format!(
                        "p50 {:.0} µs; p99 {:.2}x native 1-thread",
                        s.p50,
                        s.p99 / base_p99
                    ),
                });
                if conns > 1 {
                    rows.push(Row {
                        group,
                        what: format!("{name}: open {conns} conns, each answered"),
                        value: s.opened_ms,
                        unit: "ms",
                        ratio: format!("{:.2}x native 1-thread", s.opened_ms / base_open),
                    });
                }
            }
        }
        // ------------------------------------------------------------ connections held
        if only.wants("held") {
            let held = rt.block_on(async {
                let addr: SocketAddr = ([127, 0, 0, 1], netkit_port).into();
                let mut idle = Vec::new();
                for _ in 0..10_000 {
                    match TcpStream::connect(addr).await {
                        Ok(s) => idle.push(s),
                        Err(e) => {
                            eprintln!("bench: connection {} failed: {e}", idle.len() + 1);
                            break;
                        }
                    }
                }
                // A probe must still be answered while all of them stay open.
                let mut probe = TcpStream::connect(addr).await.expect("probe connect");
                probe.write_all(b"probe").await.expect("probe write");
                let mut back = [0u8; 5];
                let answered =
                    tokio::time::timeout(Duration::from_secs(10), probe.read_exact(&mut back))
                        .await
                        .is_ok_and(|r| r.is_ok());
                (idle.len(), answered)
            });
            rows.push(Row {
                group: "connections held",
                what: "netkit echo-server: idle connections open".into(),
                value: held.0 as f64,
                unit: "connections",
                ratio: if held.1 {
                    "probe answered".into()
                } else {
                    "probe NOT answered".into()
                },
            });
        }
    }
    print_table(&rows);
    println!(
        "\nmachine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
}
