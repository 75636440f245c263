//! Exchanges: connect, send the payload while reading it back, verify, close.

use echo_proto::{EchoCheck, PayloadStream, RttStats, Verifier};
use echo_types::{ClientReport, ClientRequest, EchoError, Mismatch, Payload, Transport};
use futures_lite::future;
use netio::{TcpStream, UdpStream};
use std::cell::{Cell, RefCell};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use wstd::future::FutureExt;
use wstd::time::{Duration, Instant};

/// Bytes read per call.
const CHUNK: usize = 64 * 1024;
/// The largest UDP payload over IPv4 (65535 − 8 − 20).
const MAX_DATAGRAM: u64 = 65_507;

/// Run every exchange in `req`, `req.concurrency` at a time.
pub async fn run(req: ClientRequest) -> Result<ClientReport, EchoError> {
    let ip: IpAddr = req.host.parse().map_err(|_| {
        EchoError::InvalidRequest(format!(
            "host {:?} is not an IP address (use e.g. 127.0.0.1 or ::1)",
            req.host
        ))
    })?;
    if req.count == 0 || req.concurrency == 0 {
        return Err(EchoError::InvalidRequest(
            "count and concurrency must be at least 1".into(),
        ));
    }
    let payload_len = match &req.payload {
        Payload::Message(m) => m.len() as u64,
        Payload::Generated(n) => *n,
    };
    let addr = SocketAddr::new(ip, req.port);
    if req.transport == Transport::Udp && payload_len > MAX_DATAGRAM {
        return Err(EchoError::InvalidRequest(format!(
            "a UDP echo payload is at most {MAX_DATAGRAM} bytes, not {payload_len}"
        )));
    }
    let timeout = Duration::from_millis(req.timeout_ms.max(1));
    let next = Rc::new(Cell::new(0u32));
    let rtts = Rc::new(RefCell::new(Vec::with_capacity(req.count as usize)));
    let started = Instant::now();
    let workers: Vec<_> = (0..req.concurrency.min(req.count))
        .map(|_| {
            let (next, rtts, payload, count, transport) = (
                next.clone(),
                rtts.clone(),
                req.payload.clone(),
                req.count,
                req.transport,
            );
            wstd::runtime::spawn(async move {
                loop {
                    let i = next.get();
                    if i >= count {
                        return Ok(());
                    }
                    next.set(i + 1);
                    let stream = match &payload {
                        Payload::Message(m) => PayloadStream::message(m.as_bytes()),
                        Payload::Generated(n) => PayloadStream::generated(i.into(), *n),
                    };
                    let rtt = match transport {
                        Transport::Tcp => exchange(addr, stream, timeout).await?,
                        Transport::Udp => {
                            // At most one datagram's worth: small enough to hold whole.
                            let mut bytes = vec![0; stream.len() as usize];
                            stream.clone().read(&mut bytes);
                            datagram(addr, &bytes, timeout)?
                        }
                    };
                    rtts.borrow_mut().push(rtt);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    let elapsed_ns = started.elapsed().as_nanos() as u64;
    let samples = std::mem::take(&mut *rtts.borrow_mut());
    let exchanges = samples.len() as u32;
    let stats = RttStats::from_samples(samples);
    Ok(ClientReport {
        server: addr.to_string(),
        exchanges,
        payload_bytes: payload_len,
        total_bytes: payload_len * u64::from(exchanges),
        rtt_min_ns: stats.min_ns,
        rtt_median_ns: stats.median_ns,
        rtt_p99_ns: stats.p99_ns,
        rtt_max_ns: stats.max_ns,
        elapsed_ns,
    })
}

/// One exchange; returns the round-trip time in nanoseconds. The payload is
/// generated and verified as a stream, so any size runs in constant memory.
async fn exchange(
    addr: SocketAddr,
    payload: PayloadStream,
    timeout: Duration,
) -> Result<u64, EchoError> {
    let timed_out = |what: &str| {
        EchoError::Timeout(format!(
            "{what} {addr}: no progress for {} ms",
            timeout.as_millis()
        ))
    };
    let conn = TcpStream::connect(addr)
        .timeout(timeout)
        .await
        .map_err(|_| timed_out("connect to"))?
        .map_err(echo_types::from_net)?;
    let start = Instant::now();
    let expected = payload.len();
    let send = async {
        let mut source = payload.clone();
        let mut chunk = vec![0u8; CHUNK.min(expected.max(1) as usize)];
        loop {
            let n = source.read(&mut chunk);
            if n == 0 {
                break;
            }
            conn.write_all(&chunk[..n])
                .timeout(timeout)
                .await
                .map_err(|_| timed_out("send to"))?
                .map_err(echo_types::from_net)?;
        }
        conn.flush().await.map_err(echo_types::from_net)
    };
    let receive = async {
        let mut verifier = Verifier::new(payload.clone());
        let mut buf = vec![0u8; CHUNK.min(expected.max(1) as usize)];
        let mismatch = |at| Mismatch {
            server: addr.to_string(),
            expected,
            at,
        };
        while !verifier.is_complete() {
            let n = conn
                .read(&mut buf)
                .timeout(timeout)
                .await
                .map_err(|_| timed_out("receive from"))?
                .map_err(echo_types::from_net)?;
            if n == 0 {
                return Err(EchoError::ShortEcho(mismatch(verifier.received())));
            }
            if let EchoCheck::Wrong { at } = verifier.feed(&buf[..n]) {
                return Err(EchoError::WrongEcho(mismatch(at)));
            }
        }
        Ok(())
    };
    future::try_zip(send, receive).await?;
    Ok(start.elapsed().as_nanos() as u64)
}

/// One UDP exchange: send the payload as one datagram, wait for its echo, verify.
/// A datagram that is not our echo (a late one from an earlier exchange) is skipped.
fn datagram(addr: SocketAddr, payload: &[u8], timeout: Duration) -> Result<u64, EchoError> {
    let socket = UdpStream::connect(addr).map_err(echo_types::from_net)?;
    let start = Instant::now();
    let now_ns = netio::wasip2::clocks::monotonic_clock::now;
    let deadline = now_ns().saturating_add(timeout.as_nanos() as u64);
    socket
        .send(payload.to_vec())
        .map_err(echo_types::from_net)?;
    loop {
        let Some(d) = socket.receive(deadline).map_err(echo_types::from_net)? else {
            return Err(EchoError::Timeout(format!(
                "no echo from {addr} within {} ms",
                timeout.as_millis()
            )));
        };
        if d.data == payload {
            return Ok(start.elapsed().as_nanos() as u64);
        }
        if d.data.len() == payload.len() {
            let at = d.data.iter().zip(payload).position(|(a, b)| a != b);
            return Err(EchoError::WrongEcho(Mismatch {
                server: addr.to_string(),
                expected: payload.len() as u64,
                at: at.unwrap_or(0) as u64,
            }));
        }
    }
}
