//! TCP connections and listeners over `wasi:sockets/tcp`, IPv4 and IPv6.

use crate::{NetError, Op, family, from_wasi, to_wasi};
use std::net::SocketAddr;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::tcp::{ShutdownType, TcpSocket};
use wasip2::sockets::tcp_create_socket::create_tcp_socket;
use wstd::io::{AsyncInputStream, AsyncOutputStream, AsyncPollable};

/// An open TCP connection.
pub struct Conn {
    // Field order matters: the streams are children of the socket and drop first.
    input: AsyncInputStream,
    output: AsyncOutputStream,
    socket: TcpSocket,
    peer: SocketAddr,
}

impl Conn {
    /// Connect to `addr` (IPv4 or IPv6).
    pub async fn connect(addr: SocketAddr) -> Result<Conn, NetError> {
        let err = |code| NetError::code(Op::Connect, addr, code);
        let socket = create_tcp_socket(family(addr)).map_err(err)?;
        socket
            .start_connect(&instance_network(), to_wasi(addr))
            .map_err(err)?;
        let pollable = AsyncPollable::new(socket.subscribe());
        let (input, output) = loop {
            match socket.finish_connect() {
                Ok(streams) => break streams,
                Err(wasip2::sockets::network::ErrorCode::WouldBlock) => pollable.wait_for().await,
                Err(code) => return Err(err(code)),
            }
        };
        drop(pollable);
        Ok(Conn::new(socket, input, output, addr))
    }

    fn new(
        socket: TcpSocket,
        input: wasip2::io::streams::InputStream,
        output: wasip2::io::streams::OutputStream,
        peer: SocketAddr,
    ) -> Conn {
        Conn {
            input: AsyncInputStream::new(input),
            output: AsyncOutputStream::new(output),
            socket,
            peer,
        }
    }

    /// The remote address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Read into `buf`; `Ok(0)` means the peer closed its sending side.
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        self.input
            .read(buf)
            .await
            .map_err(|e| NetError::stream(Op::Receive, self.peer, e))
    }

    /// Write all of `buf`.
    pub async fn write_all(&self, buf: &[u8]) -> Result<(), NetError> {
        self.output
            .write_all(buf)
            .await
            .map_err(|e| NetError::stream(Op::Send, self.peer, e))
    }

    /// Flush what was written and wait until it has left.
    pub async fn flush(&self) -> Result<(), NetError> {
        self.output
            .flush()
            .await
            .map_err(|e| NetError::stream(Op::Send, self.peer, e))
    }

    /// Half-close: tell the peer we will send nothing more (TCP FIN).
    pub fn shutdown_send(&self) {
        // Ignored on purpose: a peer that already went away makes this fail, and reads report that.
        let _ = self.socket.shutdown(ShutdownType::Send);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(ShutdownType::Both);
    }
}

/// A listening TCP socket.
pub struct Listener {
    // Field order matters: the pollable is a child of the socket and drops first.
    pollable: AsyncPollable,
    socket: TcpSocket,
    local: SocketAddr,
}

impl Listener {
    /// Bind `addr` and listen with the given backlog.
    pub async fn bind(addr: SocketAddr, backlog: u64) -> Result<Listener, NetError> {
        let socket =
            create_tcp_socket(family(addr)).map_err(|c| NetError::code(Op::Bind, addr, c))?;
        let pollable = AsyncPollable::new(socket.subscribe());
        socket
            .start_bind(&instance_network(), to_wasi(addr))
            .map_err(|c| NetError::code(Op::Bind, addr, c))?;
        pollable.wait_for().await;
        socket
            .finish_bind()
            .map_err(|c| NetError::code(Op::Bind, addr, c))?;
        let local = socket.local_address().map(from_wasi).unwrap_or(addr);
        // Best effort: some hosts refuse to change the backlog, the default is fine then.
        let _ = socket.set_listen_backlog_size(backlog);
        socket
            .start_listen()
            .map_err(|c| NetError::code(Op::Listen, local, c))?;
        pollable.wait_for().await;
        socket
            .finish_listen()
            .map_err(|c| NetError::code(Op::Listen, local, c))?;
        Ok(Listener {
            pollable,
            socket,
            local,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Wait for the next client.
    pub async fn accept(&self) -> Result<Conn, NetError> {
        loop {
            self.pollable.wait_for().await;
            match self.socket.accept() {
                Ok((socket, input, output)) => {
                    let peer = socket.remote_address().map(from_wasi).unwrap_or(self.local);
                    return Ok(Conn::new(socket, input, output, peer));
                }
                Err(wasip2::sockets::network::ErrorCode::WouldBlock) => continue,
                Err(code) => return Err(NetError::code(Op::Accept, self.local, code)),
            }
        }
    }
}
