//! The native floor for `netkit sntp`: the same SNTP exchange (sntp-proto's
//! `Exchange`, one request, the same validation and output line) over a std UDP
//! socket, with nothing else: no sandbox, no WebAssembly, no async runtime.
//!
//! `sntp-native 127.0.0.1:PORT` prints the line `netkit sntp` prints.

use sntp_proto::{Action, Exchange, ExchangeConfig, NtpTimestamp, ReportLine};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn wall() -> (NtpTimestamp, u64) {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        NtpTimestamp::from_unix(t.as_secs(), t.subsec_nanos()),
        t.as_secs(),
    )
}

/// A nonce for the transmit timestamp: not cryptographic, not predictable to a peer
/// that does not see the request (the clock's nanoseconds mixed with the pid).
fn nonce() -> NtpTimestamp {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut x = t.as_nanos() as u64 ^ (u64::from(std::process::id()) << 32);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    NtpTimestamp(x)
}

fn main() {
    let Some(addr) = std::env::args()
        .nth(1)
        .and_then(|a| a.parse::<SocketAddr>().ok())
    else {
        eprintln!("usage: sntp-native IP:PORT");
        std::process::exit(2);
    };
    let bind: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let socket = UdpSocket::bind(bind).and_then(|s| s.connect(addr).map(|()| s));
    let socket = socket.unwrap_or_else(|e| {
        eprintln!("sntp-native: {addr}: {e}");
        std::process::exit(1);
    });
    let origin = Instant::now();
    let mono = || origin.elapsed().as_nanos() as u64;
    let mut exchange = Exchange::new(ExchangeConfig {
        timeout_ns: 5_000_000_000,
        tries: 1,
        samples: 1,
        burst: false,
    })
    .expect("a valid configuration");
    let mut buf = [0u8; 1024];
    loop {
        match exchange.next(mono()) {
            Action::Send => {
                let request = exchange.request(nonce(), wall().0, mono());
                if let Err(e) = socket.send(&request) {
                    eprintln!("sntp-native: send to {addr}: {e}");
                    std::process::exit(1);
                }
            }
            Action::WaitUntil(deadline) => {
                let wait = deadline.saturating_sub(mono()).max(1);
                let _ = socket.set_read_timeout(Some(Duration::from_nanos(wait)));
                if let Ok(n) = socket.recv(&mut buf) {
                    let (t4, secs) = wall();
                    exchange.receive(&buf[..n], true, t4, secs, mono());
                }
            }
            Action::Done(Ok(o)) => {
                let s = &o.best;
                let server = addr.to_string();
                let line = ReportLine {
                    server: &server,
                    stratum: s.packet.stratum,
                    leap: s.packet.leap,
                    transmit: s.server_time,
                    offset_ns: s.offset_ns,
                    delay_ns: s.delay_ns,
                    root_delay_ns: s.packet.root_delay.as_nanos(),
                    root_dispersion_ns: s.packet.root_dispersion.as_nanos(),
                };
                println!("{}", line.text());
                return;
            }
            Action::Done(Err(e)) => {
                eprintln!("sntp-native: {}", e.message(&addr.to_string()));
                std::process::exit(1);
            }
        }
    }
}
