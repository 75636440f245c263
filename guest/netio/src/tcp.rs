//! TCP connections over `wasi:sockets/tcp`, IPv4 and IPv6.

use crate::{NetError, Op, family, to_wasi};
use std::net::SocketAddr;
use wasip2::io::streams::StreamError;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::tcp::{ShutdownType, TcpSocket};
use wasip2::sockets::tcp_create_socket::create_tcp_socket;
use wstd::io::{AsyncOutputStream, AsyncPollable};

/// An open TCP connection.
pub struct Conn {
    // Field order matters: the pollable is a child of `raw_input`, the streams of the socket.
    input_ready: AsyncPollable,
    raw_input: wasip2::io::streams::InputStream,
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
            input_ready: AsyncPollable::new(input.subscribe()),
            raw_input: input,
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
        loop {
            match self.raw_input.read(buf.len() as u64) {
                Ok(bytes) if !bytes.is_empty() => {
                    buf[..bytes.len()].copy_from_slice(&bytes);
                    return Ok(bytes.len());
                }
                Ok(_) => self.input_ready.wait_for().await,
                Err(StreamError::Closed) => return Ok(0),
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(NetError::stream(
                        Op::Receive,
                        self.peer,
                        std::io::Error::other(e.to_debug_string()),
                    ));
                }
            }
        }
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
