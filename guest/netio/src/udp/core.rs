//! What a bound and a connected UDP socket share: the socket, its two datagram
//! streams and their pollables.

use super::Datagram;
use crate::{NetError, Op, family, from_wasi, to_wasi};
use std::cell::OnceCell;
use std::net::SocketAddr;
use wasip2::io::poll::Pollable;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::ErrorCode;
use wasip2::sockets::udp::{
    IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream, UdpSocket as RawSocket,
};
use wasip2::sockets::udp_create_socket::create_udp_socket;

pub(super) struct Core {
    // Field order matters: pollables drop before their streams, streams before the socket.
    pub(super) incoming_ready: Pollable,
    /// Made on the first send that finds no room (rare for UDP).
    outgoing_ready: OnceCell<Pollable>,
    incoming: IncomingDatagramStream,
    outgoing: OutgoingDatagramStream,
    _socket: RawSocket,
    pub(super) local: SocketAddr,
}

impl Core {
    /// Bind `local`; with `remote`, connect to it. A connected client never asks
    /// for its local address (one host call less per query).
    pub(super) fn open(local: SocketAddr, remote: Option<SocketAddr>) -> Result<Core, NetError> {
        let bind_err = |c| NetError::code(Op::Bind, local, c);
        let socket = create_udp_socket(family(local)).map_err(bind_err)?;
        socket
            .start_bind(&instance_network(), to_wasi(local))
            .map_err(bind_err)?;
        // Binding finishes at once on every host we know; a pollable only if it does not.
        let mut ready = None;
        loop {
            match socket.finish_bind() {
                Ok(()) => break,
                Err(ErrorCode::WouldBlock) => {
                    ready.get_or_insert_with(|| socket.subscribe()).block()
                }
                Err(c) => return Err(bind_err(c)),
            }
        }
        drop(ready);
        let bound = match remote {
            None => socket.local_address().map(from_wasi).unwrap_or(local),
            Some(_) => local,
        };
        let (incoming, outgoing) =
            socket
                .stream(remote.map(to_wasi))
                .map_err(|c| match remote {
                    Some(r) => NetError::code(Op::Connect, r, c),
                    None => NetError::code(Op::Bind, local, c),
                })?;
        Ok(Core {
            incoming_ready: incoming.subscribe(),
            outgoing_ready: OnceCell::new(),
            incoming,
            outgoing,
            _socket: socket,
            local: bound,
        })
    }

    /// Send one datagram (`to`: `None` on a connected socket), waiting for room.
    pub(super) fn send(
        &self,
        data: Vec<u8>,
        to: Option<SocketAddr>,
        dest: SocketAddr,
    ) -> Result<(), NetError> {
        let err = |c| NetError::code(Op::Send, dest, c);
        while self.outgoing.check_send().map_err(err)? == 0 {
            self.outgoing_ready
                .get_or_init(|| self.outgoing.subscribe())
                .block();
        }
        let datagram = OutgoingDatagram {
            data,
            remote_address: to.map(to_wasi),
        };
        self.outgoing.send(&[datagram]).map_err(err)?;
        Ok(())
    }

    /// Take up to `max` queued datagrams without waiting.
    pub(super) fn try_receive(
        &self,
        max: u64,
        addr: SocketAddr,
    ) -> Result<Vec<Datagram>, NetError> {
        Ok(self
            .incoming
            .receive(max)
            .map_err(|c| NetError::code(Op::Receive, addr, c))?
            .into_iter()
            .map(|d| Datagram {
                data: d.data,
                from: from_wasi(d.remote_address),
            })
            .collect())
    }
}
