//! UDP over `wasi:sockets/udp`, blocking on `wasi:io/poll` with deadlines (no executor needed).

use crate::{NetError, Op, family, from_wasi, to_wasi};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::{Pollable, poll};
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::ErrorCode;
use wasip2::sockets::udp::{
    IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream, UdpSocket,
};
use wasip2::sockets::udp_create_socket::create_udp_socket;

/// Most datagrams taken from the host per receive call.
const BATCH: u64 = 64;

/// What a wait for datagrams ended with.
pub enum Received {
    /// Datagrams and their senders.
    Datagrams(Vec<(Vec<u8>, SocketAddr)>),
    /// The deadline passed first.
    Deadline,
    /// The extra pollable passed to [`Udp::receive`] became ready first.
    Extra,
}

/// A bound UDP socket, optionally connected to one peer.
pub struct Udp {
    // Field order matters: pollables drop before their streams, streams before the socket.
    incoming_ready: Pollable,
    /// Made on the first send that finds no room (rare for UDP).
    outgoing_ready: std::cell::OnceCell<Pollable>,
    incoming: IncomingDatagramStream,
    outgoing: OutgoingDatagramStream,
    _socket: UdpSocket,
    local: SocketAddr,
    remote: Option<SocketAddr>,
}

impl Udp {
    /// A socket bound to `local` that talks to anyone.
    pub fn bind(local: SocketAddr) -> Result<Udp, NetError> {
        Self::open(local, None)
    }

    /// A socket on an ephemeral port of the wildcard address, connected to `remote`
    /// (the host then drops datagrams from anyone else).
    pub fn connect(remote: SocketAddr) -> Result<Udp, NetError> {
        let any = match remote.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        Self::open(SocketAddr::new(any, 0), Some(remote))
    }

    fn open(local: SocketAddr, remote: Option<SocketAddr>) -> Result<Udp, NetError> {
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
        // A server reports where it listens; a connected client never asks, so
        // it is spared the call.
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
        Ok(Udp {
            incoming_ready: incoming.subscribe(),
            outgoing_ready: std::cell::OnceCell::new(),
            incoming,
            outgoing,
            _socket: socket,
            local: bound,
            remote,
        })
    }

    /// The bound address (for a connected socket, the unspecified address it was bound to).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Send `data` to `to` (`None`: the connected peer), waiting for room to send.
    pub fn send(&self, data: Vec<u8>, to: Option<SocketAddr>) -> Result<(), NetError> {
        let dest = to.or(self.remote).unwrap_or(self.local);
        let err = |c| NetError::code(Op::Send, dest, c);
        while self.outgoing.check_send().map_err(err)? == 0 {
            self.outgoing_ready
                .get_or_init(|| self.outgoing.subscribe())
                .block();
        }
        let datagram = OutgoingDatagram {
            data,
            // A connected socket must not name the peer again.
            remote_address: if self.remote.is_some() {
                None
            } else {
                to.map(to_wasi)
            },
        };
        self.outgoing.send(&[datagram]).map_err(err)?;
        Ok(())
    }

    /// Wait until datagrams arrive, `deadline_ns` (monotonic clock) passes, or `extra` is ready.
    pub fn receive(
        &self,
        deadline_ns: Option<u64>,
        extra: Option<&Pollable>,
    ) -> Result<Received, NetError> {
        // A connected client calls this right after sending its request, so
        // its reply cannot be there yet: it waits first and then reads, which
        // spares the host a read that finds nothing. A server reads first, as
        // datagrams are usually queued.
        let mut read = self.remote.is_none();
        loop {
            if read {
                let got = self
                    .incoming
                    // A connected client waits for one reply: taking one datagram
                    // spares the host a second, empty read of the socket.
                    .receive(if self.remote.is_some() { 1 } else { BATCH })
                    .map_err(|c| {
                        NetError::code(Op::Receive, self.remote.unwrap_or(self.local), c)
                    })?;
                if !got.is_empty() {
                    return Ok(Received::Datagrams(
                        got.into_iter()
                            .map(|d| (d.data, from_wasi(d.remote_address)))
                            .collect(),
                    ));
                }
            }
            read = true;
            let timer = deadline_ns.map(monotonic_clock::subscribe_instant);
            let mut list = vec![&self.incoming_ready];
            if let Some(t) = &timer {
                list.push(t);
            }
            let extra_index = list.len();
            if let Some(e) = extra {
                list.push(e);
            }
            let ready = poll(&list);
            if extra.is_some() && ready.contains(&(extra_index as u32)) {
                return Ok(Received::Extra);
            }
            if timer.is_some() && ready.contains(&1) && !ready.contains(&0) {
                return Ok(Received::Deadline);
            }
        }
    }
}
