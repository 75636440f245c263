//! Servers under misbehaving clients (echo: resets, slowloris, senders that
//! never read, connect-and-vanish, floods; SNTP: datagram floods from refused
//! sources). The echo server under misbehaving clients: resets, slowloris, senders that
//! never read, connect-and-vanish, floods past --max-connections. Well-behaved
//! clients beside them are served with every byte verified, memory stays bounded,
//! idle connections are closed; SIGTERM under load drains and exits promptly.

use netkit_tests::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(60);

/// Peak resident memory of process `pid` in KiB (VmHWM).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// `netkit echo-client` against `addr`: every byte verified, exit 0.
fn good_client(addr: SocketAddr, size: &str, count: &str) -> std::process::Output {
    Command::new(netkit())
        .args(["echo-client", "--port", &addr.port().to_string()])
        .args(["--size", size, "--count", count, "--timeout", "10s"])
        .output()
        .unwrap()
}

#[test]
fn misbehaving_clients_do_not_hurt_good_ones() {
    let (server, addr) = netkit_echo_server(&["--max-connections", "40", "--idle-timeout", "2s"]);
    let mut bad = Vec::new();
    // Resets mid-stream: send, never read, close with the echo unread (RST).
    for _ in 0..5 {
        bad.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            let _ = s.write_all(&vec![7u8; 256 * 1024]);
            std::thread::sleep(Duration::from_millis(100));
        }));
    }
    // Slowloris: a byte every 300 ms.
    for _ in 0..3 {
        bad.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            for _ in 0..10 {
                if s.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        }));
    }
    // Senders of many MiB that never read: the server must push back, not buffer.
    for _ in 0..3 {
        bad.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
            let chunk = vec![1u8; 1 << 20];
            for _ in 0..64 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        }));
    }
    // Connect and vanish: never send, never close (until the test ends).
    let vanished: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // A flood past --max-connections: the extra ones are closed at once and counted.
    let flood: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    drop(flood);
    std::thread::sleep(Duration::from_millis(300));

    // Well-behaved clients alongside, every byte verified.
    let good: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || good_client(addr, "256KiB", "5")))
        .collect();
    for g in good {
        let out = g.join().unwrap();
        assert!(
            out.status.success(),
            "a good client failed: {}",
            text(&out.stderr)
        );
    }
    for b in bad {
        b.join().unwrap();
    }
    // The idle ones were closed by the server (idle timeout 2 s): reads see EOF.
    std::thread::sleep(Duration::from_millis(2500));
    for mut v in vanished {
        v.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 1];
        assert!(
            matches!(v.read(&mut buf), Ok(0) | Err(_)),
            "an idle connection stayed open"
        );
    }
    let peak = peak_rss_kib(server.pid());
    let done = server.terminate(LONG);
    assert!(done.success, "{}", done.stderr);
    assert!(done.stderr.contains("(idle timeout)"), "{}", done.stderr);
    let summary = done
        .stderr
        .lines()
        .find(|l| l.contains("netkit: echo-server: served"))
        .unwrap_or_else(|| panic!("no summary: {}", done.stderr))
        .to_string();
    let rejected: u64 = summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" rejected"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(
        rejected >= 20,
        "the flood past 40 connections was not refused: {summary}"
    );
    // 16 MiB-ish for netkit and its runtime; the never-reading senders pushed
    // 192 MiB at it.
    assert!(peak < 150 * 1024, "peak RSS {peak} KiB");
}

#[test]
fn sigterm_under_load_drains_and_exits_promptly() {
    let (server, addr) = netkit_echo_server(&["--drain-timeout", "1s"]);
    // An exchange in flight when the signal comes finishes within the drain.
    let in_flight = std::thread::spawn(move || good_client(addr, "16MiB", "1"));
    // And an idle connection that would hold the server forever is cut at 1 s.
    let _idle = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let start = Instant::now();
    let done = server.terminate(LONG);
    let took = start.elapsed();
    assert!(done.success, "{}", done.stderr);
    assert!(
        took < Duration::from_secs(3),
        "took {took:?} to stop: {}",
        done.stderr
    );
    assert!(
        done.stderr.contains("netkit: echo-server: served"),
        "{}",
        done.stderr
    );
    let out = in_flight.join().unwrap();
    assert!(
        out.status.success(),
        "the in-flight exchange was cut: {}",
        text(&out.stderr)
    );
    // Stopped accepting: nothing listens any more.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn a_datagram_flood_from_refused_sources_is_counted_not_printed() {
    // Only 127.0.0.2 may ask; 5,000 requests come from 127.0.0.1.
    let port = free_udp_port();
    let mut server = Peer::start(
        "netkit sntp-server",
        Command::new(netkit()).args([
            "sntp-server",
            "--port",
            &port.to_string(),
            "--allow-from",
            "127.0.0.2/32",
        ]),
    );
    server.wait_for_stderr("serving on udp", LONG);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut request = [0u8; 48];
    request[0] = 0x23;
    for i in 0..5000 {
        let _ = sock.send_to(&request, ("127.0.0.1", port));
        // Paced a little, so that what is measured is netkit's counting, not
        // how many datagrams the kernel drops while the suite loads both cores.
        if i % 100 == 99 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let done = server.terminate(LONG);
    assert!(done.success, "{}", done.stderr);
    let printed = done
        .stderr
        .lines()
        .filter(|l| l.contains("denied udp-receive"))
        .count();
    assert!(printed <= 40, "{printed} denial lines");
    assert!(
        done.stderr
            .contains("more denied udp-receive to 127.0.0.1:"),
        "{}",
        done.stderr
    );
    let summary = done
        .stderr
        .lines()
        .find(|l| l.contains("refused by --allow-from"))
        .unwrap_or_else(|| panic!("{}", done.stderr))
        .to_string();
    let refused: u64 = summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" refused by --allow-from"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    // Every datagram the kernel delivered was refused and counted (a few may be
    // dropped by the kernel under the flood, none can be counted twice).
    assert!((1000..=5000).contains(&refused), "{summary}");
    assert!(summary.contains("answered 0 requests"), "{summary}");
}

#[test]
fn a_udp_echo_flood_is_rate_limited_and_counted() {
    let port = free_udp_port();
    let mut server = Peer::start(
        "netkit echo-server --udp",
        Command::new(netkit()).args([
            "echo-server",
            "--udp",
            "--quiet",
            "--max-rate",
            "100",
            "--port",
            &port.to_string(),
        ]),
    );
    server.wait_for_stderr("listening on udp", LONG);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    for _ in 0..3000 {
        let _ = sock.send_to(b"flood", ("127.0.0.1", port));
    }
    std::thread::sleep(Duration::from_millis(300));
    let secs = start.elapsed().as_secs_f64();
    let done = server.terminate(LONG);
    let summary = done
        .stderr
        .lines()
        .find(|l| l.contains("netkit: echo-server: served"))
        .unwrap_or_else(|| panic!("{}", done.stderr))
        .to_string();
    let number = |suffix: &str| -> u64 {
        summary
            .split(", ")
            .find_map(|p| {
                p.trim_start_matches("netkit: echo-server: served ")
                    .strip_suffix(suffix)
            })
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{suffix} in {summary}"))
    };
    let (served, rejected) = (number(" datagrams"), number(" rejected"));
    // A burst of 100, then 100 per second.
    assert!(served <= 100 + (100.0 * secs) as u64 + 5, "{summary}");
    // The kernel drops part of such a flood before the server sees it (socket
    // buffers); of what arrives, everything past the rate is refused and counted.
    assert!(rejected >= 100, "{summary}");
}
