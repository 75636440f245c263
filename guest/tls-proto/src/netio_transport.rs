//! [`Transport`] over netio's TCP stream (the guests).

use crate::transport::{Recv, Transport, TransportError};
use netio::{Read, TcpStream};

/// A netio TCP connection as a [`Transport`].
pub struct NetioTransport(pub TcpStream);

impl Transport for NetioTransport {
    fn recv(&mut self, max: usize, deadline_ns: u64) -> Result<Recv, TransportError> {
        loop {
            return match self.0.read_until(max as u64, deadline_ns) {
                Ok(Some(Read::Data(d))) => Ok(Recv::Data(d)),
                Ok(Some(Read::Closed)) => Ok(Recv::Closed),
                Ok(Some(Read::Empty)) => continue,
                Ok(None) => Ok(Recv::Timeout),
                Err(e) => Err(TransportError(e.to_string())),
            };
        }
    }

    fn send(&mut self, buf: &[u8], deadline_ns: u64) -> Result<bool, TransportError> {
        self.0
            .write_until(buf, deadline_ns)
            .map_err(|e| TransportError(e.to_string()))
    }

    fn shutdown_send(&mut self) {
        self.0.shutdown_send();
    }

    fn now_ns(&self) -> u64 {
        netio::wasip2::clocks::monotonic_clock::now()
    }
}
