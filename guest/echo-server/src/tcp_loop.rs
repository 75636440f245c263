//! The TCP echo server as one readiness loop over `wasi:io/poll`.
//!
//! Every round polls the listener, stdin (for a clean stop), one idle timer and,
//! per client, its input (nothing to send back) or its output (echo waiting to
//! go out), then serves whatever is ready. Each round costs one `poll` call
//! whatever the number of clients; a client that stops reading only stops its
//! own echo (its input is not polled while its output is blocked).

use echo_types::{EchoError, ServerConfig, ServerSummary};
use netio::wasip2::clocks::monotonic_clock;
use netio::wasip2::io::poll::{Pollable, poll};
use netio::{Read, TcpListener, TcpStream};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Bytes read from a client per call.
const CHUNK: u64 = 64 * 1024;
/// Chunks served per client per round, so one fast client cannot starve the rest.
const CHUNKS_PER_ROUND: usize = 4;
/// Listen backlog (the original used 5; bursts of clients need more).
const BACKLOG: u64 = 1024;

/// One connected client.
struct Client {
    stream: TcpStream,
    /// Echo bytes not yet accepted by the output stream.
    pending: Vec<u8>,
    /// The client closed its sending side; close once `pending` is out.
    closing: bool,
    echoed: u64,
    last_active: u64,
}

enum Progress {
    Open,
    Closed(String),
}

impl Client {
    fn new(stream: TcpStream, now: u64) -> Self {
        Self {
            stream,
            pending: Vec::new(),
            closing: false,
            echoed: 0,
            last_active: now,
        }
    }

    /// Move bytes: flush `pending`, then read and echo, a few chunks at most.
    fn serve(&mut self, now: u64) -> Progress {
        for _ in 0..CHUNKS_PER_ROUND {
            if !self.pending.is_empty() {
                match self.stream.try_write(&self.pending) {
                    Ok(0) => return Progress::Open,
                    Ok(n) => {
                        self.pending.drain(..n);
                        self.echoed += n as u64;
                        self.last_active = now;
                        if !self.pending.is_empty() {
                            return Progress::Open;
                        }
                    }
                    Err(e) => return Progress::Closed(e.to_string()),
                }
            }
            if self.closing {
                // Wait until the last write has left before closing.
                return match self.stream.try_drained() {
                    Ok(false) => Progress::Open,
                    _ => Progress::Closed("closed by peer".into()),
                };
            }
            match self.stream.try_read(CHUNK) {
                Ok(Read::Empty) => return Progress::Open,
                Ok(Read::Data(data)) => {
                    self.pending = data;
                    self.last_active = now;
                }
                Ok(Read::Closed) => self.closing = true,
                Err(e) => return Progress::Closed(e.to_string()),
            }
        }
        Progress::Open
    }

    /// The pollable that says when this client can make progress.
    fn waiting_on(&self) -> &Pollable {
        if self.pending.is_empty() && !self.closing {
            self.stream.input_pollable()
        } else {
            self.stream.output_pollable()
        }
    }
}

/// What each entry of one round's poll list stands for.
#[derive(Clone, Copy)]
enum Slot {
    Listener,
    Stdin,
    Timer,
    Client(u64),
}

