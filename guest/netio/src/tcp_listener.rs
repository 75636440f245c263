//! A listening TCP socket, IPv4 or IPv6.

use crate::{NetError, Op, TcpStream, family, from_wasi, to_wasi};
use std::net::SocketAddr;
use wasip2::io::poll::Pollable;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::ErrorCode;
use wasip2::sockets::tcp::TcpSocket;
use wasip2::sockets::tcp_create_socket::create_tcp_socket;

/// A bound, listening TCP socket.
pub struct TcpListener {
    // Field order matters: the pollable is a child of the socket.
    ready: Pollable,
    socket: TcpSocket,
    local: SocketAddr,
}

impl TcpListener {
    /// Bind `addr` and listen with room for `backlog` pending clients (a host may
    /// keep its own default). Setting up never waits on anyone: it blocks until done.
    pub fn bind(addr: SocketAddr, backlog: u64) -> Result<TcpListener, NetError> {
        let socket =
            create_tcp_socket(family(addr)).map_err(|c| NetError::code(Op::Bind, addr, c))?;
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
        let _ = socket.set_listen_backlog_size(backlog);
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
        Ok(TcpListener {
            ready,
            socket,
            local,
        })
    }

    /// The address really bound (port 0 asks for a free one).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Ready when a client is waiting to be accepted.
    pub fn pollable(&self) -> &Pollable {
        &self.ready
    }

    /// The next waiting client without waiting; `None` when there is none now.
    pub fn try_accept(&self) -> Option<Result<TcpStream, NetError>> {
        match self.socket.accept() {
            Ok((socket, input, output)) => {
                let peer = socket.remote_address().map(from_wasi).unwrap_or(self.local);
                Some(Ok(TcpStream::from_parts(socket, input, output, peer)))
            }
            Err(ErrorCode::WouldBlock) => None,
            Err(c) => Some(Err(NetError::code(Op::Accept, self.local, c))),
        }
    }
}
