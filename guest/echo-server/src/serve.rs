//! Serving: dispatch to the TCP readiness loop, and the UDP echo loop.

use crate::errors::to_echo_error;
use crate::netkit::diag::echo_types::{EchoError, ServerConfig, ServerSummary, Transport};
use futures_lite::future;
use netio::UdpServer;
use std::net::{IpAddr, SocketAddr};
use wstd::io::AsyncRead;

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
        Transport::Udp => wstd::runtime::block_on(serve_udp(addr, &config)),
    }
}

/// Echo datagrams back to their senders (RFC 862).
async fn serve_udp(addr: SocketAddr, config: &ServerConfig) -> Result<ServerSummary, EchoError> {
    let socket = UdpServer::bind(addr).await.map_err(to_echo_error)?;
    let local = socket.local_addr();
    eprintln!("echo-server: listening on udp {local}");
    let (mut datagrams_echoed, mut bytes) = (0u64, 0u64);
    'serve: loop {
        let batch = future::or(async { Some(socket.receive().await) }, async {
            wait_for_stdin_eof(config.stop_on_stdin_eof).await;
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
        rejected: 0,
        bytes,
    })
}

/// Resolves once standard input reaches end-of-file, if `enabled`; never otherwise.
async fn wait_for_stdin_eof(enabled: bool) {
    if !enabled {
        return future::pending().await;
    }
    let mut stdin = wstd::io::stdin();
    let mut sink = [0u8; 256];
    while let Ok(n) = stdin.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}
