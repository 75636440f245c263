//! Serving: dispatch to the TCP readiness loop, and the UDP echo loop.

use echo_types::{EchoError, ServerConfig, ServerSummary, Transport};
use netio::wasip2::clocks::monotonic_clock;
use netio::{Datagram, Received, UdpSocket};
use std::net::{IpAddr, SocketAddr};

/// Serve according to `config` until it says to stop.
pub fn serve(config: ServerConfig) -> Result<ServerSummary, EchoError> {
    let ip: IpAddr = config.host.parse().map_err(|_| {
        EchoError::InvalidRequest(format!(
            "host {:?} is not an IP address (use e.g. 127.0.0.1 or ::1)",
            config.host
        ))
    })?;
    let addr = SocketAddr::new(ip, config.port);
    match config.transport {
        Transport::Tcp => crate::tcp_loop::serve(addr, &config),
        Transport::Udp => serve_udp(addr, &config),
    }
}

/// Echo datagrams back to their senders (RFC 862).
fn serve_udp(addr: SocketAddr, config: &ServerConfig) -> Result<ServerSummary, EchoError> {
    let socket = UdpSocket::bind(addr).map_err(echo_types::from_net)?;
    let local = socket.local_addr();
    eprintln!("echo-server: listening on udp {local}");
    let stop = netio::StopOnEof::new(config.stop_on_stdin_eof);
    let (mut datagrams_echoed, mut bytes, mut dropped) = (0u64, 0u64, 0u64);
    let mut bucket = TokenBucket::new(config.max_datagram_rate);
    'serve: loop {
        let datagrams = match socket
            .receive(None, stop.as_ref().map(netio::StopOnEof::pollable))
            .map_err(echo_types::from_net)?
        {
            Received::Datagrams(d) => d,
            Received::Deadline => continue,
            Received::Extra if stop.as_ref().is_some_and(netio::StopOnEof::reached) => break,
            Received::Extra => continue,
        };
        for Datagram { data, from } in datagrams {
            if !bucket.take(monotonic_clock::now()) {
                dropped += 1;
                continue;
            }
            let n = data.len() as u64;
            if let Err(e) = socket.send_to(data, from) {
                eprintln!("echo-server: {e}");
                continue;
            }
            datagrams_echoed += 1;
            bytes += n;
            if config.log_connections {
                eprintln!("echo-server: datagram {from}: {n} bytes echoed");
            }
            if config.stop_after.is_some_and(|max| datagrams_echoed >= max) {
                break 'serve;
            }
        }
    }
    Ok(ServerSummary {
        local_address: local.to_string(),
        connections: datagrams_echoed,
        rejected: dropped,
        bytes,
    })
}

/// At most `rate` datagrams per second, bursts up to `rate` (0: no limit).
struct TokenBucket {
    rate: u64,
    tokens: u64,
    /// When the bucket was last refilled (monotonic ns).
    at: u64,
}

impl TokenBucket {
    fn new(rate: u32) -> Self {
        Self {
            rate: u64::from(rate),
            tokens: u64::from(rate),
            at: 0,
        }
    }

    /// Whether one more datagram may go out at `now`.
    fn take(&mut self, now: u64) -> bool {
        if self.rate == 0 {
            return true;
        }
        let refill = now.saturating_sub(self.at).saturating_mul(self.rate) / 1_000_000_000;
        if refill > 0 {
            self.tokens = (self.tokens + refill).min(self.rate);
            self.at = now;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}
