//! A slowloris attacker and a Prometheus-like scraper, for the test and the
//! bench of `netkit watch`'s connection policy (issue 31): thousands of
//! connections, each from one of many loopback source addresses (127.0.0.0/8
//! has millions), each sending half a request head and a header byte now and
//! then, reopened as soon as the server closes it.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Connections from one source address (below watch's per-source default, 64).
const PER_SOURCE: usize = 8;

/// Raise this process's open-file limit to `n` (as root the hard limit too),
/// or panic saying how.
pub fn raise_fd_limit(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    if lim.rlim_cur >= n {
        return;
    }
    let want = libc::rlimit {
        rlim_cur: n,
        rlim_max: lim.rlim_max.max(n),
    };
    // SAFETY: as above.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) };
    assert_eq!(
        rc, 0,
        "cannot raise the open-file limit to {n} for the slowloris attacker: run the tests as root (./test.sh does), or `ulimit -Hn {n}` first"
    );
}

/// Connections one attacker process holds: a process cannot raise its
/// open-file limit past the hard one (20,000 here) without CAP_SYS_RESOURCE,
/// so larger attacks are spread over several processes.
const PER_PROCESS: usize = 10_000;

/// The attack under way, in attacker processes (`slowloris` beside the test
/// binaries); stopped (every connection closed) when dropped.
pub struct Slowloris {
    children: Vec<std::process::Child>,
    /// Connections the server accepted so far (each time one was opened).
    pub opened: Arc<AtomicU64>,
    /// Connections the server closed on the attacker.
    pub closed: Arc<AtomicU64>,
}

/// The `slowloris` attacker binary, beside the running test or bench binary.
fn attacker_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the current executable");
    let dir = exe.parent().expect("its directory");
    for d in [Some(dir), dir.parent()].into_iter().flatten() {
        let p = d.join("slowloris");
        if p.exists() {
            return p;
        }
    }
    panic!(
        "no slowloris binary beside {}: build it with cargo build -p netkit-tests --bin slowloris",
        exe.display()
    );
}

impl Slowloris {
    /// Hold `connections` half-sent requests against `server`, from
    /// `connections / 8` source addresses (127.1.0.1 upwards).
    pub fn start(server: SocketAddr, connections: usize) -> Self {
        let opened = Arc::new(AtomicU64::new(0));
        let closed = Arc::new(AtomicU64::new(0));
        let mut children = Vec::new();
        let mut first = 0;
        while first < connections {
            let n = PER_PROCESS.min(connections - first);
            let mut child = std::process::Command::new(attacker_binary())
                .args([server.to_string(), n.to_string(), first.to_string()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("start the slowloris attacker");
            let out = child.stdout.take().expect("its stdout");
            let (o, c) = (opened.clone(), closed.clone());
            // Each child prints its running totals; the sum of the last lines is the attack's.
            std::thread::spawn(move || {
                use std::io::BufRead;
                let (mut last_o, mut last_c) = (0, 0);
                for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                    let mut it = line
                        .split_whitespace()
                        .map(|w| w.parse::<u64>().unwrap_or(0));
                    let (now_o, now_c) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
                    o.fetch_add(now_o.saturating_sub(last_o), Ordering::Relaxed);
                    c.fetch_add(now_c.saturating_sub(last_c), Ordering::Relaxed);
                    (last_o, last_c) = (now_o, now_c);
                }
            });
            children.push(child);
            first += n;
        }
        Self {
            children,
            opened,
            closed,
        }
    }
}

impl Drop for Slowloris {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The attacker process's work: hold `connections` half-sent requests against
/// `server` from sources numbered from `first` (8 connections each), printing
/// `OPENED CLOSED` every 200 ms, until its stdin closes.
pub fn attack(server: SocketAddr, connections: usize, first: usize) {
    raise_fd_limit((connections as u64) + 1024);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the attacker");
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    for i in first..first + connections {
        let n = (i / PER_SOURCE) as u32 + 1;
        let source = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 1, 0, 0)) + n);
        let (stop, opened, closed) = (stop.clone(), opened.clone(), closed.clone());
        runtime.spawn(hold(server, source, stop, opened, closed));
    }
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            stop.store(true, Ordering::Relaxed);
        });
    }
    let mut out = std::io::stdout();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if writeln!(
            out,
            "{} {}",
            opened.load(Ordering::Relaxed),
            closed.load(Ordering::Relaxed)
        )
        .and_then(|_| out.flush())
        .is_err()
        {
            break;
        }
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
}

/// One attacker connection, reopened whenever the server closes it.
async fn hold(
    server: SocketAddr,
    source: Ipv4Addr,
    stop: Arc<AtomicBool>,
    opened: Arc<AtomicU64>,
    closed: Arc<AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while !stop.load(Ordering::Relaxed) {
        let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if socket
            .bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let mut s =
            match tokio::time::timeout(Duration::from_secs(10), socket.connect(server)).await {
                Ok(Ok(s)) => s,
                _ => continue,
            };
        if s.write_all(b"GET /metrics HTTP/1.1\r\nHost: victim\r\n")
            .await
            .is_err()
        {
            continue;
        }
        opened.fetch_add(1, Ordering::Relaxed);
        let mut buf = [0u8; 256];
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            tokio::select! {
                r = s.read(&mut buf) => {
                    if matches!(r, Ok(0) | Err(_)) {
                        closed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                // A header byte now and then, well inside any header timeout's reach.
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    if s.write_all(b"X").await.is_err() {
                        closed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }
    }
}

/// One scrape of `/metrics` as Prometheus makes it (a fresh connection, the
/// whole head at once), within `timeout`: its duration, or why it failed.
pub fn scrape(addr: SocketAddr, timeout: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    let left = timeout
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(1));
    s.set_read_timeout(Some(left)).ok();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: prometheus\r\nUser-Agent: Prometheus/2.42\r\nAccept: text/plain\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("read after {:?}: {e}", start.elapsed()))?;
    let text = String::from_utf8_lossy(&raw);
    if !text.starts_with("HTTP/1.1 200") || !text.contains("# HELP") {
        return Err(format!(
            "answer: {:?}",
            text.chars().take(120).collect::<String>()
        ));
    }
    Ok(start.elapsed())
}

/// `scrapes` scrapes, `every` apart: how many succeeded, their durations, the failures.
pub fn scrape_series(
    addr: SocketAddr,
    scrapes: usize,
    every: Duration,
    timeout: Duration,
) -> (usize, Vec<Duration>, Vec<String>) {
    let (mut ok, mut took, mut failed) = (0, Vec::new(), Vec::new());
    for _ in 0..scrapes {
        let t = Instant::now();
        match scrape(addr, timeout) {
            Ok(d) => {
                ok += 1;
                took.push(d);
            }
            Err(e) => failed.push(e),
        }
        if let Some(rest) = every.checked_sub(t.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    (ok, took, failed)
}
