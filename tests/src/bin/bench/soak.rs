//! Soak: netkit's echo server for a long run under mixed good and bad clients,
//! its resident memory sampled over time (flat means no leak).

use super::*;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Resident memory of `pid` in KiB (VmRSS).
pub(crate) fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// One good exchange: 64 KiB out, the same 64 KiB back, verified.
fn good_exchange(addr: std::net::SocketAddr, seed: u8) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let payload: Vec<u8> = (0..65_536u32).map(|i| (i as u8) ^ seed).collect();
    let mut back = vec![0u8; payload.len()];
    s.write_all(&payload).is_ok() && s.read_exact(&mut back).is_ok() && back == payload
}

/// One bad client, by turns: reset mid-stream, connect and vanish, send and never read.
fn bad_client(addr: std::net::SocketAddr, kind: u64) {
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return;
    };
    match kind % 3 {
        0 => {
            let _ = s.write_all(&[9u8; 128 * 1024]);
        }
        1 => std::thread::sleep(Duration::from_millis(200)),
        _ => {
            let _ = s.set_write_timeout(Some(Duration::from_millis(500)));
            for _ in 0..8 {
                if s.write_all(&[3u8; 1 << 20]).is_err() {
                    break;
                }
            }
        }
    }
}

/// Run the echo server for `duration` under 4 good and 2 bad client loops.
pub(crate) fn section(rows: &mut Vec<Row>, duration: Duration) {
    let (server, addr) = netkit_echo_server(&[
        "--quiet",
        "--idle-timeout",
        "2s",
        "--max-connections",
        "256",
    ]);
    let pid = server.pid();
    let stop = Arc::new(AtomicBool::new(false));
    let (good, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut loops = Vec::new();
    for i in 0..6u64 {
        let (stop, good, failed) = (stop.clone(), good.clone(), failed.clone());
        loops.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if i < 4 {
                    let ok = good_exchange(addr, n as u8);
                    (if ok { &good } else { &failed }).fetch_add(1, Ordering::Relaxed);
                } else {
                    bad_client(addr, n + i);
                }
                n += 1;
            }
        }));
    }
    let start = Instant::now();
    let mut samples: Vec<(f64, u64)> = Vec::new();
    while start.elapsed() < duration {
        samples.push((start.elapsed().as_secs_f64(), rss_of(pid)));
        eprintln!(
            "bench: soak {:>4.0} s: RSS {} KiB, {} good exchanges, {} failed",
            start.elapsed().as_secs_f64(),
            samples.last().unwrap().1,
            good.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_secs(10).min(duration));
    }
    samples.push((start.elapsed().as_secs_f64(), rss_of(pid)));
    stop.store(true, Ordering::Relaxed);
    for l in loops {
        let _ = l.join();
    }
    drop(server);
    let group = "soak, echo server";
    let at = |frac: f64| {
        let t = samples.last().unwrap().0 * frac;
        samples.iter().find(|(s, _)| *s >= t).unwrap().1 as f64 / 1024.0
    };
    let max = samples.iter().map(|s| s.1).max().unwrap_or(0) as f64 / 1024.0;
    let secs = samples.last().unwrap().0;
    for (what, value) in [
        ("RSS after 10 % of the run", at(0.1)),
        ("RSS at half time", at(0.5)),
        ("RSS at the end", at(1.0)),
        ("RSS, highest sample", max),
    ] {
        rows.push(Row {
            group,
            what: what.into(),
            value,
            unit: "MiB",
            ratio: format!("{:.2}x the 10 % sample; {secs:.0} s run", value / at(0.1)),
        });
    }
    rows.push(Row {
        group,
        what: "good exchanges verified / failed".into(),
        value: good.load(Ordering::Relaxed) as f64,
        unit: "exchanges",
        ratio: format!("{} failed", failed.load(Ordering::Relaxed)),
    });
}
