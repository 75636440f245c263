//! UDP over `wasi:sockets/udp`: a bound [`UdpSocket`] and a connected [`UdpStream`].

mod core;
mod socket;
mod stream;

pub use socket::{Received, UdpSocket};
pub use stream::UdpStream;

use std::net::SocketAddr;

/// One datagram and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The payload.
    pub data: Vec<u8>,
    /// The sender.
    pub from: SocketAddr,
}
