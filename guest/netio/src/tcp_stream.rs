//! A TCP connection, IPv4 or IPv6: non-blocking calls for readiness loops and
//! async ones on the `wstd` reactor.

use crate::{NetError, Op, family, to_wasi};
use std::cell::OnceCell;
use std::net::SocketAddr;
use wasip2::io::poll::Pollable;
use wasip2::io::streams::{InputStream, OutputStream, StreamError};
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::ErrorCode;
use wasip2::sockets::tcp::{ShutdownType, TcpSocket};
use wasip2::sockets::tcp_create_socket::create_tcp_socket;
use wstd::io::AsyncPollable;

/// What a non-blocking read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// Bytes (never empty).
    Data(Vec<u8>),
    /// Nothing yet: wait on [`TcpStream::input_pollable`].
    Empty,
    /// The peer closed its sending side.
    Closed,
}

/// An open TCP connection.
pub struct TcpStream {
    // Field order matters: pollables drop before their streams, streams before the socket.
    input_ready: Pollable,
    output_ready: Pollable,
    /// The same readiness registered with the `wstd` reactor, made on first async use.
    input_async: OnceCell<AsyncPollable>,
    output_async: OnceCell<AsyncPollable>,
    input: InputStream,
    output: OutputStream,
    socket: TcpSocket,
    peer: SocketAddr,
}

impl TcpStream {
    /// Connect to `addr` (IPv4 or IPv6), waiting on the `wstd` reactor.
    pub async fn connect(addr: SocketAddr) -> Result<TcpStream, NetError> {
        let err = |code| NetError::code(Op::Connect, addr, code);
        let socket = create_tcp_socket(family(addr)).map_err(err)?;
        socket
            .start_connect(&instance_network(), to_wasi(addr))
            .map_err(err)?;
        let pollable = AsyncPollable::new(socket.subscribe());
        let (input, output) = loop {
            match socket.finish_connect() {
                Ok(streams) => break streams,
                Err(ErrorCode::WouldBlock) => pollable.wait_for().await,
                Err(code) => return Err(err(code)),
            }
        };
        drop(pollable);
        Ok(TcpStream::from_parts(socket, input, output, addr))
    }

    /// Connect to `addr`, blocking until connected or until `deadline_ns`
    /// (monotonic clock) passes (`Ok(None)`: timed out; the attempt is dropped).
    pub fn connect_until(
        addr: SocketAddr,
        deadline_ns: u64,
    ) -> Result<Option<TcpStream>, NetError> {
        let err = |code| NetError::code(Op::Connect, addr, code);
        let socket = create_tcp_socket(family(addr)).map_err(err)?;
        socket
            .start_connect(&instance_network(), to_wasi(addr))
            .map_err(err)?;
        let ready = socket.subscribe();
        let deadline = crate::Deadline::at(deadline_ns);
        loop {
            match socket.finish_connect() {
                Ok((input, output)) => {
                    drop(ready);
                    return Ok(Some(TcpStream::from_parts(socket, input, output, addr)));
                }
                Err(ErrorCode::WouldBlock) => {
                    if crate::wait(&[&ready], Some(&deadline)).deadline {
                        return Ok(None);
                    }
                }
                Err(code) => return Err(err(code)),
            }
        }
    }

    /// Read what arrives before `deadline_ns` (at most `max` bytes at a time):
    /// `Ok(None)` when the deadline passed first.
    pub fn read_until(&self, max: u64, deadline_ns: u64) -> Result<Option<Read>, NetError> {
        let mut deadline = None;
        loop {
            match self.try_read(max)? {
                Read::Empty => {
                    // Subscribed on the first wait only: data already there costs no timer.
                    let deadline = deadline.get_or_insert_with(|| crate::Deadline::at(deadline_ns));
                    if crate::wait(&[&self.input_ready], Some(deadline)).deadline {
                        return Ok(None);
                    }
                }
                other => return Ok(Some(other)),
            }
        }
    }

