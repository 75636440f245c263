//! A UDP socket bound for serving: receive datagrams, send replies to their senders.

use crate::{NetError, Op, family, from_wasi, to_wasi};
use std::net::SocketAddr;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::udp::{
    IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream, UdpSocket,
};
use wasip2::sockets::udp_create_socket::create_udp_socket;
use wstd::io::AsyncPollable;

/// Most datagrams taken from the host per receive call.
const BATCH: u64 = 64;

/// A bound, unconnected UDP socket.
pub struct UdpServer {
    // Field order matters: pollables and streams are children of the socket and drop first.
    incoming_ready: AsyncPollable,
    outgoing_ready: AsyncPollable,
    incoming: IncomingDatagramStream,
    outgoing: OutgoingDatagramStream,
    _socket: UdpSocket,
    local: SocketAddr,
}

impl UdpServer {
    /// Bind `addr` for receiving from anyone and replying to them.
    pub async fn bind(addr: SocketAddr) -> Result<UdpServer, NetError> {
        let bind_err = |c| NetError::code(Op::Bind, addr, c);
        let socket = create_udp_socket(family(addr)).map_err(bind_err)?;
        socket
            .start_bind(&instance_network(), to_wasi(addr))
            .map_err(bind_err)?;
        let ready = AsyncPollable::new(socket.subscribe());
        let local = loop {
            match socket.finish_bind() {
                Ok(()) => break socket.local_address().map(from_wasi).unwrap_or(addr),
                Err(wasip2::sockets::network::ErrorCode::WouldBlock) => ready.wait_for().await,
                Err(c) => return Err(bind_err(c)),
            }
        };
        drop(ready);
        let (incoming, outgoing) = socket.stream(None).map_err(bind_err)?;
        Ok(UdpServer {
            incoming_ready: AsyncPollable::new(incoming.subscribe()),
            outgoing_ready: AsyncPollable::new(outgoing.subscribe()),
            incoming,
            outgoing,
            _socket: socket,
            local,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Wait for datagrams; returns up to a batch of `(payload, sender)`.
    pub async fn receive(&self) -> Result<Vec<(Vec<u8>, SocketAddr)>, NetError> {
        loop {
            self.incoming_ready.wait_for().await;
            let got = self
                .incoming
                .receive(BATCH)
                .map_err(|c| NetError::code(Op::Receive, self.local, c))?;
            if !got.is_empty() {
                return Ok(got
                    .into_iter()
                    .map(|d| (d.data, from_wasi(d.remote_address)))
                    .collect());
            }
        }
    }

    /// Send `data` to `to`.
    pub async fn send_to(&self, data: Vec<u8>, to: SocketAddr) -> Result<(), NetError> {
        let err = |c| NetError::code(Op::Send, to, c);
        loop {
            if self.outgoing.check_send().map_err(err)? > 0 {
                break;
            }
            self.outgoing_ready.wait_for().await;
        }
        let datagram = OutgoingDatagram {
            data,
            remote_address: Some(to_wasi(to)),
        };
        self.outgoing.send(&[datagram]).map_err(err)?;
        Ok(())
    }
}
