//! Serving: TCP (one task per connection) and UDP (one loop), both counting what they echo.

use crate::errors::to_echo_error;
use crate::netkit::diag::echo_types::{EchoError, ServerConfig, ServerSummary, Transport};
use futures_lite::future;
use netio::{Conn, Listener, UdpServer};
use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use wstd::future::FutureExt;
use wstd::io::AsyncRead;
use wstd::runtime::{Task, spawn};
use wstd::time::Duration;

/// Bytes read per call when echoing; large enough for bulk transfers.
const CHUNK: usize = 64 * 1024;
/// Listen backlog (the original used 5; many concurrent clients need more).
const BACKLOG: u64 = 1024;

/// Counters shared by the accept loop and every connection task.
#[derive(Default)]
struct Counters {
    active: Cell<u32>,
    connections: Cell<u64>,
    rejected: Cell<u64>,
    bytes: Cell<u64>,
}

/// Serve according to `config` until it says to stop.
pub async fn serve(config: ServerConfig) -> Result<ServerSummary, EchoError> {
    let ip: IpAddr = config.host.parse().map_err(|_| {
        EchoError::InvalidRequest(format!(
            "host {:?} is not an IP address (use e.g. 127.0.0.1 or ::1)",
            config.host
        ))
    })?;
    let addr = SocketAddr::new(ip, config.port);
    match config.transport {
        Transport::Tcp => serve_tcp(addr, &config).await,
        Transport::Udp => serve_udp(addr, &config).await,
    }
}

async fn serve_tcp(addr: SocketAddr, config: &ServerConfig) -> Result<ServerSummary, EchoError> {
    let listener = Listener::bind(addr, BACKLOG).await.map_err(to_echo_error)?;
    let local = listener.local_addr();
    eprintln!("echo-server: listening on tcp {local}");
    let counters = Rc::new(Counters::default());
    let idle = (config.idle_timeout_ms > 0).then(|| Duration::from_millis(config.idle_timeout_ms));
    let stop = Rc::new(stop_signal(config.stop_on_stdin_eof));
    let mut tasks: Vec<Task<()>> = Vec::new();
    loop {
        if config
            .stop_after
            .is_some_and(|n| counters.connections.get() >= n)
        {
            break;
        }
        let accepted = future::or(async { Some(listener.accept().await) }, async {
            stop.wait().await;
            None
        })
        .await;
        let conn = match accepted {
            None => break,
            Some(Ok(conn)) => conn,
            Some(Err(e)) => {
                // A client that vanished (or was refused by the host's policy) is not fatal.
                eprintln!("echo-server: {e}");
                continue;
            }
        };
        if counters.active.get() >= config.max_connections {
            counters.rejected.set(counters.rejected.get() + 1);
            if config.log_connections {
                eprintln!(
                    "echo-server: reject {} (max {} connections busy)",
                    conn.peer(),
                    config.max_connections
                );
            }
            continue;
        }
        counters.active.set(counters.active.get() + 1);
        counters.connections.set(counters.connections.get() + 1);
        tasks.retain(|t| !t.is_finished());
        let (c, log) = (counters.clone(), config.log_connections);
        tasks.push(spawn(async move {
            echo_connection(conn, &c, idle, log).await;
            c.active.set(c.active.get() - 1);
        }));
    }
    if !stop.is_stopped() {
        // Stopped by `stop-after`: let the clients already accepted finish.
        for task in tasks {
            task.await;
        }
    }
    Ok(summary(local, &counters))
}

/// Echo one connection until the peer closes, errs, or stays idle too long.
async fn echo_connection(conn: Conn, counters: &Counters, idle: Option<Duration>, log: bool) {
    let peer = conn.peer();
    if log {
        eprintln!("echo-server: open {peer}");
    }
    let mut buf = vec![0u8; CHUNK];
    let mut echoed = 0u64;
    let outcome = loop {
        let read = match idle {
            Some(d) => match conn.read(&mut buf).timeout(d).await {
                Ok(r) => r,
                Err(_) => break "idle timeout".to_string(),
            },
            None => conn.read(&mut buf).await,
        };
        let n = match read {
            Ok(0) => break "closed by peer".to_string(),
            Ok(n) => n,
            Err(e) => break e.to_string(),
        };
        if let Err(e) = conn.write_all(&buf[..n]).await {
            break e.to_string();
        }
        echoed += n as u64;
        counters.bytes.set(counters.bytes.get() + n as u64);
    };
    if conn.flush().await.is_ok() {
        conn.shutdown_send();
    }
    if log {
        eprintln!("echo-server: close {peer}: {echoed} bytes echoed ({outcome})");
    }
}

async fn serve_udp(addr: SocketAddr, config: &ServerConfig) -> Result<ServerSummary, EchoError> {
    let socket = UdpServer::bind(addr).await.map_err(to_echo_error)?;
    let local = socket.local_addr();
    eprintln!("echo-server: listening on udp {local}");
    let counters = Counters::default();
    let stop = stop_signal(config.stop_on_stdin_eof);
    'serve: loop {
        let batch = future::or(async { Some(socket.receive().await) }, async {
            stop.wait().await;
            None
        })
        .await;
        let datagrams = match batch {
            None => break,
            Some(Ok(d)) => d,
            Some(Err(e)) => return Err(to_echo_error(e)),
        };
        for (data, from) in datagrams {
            let n = data.len() as u64;
            if let Err(e) = socket.send_to(data, from).await {
                eprintln!("echo-server: {e}");
                continue;
            }
            counters.connections.set(counters.connections.get() + 1);
            counters.bytes.set(counters.bytes.get() + n);
            if config.log_connections {
                eprintln!("echo-server: datagram {from}: {n} bytes echoed");
            }
            if config
                .stop_after
                .is_some_and(|max| counters.connections.get() >= max)
            {
                break 'serve;
            }
        }
    }
    Ok(summary(local, &counters))
}

fn summary(local: SocketAddr, c: &Counters) -> ServerSummary {
    ServerSummary {
        local_address: local.to_string(),
        connections: c.connections.get(),
        rejected: c.rejected.get(),
        bytes: c.bytes.get(),
    }
}

/// Resolves once standard input reaches end-of-file, if `enabled`; never otherwise.
struct StopSignal {
    enabled: bool,
    stopped: Cell<bool>,
}

fn stop_signal(enabled: bool) -> StopSignal {
    StopSignal {
        enabled,
        stopped: Cell::new(false),
    }
}

impl StopSignal {
    async fn wait(&self) {
        if !self.enabled {
            return future::pending().await;
        }
        let mut stdin = wstd::io::stdin();
        let mut sink = [0u8; 256];
        while let Ok(n) = stdin.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
        self.stopped.set(true);
    }

    fn is_stopped(&self) -> bool {
        self.stopped.get()
    }
}
