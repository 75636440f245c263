//! The TCP echo server as one readiness loop over `wasi:io/poll`.
//!
//! Every round polls the listener, stdin (for a clean stop), one idle timer and,
//! per client, its input (nothing to send back) or its output (echo waiting to
//! go out), then serves whatever is ready. Each round costs one `poll` call
//! whatever the number of clients; a client that stops reading only stops its
//! own echo (its input is not polled while its output is blocked).

use crate::errors::to_echo_error;
use crate::netkit::diag::echo_types::{EchoError, ServerConfig, ServerSummary};
use netio::wasip2::clocks::monotonic_clock;
use netio::wasip2::io::poll::{Pollable, poll};
use netio::wasip2::io::streams::{InputStream, OutputStream, StreamError};
use netio::wasip2::sockets::instance_network::instance_network;
use netio::wasip2::sockets::network::ErrorCode;
use netio::wasip2::sockets::tcp::{ShutdownType, TcpSocket};
use netio::wasip2::sockets::tcp_create_socket::create_tcp_socket;
use netio::{NetError, Op, family, from_wasi, to_wasi};
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
    // Field order matters: pollables drop before their streams, streams before the socket.
    input_ready: Pollable,
    output_ready: Pollable,
    input: InputStream,
    output: OutputStream,
    socket: TcpSocket,
    peer: SocketAddr,
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
    /// Move bytes: flush `pending`, then read and echo, a few chunks at most.
    fn serve(&mut self, now: u64) -> Progress {
        for _ in 0..CHUNKS_PER_ROUND {
            if !self.pending.is_empty() {
                match self.output.check_write() {
                    Ok(0) => return Progress::Open,
                    Ok(permit) => {
                        let n = (permit as usize).min(self.pending.len());
                        if let Err(e) = self.output.write(&self.pending[..n]) {
                            return Progress::Closed(stream_error(e));
                        }
                        self.pending.drain(..n);
                        self.echoed += n as u64;
                        self.last_active = now;
                        if !self.pending.is_empty() {
                            return Progress::Open;
                        }
                    }
                    Err(e) => return Progress::Closed(stream_error(e)),
                }
            }
            if self.closing {
                // Wait until the last write has left before closing.
                return match self.output.check_write() {
                    Ok(0) => Progress::Open,
                    _ => Progress::Closed("closed by peer".into()),
                };
            }
            match self.input.read(CHUNK) {
                Ok(data) if data.is_empty() => return Progress::Open,
                Ok(data) => {
                    self.pending = data;
                    self.last_active = now;
                }
                Err(StreamError::Closed) => self.closing = true,
                Err(e) => return Progress::Closed(stream_error(e)),
            }
        }
        Progress::Open
    }

    /// The pollable that says when this client can make progress.
    fn waiting_on(&self) -> &Pollable {
        if self.pending.is_empty() && !self.closing {
            &self.input_ready
        } else {
            &self.output_ready
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(ShutdownType::Both);
    }
}

fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "connection closed".into(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
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

/// Bind, listen, and echo until `stop-after` or stdin EOF.
pub fn serve(addr: SocketAddr, config: &ServerConfig) -> Result<ServerSummary, EchoError> {
    let (listener, local) = listen(addr).map_err(to_echo_error)?;
    eprintln!("echo-server: listening on tcp {local}");
    let listener_ready = listener.subscribe();
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
        let timer = (idle_ns > 0 && !clients.is_empty()).then(|| {
            let oldest = clients.values().map(|c| c.last_active).min().unwrap_or(now);
            monotonic_clock::subscribe_instant(oldest.saturating_add(idle_ns))
        });
        let mut slots = Vec::with_capacity(clients.len() + 3);
        let mut list: Vec<&Pollable> = Vec::with_capacity(clients.len() + 3);
        if accepting {
            slots.push(Slot::Listener);
            list.push(&listener_ready);
        }
        if let Some(signal) = &stop_signal {
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
                    while let Some(accepted) = accept(&listener, local) {
                        let client = match accepted {
                            Ok(c) => c,
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
                                    client.peer, config.max_connections
                                );
                            }
                            continue;
                        }
                        if log {
                            eprintln!("echo-server: open {}", client.peer);
                        }
                        connections += 1;
                        let mut client = client;
                        client.last_active = now;
                        clients.insert(next_id, client);
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
                                    c.peer, c.echoed
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
                                c.peer, c.echoed
                            );
                        }
                    }
                }
            }
        }
        if stop {
            break;
        }
    }
    // Stopped by stdin EOF: count what the clients still open have echoed.
    bytes += clients.values().map(|c| c.echoed).sum::<u64>();
    drop(clients);
    Ok(ServerSummary {
        local_address: local.to_string(),
        connections,
        rejected,
        bytes,
    })
}

/// Bind and listen on `addr`, blocking until done; returns the socket and its real address.
fn listen(addr: SocketAddr) -> Result<(TcpSocket, SocketAddr), NetError> {
    let socket = create_tcp_socket(family(addr)).map_err(|c| NetError::code(Op::Bind, addr, c))?;
    let ready = socket.subscribe();
    socket
        .start_bind(&instance_network(), to_wasi(addr))
        .map_err(|c| NetError::code(Op::Bind, addr, c))?;
    loop {
        match socket.finish_bind() {
            Ok(()) => break,
            Err(ErrorCode::WouldBlock) => ready.block(),
            Err(c) => return Err(NetError::code(Op::Bind, addr, c)),
        }
    }
    let local = socket.local_address().map(from_wasi).unwrap_or(addr);
    // Best effort: a host may refuse to change the backlog; its default then applies.
    let _ = socket.set_listen_backlog_size(BACKLOG);
    socket
        .start_listen()
        .map_err(|c| NetError::code(Op::Listen, local, c))?;
    loop {
        match socket.finish_listen() {
            Ok(()) => break,
            Err(ErrorCode::WouldBlock) => ready.block(),
            Err(c) => return Err(NetError::code(Op::Listen, local, c)),
        }
    }
    drop(ready);
    Ok((socket, local))
}

/// The next pending client, `None` when there is none right now.
fn accept(listener: &TcpSocket, local: SocketAddr) -> Option<Result<Client, NetError>> {
    match listener.accept() {
        Ok((socket, input, output)) => {
            let peer = socket.remote_address().map(from_wasi).unwrap_or(local);
            Some(Ok(Client {
                input_ready: input.subscribe(),
                output_ready: output.subscribe(),
                input,
                output,
                socket,
                peer,
                pending: Vec::new(),
                closing: false,
                echoed: 0,
                last_active: 0,
            }))
        }
        Err(ErrorCode::WouldBlock) => None,
        Err(c) => Some(Err(NetError::code(Op::Accept, local, c))),
    }
}
