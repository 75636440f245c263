//! A bound UDP socket that talks to anyone (servers).

use super::Datagram;
use super::core::Core;
use crate::{Deadline, NetError, wait};
use std::net::SocketAddr;
use wasip2::io::poll::Pollable;

/// Most datagrams taken from the host per receive call.
const BATCH: u64 = 64;

/// What a wait for datagrams ended with.
pub enum Received {
    /// Datagrams and their senders.
    Datagrams(Vec<Datagram>),
    /// The deadline passed first.
    Deadline,
    /// The extra pollable passed to [`UdpSocket::receive`] became ready first.
    Extra,
}

/// A UDP socket bound to a local address.
pub struct UdpSocket {
    core: Core,
}

impl UdpSocket {
    /// Bind `local` (port 0 picks a free one).
    pub fn bind(local: SocketAddr) -> Result<UdpSocket, NetError> {
        Ok(UdpSocket {
            core: Core::open(local, None)?,
        })
    }

    /// The address really bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.core.local
    }

    /// Send `data` to `to`, waiting for room to send.
    pub fn send_to(&self, data: Vec<u8>, to: SocketAddr) -> Result<(), NetError> {
        self.core.send(data, Some(to), to)
    }

    /// Wait until datagrams arrive, `deadline_ns` (monotonic clock) passes, or
    /// `extra` is ready. Queued datagrams are read first (a busy server has some).
    pub fn receive(
        &self,
        deadline_ns: Option<u64>,
        extra: Option<&Pollable>,
    ) -> Result<Received, NetError> {
        let mut deadline = None;
        loop {
            let got = self.core.try_receive(BATCH, self.core.local)?;
            if !got.is_empty() {
                return Ok(Received::Datagrams(got));
            }
            let mut list = vec![&self.core.incoming_ready];
            list.extend(extra);
            if deadline.is_none() {
                deadline = deadline_ns.map(Deadline::at);
            }
            let ready = wait(&list, deadline.as_ref());
            if ready.indices.contains(&1) {
                return Ok(Received::Extra);
            }
            if ready.deadline && ready.indices.is_empty() {
                return Ok(Received::Deadline);
            }
        }
    }
}
