//! A UDP socket connected to one peer (clients).

use super::Datagram;
use super::core::Core;
use crate::{Deadline, NetError, wait};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A UDP socket on an ephemeral port, connected to one peer: the host drops
/// datagrams from anyone else.
pub struct UdpStream {
    core: Core,
    peer: SocketAddr,
}

impl UdpStream {
    /// Bind the wildcard address of `peer`'s family, port 0, and connect to `peer`.
    pub fn connect(peer: SocketAddr) -> Result<UdpStream, NetError> {
        let any = match peer.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        Ok(UdpStream {
            core: Core::open(SocketAddr::new(any, 0), Some(peer))?,
            peer,
        })
    }

    /// The peer.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Send `data` to the peer, waiting for room to send.
    pub fn send(&self, data: Vec<u8>) -> Result<(), NetError> {
        // A connected socket must not name the peer again.
        self.core.send(data, None, self.peer)
    }

    /// The next datagram, or `None` once `deadline_ns` (monotonic clock) passes.
    ///
    /// A client calls this right after sending, so its reply cannot be there
    /// yet: it waits first and then reads one datagram, which spares the host
    /// a read that finds nothing and a second, empty read of the socket.
    pub fn receive(&self, deadline_ns: u64) -> Result<Option<Datagram>, NetError> {
        let deadline = Deadline::at(deadline_ns);
        loop {
            let ready = wait(&[&self.core.incoming_ready], Some(&deadline));
            if !ready.indices.is_empty()
                && let Some(d) = self.core.try_receive(1, self.peer)?.pop()
            {
                return Ok(Some(d));
            }
            if ready.deadline {
                return Ok(None);
            }
        }
    }
}