/// Bind, listen, and echo until `stop-after`, or until stdin EOF and then the
/// drain: no more clients are accepted (the listener closes) and open ones are
/// served until they close or `drain-timeout-ms` passes.
pub fn serve(addr: SocketAddr, config: &ServerConfig) -> Result<ServerSummary, EchoError> {
    let listener = TcpListener::bind(addr, BACKLOG).map_err(echo_types::from_net)?;
    let local = listener.local_addr();
    let mut listener = Some(listener);
    let drain_ns = config.drain_timeout_ms.saturating_mul(1_000_000);
    let mut drain_until: Option<u64> = None;
    eprintln!("echo-server: listening on tcp {local}");
    let stop_signal = netio::StopOnEof::new(config.stop_on_stdin_eof);
    let idle_ns = config.idle_timeout_ms.saturating_mul(1_000_000);
    let log = config.log_connections;

    let mut clients: HashMap<u64, Client> = HashMap::new();
    let mut next_id = 0u64;
    let (mut connections, mut rejected, mut bytes) = (0u64, 0u64, 0u64);
    let mut accepting = true;

    loop {
        if config.stop_after.is_some_and(|n| connections >= n) {
            accepting = false;
        }
        if !accepting && clients.is_empty() {
            break;
        }
        let now = monotonic_clock::now();
        if drain_until.is_some_and(|t| now >= t) {
            if log || !clients.is_empty() {
                eprintln!(
                    "echo-server: drain timeout: closing {} connections still open",
                    clients.len()
                );
            }
            break;
        }
        let idle_at = (idle_ns > 0 && !clients.is_empty()).then(|| {
            let oldest = clients.values().map(|c| c.last_active).min().unwrap_or(now);
            oldest.saturating_add(idle_ns)
        });
        let wake = match (idle_at, drain_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let timer = wake.map(monotonic_clock::subscribe_instant);
        let mut slots = Vec::with_capacity(clients.len() + 3);
        let mut list: Vec<&Pollable> = Vec::with_capacity(clients.len() + 3);
        if let Some(l) = listener.as_ref().filter(|_| accepting) {
            slots.push(Slot::Listener);
            list.push(l.pollable());
        }
        if let Some(signal) = stop_signal.as_ref().filter(|_| drain_until.is_none()) {
            slots.push(Slot::Stdin);
            list.push(signal.pollable());
        }
        if let Some(t) = &timer {
            slots.push(Slot::Timer);
            list.push(t);
        }
        for (id, c) in &clients {
            slots.push(Slot::Client(*id));
            list.push(c.waiting_on());
        }
        let ready = poll(&list);
        drop(list);
        let now = monotonic_clock::now();
        let mut stop = false;
        for index in ready {
            match slots[index as usize] {
                Slot::Listener => {
                    while let Some(accepted) = listener.as_ref().and_then(TcpListener::try_accept) {
                        let stream = match accepted {
                            Ok(s) => s,
                            Err(e) => {
                                eprintln!("echo-server: {e}");
                                continue;
                            }
                        };
                        if clients.len() >= config.max_connections as usize {
                            rejected += 1;
                            if log {
                                eprintln!(
                                    "echo-server: reject {} (max {} connections busy)",
                                    stream.peer(),
                                    config.max_connections
                                );
                            }
                            continue;
                        }
                        if log {
                            eprintln!("echo-server: open {}", stream.peer());
                        }
                        connections += 1;
                        clients.insert(next_id, Client::new(stream, now));
                        next_id += 1;
                        if config.stop_after.is_some_and(|n| connections >= n) {
                            break;
                        }
                    }
                }
                Slot::Stdin => {
                    stop = stop_signal.as_ref().is_some_and(netio::StopOnEof::reached);
                }
                Slot::Timer => {
                    let idle: Vec<u64> = clients
                        .iter()
                        .filter(|(_, c)| now.saturating_sub(c.last_active) >= idle_ns)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in idle {
                        if let Some(c) = clients.remove(&id) {
                            bytes += c.echoed;
                            if log {
                                eprintln!(
                                    "echo-server: close {}: {} bytes echoed (idle timeout)",
                                    c.stream.peer(),
                                    c.echoed
                                );
                            }
                        }
                    }
                }
                Slot::Client(id) => {
                    let Some(c) = clients.get_mut(&id) else {
                        continue;
                    };
                    if let Progress::Closed(why) = c.serve(now) {
                        let c = clients.remove(&id).expect("present");
                        bytes += c.echoed;
                        if log {
                            eprintln!(
                                "echo-server: close {}: {} bytes echoed ({why})",
                                c.stream.peer(),
                                c.echoed
                            );
                        }
                    }
                }
            }
        }
        if stop {
            // Stop accepting: closing the listener turns new clients away at once.
            accepting = false;
            listener = None;
            if clients.is_empty() || drain_ns == 0 {
                break;
            }
            if log {
                eprintln!(
                    "echo-server: stopping: serving {} open connections for up to {} ms",
                    clients.len(),
                    config.drain_timeout_ms
                );
            }
            drain_until = Some(now.saturating_add(drain_ns));
        }
    }
    // Count what the clients still open (cut by the drain timeout) have echoed.
    bytes += clients.values().map(|c| c.echoed).sum::<u64>();
    drop(clients);
    Ok(ServerSummary {
        local_address: local.to_string(),
        connections,
        rejected,
        bytes,
    })
}