    /// Write all of `buf` before `deadline_ns`: `Ok(false)` when the deadline passed first.
    pub fn write_until(&self, mut buf: &[u8], deadline_ns: u64) -> Result<bool, NetError> {
        let mut deadline = None;
        while !buf.is_empty() {
            let n = self.try_write(buf)?;
            buf = &buf[n..];
            if n == 0 {
                let deadline = deadline.get_or_insert_with(|| crate::Deadline::at(deadline_ns));
                if crate::wait(&[&self.output_ready], Some(deadline)).deadline {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// A stream over an accepted or connected socket.
    pub(crate) fn from_parts(
        socket: TcpSocket,
        input: InputStream,
        output: OutputStream,
        peer: SocketAddr,
    ) -> TcpStream {
        TcpStream {
            input_ready: input.subscribe(),
            output_ready: output.subscribe(),
            input_async: OnceCell::new(),
            output_async: OnceCell::new(),
            input,
            output,
            socket,
            peer,
        }
    }

    /// The remote address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Ready when [`TcpStream::try_read`] has something to say.
    pub fn input_pollable(&self) -> &Pollable {
        &self.input_ready
    }

    /// Ready when [`TcpStream::try_write`] can accept bytes.
    pub fn output_pollable(&self) -> &Pollable {
        &self.output_ready
    }

    /// Read up to `max` bytes without waiting.
    pub fn try_read(&self, max: u64) -> Result<Read, NetError> {
        match self.input.read(max) {
            Ok(bytes) if bytes.is_empty() => Ok(Read::Empty),
            Ok(bytes) => Ok(Read::Data(bytes)),
            Err(StreamError::Closed) => Ok(Read::Closed),
            Err(e) => Err(NetError::stream(Op::Receive, self.peer, e)),
        }
    }

    /// Write as much of `buf` as the stream accepts now; returns how much (0: wait
    /// on [`TcpStream::output_pollable`]).
    pub fn try_write(&self, buf: &[u8]) -> Result<usize, NetError> {
        let err = |e| NetError::stream(Op::Send, self.peer, e);
        let permit = self.output.check_write().map_err(err)?;
        let n = (permit as usize).min(buf.len());
        if n > 0 {
            self.output.write(&buf[..n]).map_err(err)?;
        }
        Ok(n)
    }

    /// Whether everything written has been handed to the network (room to write again).
    pub fn try_drained(&self) -> Result<bool, NetError> {
        let permit = self
            .output
            .check_write()
            .map_err(|e| NetError::stream(Op::Send, self.peer, e))?;
        Ok(permit > 0)
    }

    fn input_async(&self) -> &AsyncPollable {
        self.input_async
            .get_or_init(|| AsyncPollable::new(self.input.subscribe()))
    }

    fn output_async(&self) -> &AsyncPollable {
        self.output_async
            .get_or_init(|| AsyncPollable::new(self.output.subscribe()))
    }

    /// Read into `buf`; `Ok(0)` means the peer closed its sending side.
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        loop {
            match self.try_read(buf.len() as u64)? {
                Read::Data(bytes) => {
                    buf[..bytes.len()].copy_from_slice(&bytes);
                    return Ok(bytes.len());
                }
                Read::Empty => self.input_async().wait_for().await,
                Read::Closed => return Ok(0),
            }
        }
    }

    /// Write all of `buf`, waiting for room as needed.
    pub async fn write_all(&self, mut buf: &[u8]) -> Result<(), NetError> {
        while !buf.is_empty() {
            match self.try_write(buf)? {
                0 => self.output_async().wait_for().await,
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Flush what was written and wait until it has left.
    pub async fn flush(&self) -> Result<(), NetError> {
        let err = |e| NetError::stream(Op::Send, self.peer, e);
        self.output.flush().map_err(err)?;
        while !self.try_drained()? {
            self.output_async().wait_for().await;
        }
        Ok(())
    }

    /// Half-close: tell the peer we will send nothing more (TCP FIN).
    pub fn shutdown_send(&self) {
        // Ignored on purpose: a peer that already went away makes this fail, and reads report that.
        let _ = self.socket.shutdown(ShutdownType::Send);
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(ShutdownType::Both);
    }
}
