//! Echo throughput, round trips and connection set-up: netkit, `wasmtime run`,
//! native tokio servers and socat, interleaved over rounds.

use super::*;

pub(crate) async fn native_echo(listener: TcpListener) {
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
pub(crate) fn start_native(threads: usize) -> SocketAddr {
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
pub(crate) async fn connect_all(addr: SocketAddr, conns: usize) -> (Vec<TcpStream>, usize) {
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
pub(crate) async fn throughput(addr: SocketAddr, conns: usize) -> Echoed {
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
pub(crate) struct Echoed {
    /// Steady-state MB/s echoed back.
    pub(crate) mbs: f64,
    /// Connections that failed to open, or broke or stalled while streaming.
    pub(crate) failed: usize,
    /// Time to open every connection and see each answer once.
    pub(crate) opened: Duration,
}

/// Medians over the rounds of one echo subject.
pub(crate) struct Summary {
    pub(crate) mbs: f64,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) opened_ms: f64,
    /// Failed connections, summed over the rounds.
    pub(crate) failed: usize,
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
pub(crate) async fn latency(addr: SocketAddr, conns: usize) -> (f64, f64) {
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

/// The echo rows (and, with `held`, the connections-held row).
pub fn section(rt: &tokio::runtime::Runtime, rows: &mut Vec<Row>, only: &Only) {
    let wasmtime = wasmtime();
    let wasm_dir = components_dir();
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
        let at = |label: &str| &summary[here.iter().position(|(n, _)| n.contains(label)).unwrap()];
        let (base, mt) = (at("current-thread"), at("multi-thread"));
        let (base_mbs, base_p99, base_open, mt_mbs) = (base.mbs, base.p99, base.opened_ms, mt.mbs);
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
    if only.wants("held") {
        rows.push(super::held::row(rt, netkit_port));
    }
}
