//! netkit's own `wasi:sockets/udp`: the same interface and the same address
//! checks as wasmtime-wasi's, made for a fresh instance per query.
//!
//! wasmtime-wasi 48 builds its preview-2 UDP on its preview-3 sockets: a new
//! socket waits a reactor turn until tokio calls it writable, a receive that
//! would block spawns a tokio task that then wakes the guest's, and every
//! receive zeroes a 64 KiB buffer. Here the socket calls go straight to the
//! kernel (non-blocking, as wasmtime-wasi's do underneath): a send goes out at
//! once, a receive reads into an uninitialised buffer, and only a guest that
//! really has to wait awaits tokio's readiness, on its own task. Every address
//! is checked and audited as wasmtime-wasi checks it (bind, connect as send and
//! receive, each send, each datagram received), through [`GuestNet::permit`].

use super::GuestNet;
use rustix::io::Errno;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType, sockopt};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::io::Interest;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::bindings::sockets::network::{
    ErrorCode, IpAddressFamily, IpSocketAddress, Network,
};
use wasmtime_wasi::p2::{SocketError, SocketResult};
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi_io::poll::{DynPollable, Pollable, subscribe};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/udp-sockets",
        imports: { default: trappable },
        require_store_data_send: true,
        trappable_error_type: {
            "wasi:sockets/network.error-code" => wasmtime_wasi::p2::SocketError,
        },
        with: {
            "wasi:io/poll": wasmtime_wasi_io::bindings::wasi::io::poll,
            "wasi:sockets/network": wasmtime_wasi::p2::bindings::sockets::network,
            "wasi:sockets/udp.udp-socket": super::UdpSocket,
            "wasi:sockets/udp.incoming-datagram-stream": super::IncomingDatagramStream,
            "wasi:sockets/udp.outgoing-datagram-stream": super::OutgoingDatagramStream,
        },
    });
}

use bindings::wasi::sockets::udp::{
    self, HostIncomingDatagramStream, HostOutgoingDatagramStream, HostUdpSocket, IncomingDatagram,
    OutgoingDatagram,
};
use bindings::wasi::sockets::udp_create_socket;

/// The largest UDP payload (the IPv4 and IPv6 limit wasmtime-wasi uses too).
const MAX_DATAGRAM_SIZE: usize = u16::MAX as usize;
/// At most this many datagrams per `receive` and per `check-send` permit.
const MAX_DATAGRAMS: usize = 16;

/// Where a socket is in its life: wasi:sockets 0.2 binds in two steps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Bound {
    No,
    Started,
    Yes,
}

/// A guest's UDP socket.
pub struct UdpSocket {
    socket: Arc<tokio::net::UdpSocket>,
    family: IpAddressFamily,
    bound: Bound,
    remote: Option<SocketAddr>,
}

/// The receiving half of a bound socket, as `stream` hands it out.
pub struct IncomingDatagramStream {
    socket: Arc<tokio::net::UdpSocket>,
}

/// What a receiver waits for: a datagram, or an error the kernel queued for it
/// (an ICMP port unreachable makes the next receive fail with "refused").
const INCOMING: Interest = Interest::READABLE.add(Interest::ERROR);

/// The sending half of a bound socket, as `stream` hands it out.
pub struct OutgoingDatagramStream {
    socket: Arc<tokio::net::UdpSocket>,
    remote: Option<SocketAddr>,
    family: IpAddressFamily,
    /// Datagrams the last `check-send` permitted.
    permits: usize,
    /// The kernel's send buffer was full at the last send: `check-send` says 0
    /// until the socket is writable again.
    blocked: bool,
}

impl UdpSocket {
    /// A new unbound, non-blocking socket of `family` (IPv6 sockets only IPv6).
    fn new(family: IpAddressFamily) -> std::io::Result<Self> {
        let domain = match family {
            IpAddressFamily::Ipv4 => AddressFamily::INET,
            IpAddressFamily::Ipv6 => AddressFamily::INET6,
        };
        let fd = rustix::net::socket_with(
            domain,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        if family == IpAddressFamily::Ipv6 {
            // WIT: "On IPv6 sockets, IPV6_V6ONLY is enabled by default and can't be configured otherwise."
            sockopt::set_ipv6_v6only(&fd, true)?;
        }
        let socket = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(fd))?;
        Ok(Self {
            socket: Arc::new(socket),
            family,
            bound: Bound::No,
            remote: None,
        })
    }
}

/// Whether `ip` belongs on a socket of `family` (IPv4-mapped and the deprecated
/// IPv4-compatible IPv6 addresses never do, as in wasmtime-wasi).
fn family_fits(ip: IpAddr, family: IpAddressFamily) -> bool {
    match (family, ip) {
        (IpAddressFamily::Ipv4, IpAddr::V4(_)) => true,
        (IpAddressFamily::Ipv6, IpAddr::V6(v6)) => {
            let ipv4_compatible = matches!(v6.segments(), [0, 0, 0, 0, 0, 0, _, _])
                && v6 != Ipv6Addr::UNSPECIFIED
                && v6 != Ipv6Addr::LOCALHOST;
            !ipv4_compatible && v6.to_ipv4_mapped().is_none()
        }
        _ => false,
    }
}

/// A peer address a datagram may go to: a port, and not the wildcard address.
fn valid_remote(addr: SocketAddr) -> bool {
    !addr.ip().to_canonical().is_unspecified() && addr.port() != 0
}

/// Tell tokio the socket is not ready for `interests` after the kernel said
/// EAGAIN to a call made around it, so the next wait really waits. One
/// interest at a time: tokio's `try_io` clears nothing for a combined one.
fn clear_ready(socket: &tokio::net::UdpSocket, interests: &[Interest]) {
    for &interest in interests {
        let _ = socket.try_io(interest, || {
            Err::<(), _>(std::io::ErrorKind::WouldBlock.into())
        });
    }
}

fn socket_addr(addr: rustix::net::SocketAddrAny) -> SocketResult<SocketAddr> {
    SocketAddr::try_from(addr).map_err(|_| ErrorCode::Unknown.into())
}

impl GuestNet<'_> {
    /// `Ok` if a grant covers `use_` of `addr`; every check is audited.
    fn permit(&self, addr: SocketAddr, use_: SocketAddrUse) -> Result<(), ErrorCode> {
        if self.audit.check(self.policy, addr, use_) {
            Ok(())
        } else {
            Err(ErrorCode::AccessDenied)
        }
    }
}

impl udp_create_socket::Host for GuestNet<'_> {
    fn create_udp_socket(&mut self, family: IpAddressFamily) -> SocketResult<Resource<UdpSocket>> {
        self.admit("udp-socket")?;
        let socket = self.sockets.table.push(UdpSocket::new(family)?)?;
        self.held.reps.push(socket.rep());
        Ok(socket)
    }
}

impl udp::Host for GuestNet<'_> {}

impl HostUdpSocket for GuestNet<'_> {
    fn start_bind(
        &mut self,
        this: Resource<UdpSocket>,
        network: Resource<Network>,
        local_address: IpSocketAddress,
    ) -> SocketResult<()> {
        // The network handle is the capability to bind at all.
        self.sockets.table.get(&network)?;
        let addr = SocketAddr::from(local_address);
        let socket = self.sockets.table.get(&this)?;
        match socket.bound {
            Bound::Started => return Err(ErrorCode::ConcurrencyConflict.into()),
            Bound::Yes => return Err(ErrorCode::InvalidState.into()),
            Bound::No => {}
        }
        if !family_fits(addr.ip(), socket.family) {
            return Err(ErrorCode::InvalidArgument.into());
        }
        self.permit(addr, SocketAddrUse::UdpBind)?;
        let socket = self.sockets.table.get_mut(&this)?;
        rustix::net::bind(&*socket.socket, &addr).map_err(|e| match e {
            Errno::AFNOSUPPORT => Errno::INVAL,
            e => e,
        })?;
        socket.bound = Bound::Started;
        Ok(())
    }

    fn finish_bind(&mut self, this: Resource<UdpSocket>) -> SocketResult<()> {
        let socket = self.sockets.table.get_mut(&this)?;
        if socket.bound != Bound::Started {
            return Err(ErrorCode::NotInProgress.into());
        }
        socket.bound = Bound::Yes;
        Ok(())
    }

    fn stream(
        &mut self,
        this: Resource<UdpSocket>,
        remote_address: Option<IpSocketAddress>,
    ) -> SocketResult<(
        Resource<IncomingDatagramStream>,
        Resource<OutgoingDatagramStream>,
    )> {
        let streams_open = self
            .sockets
            .table
            .iter_children(&this)?
            .any(|c| c.is::<IncomingDatagramStream>() || c.is::<OutgoingDatagramStream>());
        if streams_open {
            return Err(SocketError::trap(wasmtime::format_err!(
                "UDP streams not dropped yet"
            )));
        }
        let socket = self.sockets.table.get(&this)?;
        if socket.bound != Bound::Yes {
            // In WASI 0.2 a socket is bound explicitly before it streams.
            return Err(ErrorCode::InvalidState.into());
        }
        let family = socket.family;
        match remote_address.map(SocketAddr::from) {
            Some(peer) => {
                if !family_fits(peer.ip(), family) || !valid_remote(peer) {
                    return Err(ErrorCode::InvalidArgument.into());
                }
                // Connecting does no I/O: it is allowed if sending to and
                // receiving from the peer both are.
                self.permit(peer, SocketAddrUse::UdpSend)?;
                self.permit(peer, SocketAddrUse::UdpReceive)?;
                let socket = self.sockets.table.get_mut(&this)?;
                let fd = &*socket.socket;
                match rustix::net::connect(fd, &peer) {
                    // Linux keeps the old route's local address: dissolve, connect again.
                    Err(Errno::INVAL) => {
                        let _ = rustix::net::connect_unspec(fd);
                        rustix::net::connect(fd, &peer)
                    }
                    Err(Errno::AFNOSUPPORT) => Err(Errno::INVAL),
                    other => other,
                }?;
                socket.remote = Some(peer);
            }
            None if socket.remote.is_some() => {
                let socket = self.sockets.table.get_mut(&this)?;
                rustix::net::connect_unspec(&*socket.socket)?;
                socket.remote = None;
            }
            None => {}
        }
        let socket = self.sockets.table.get(&this)?;
        let incoming = IncomingDatagramStream {
            socket: socket.socket.clone(),
        };
        let outgoing = OutgoingDatagramStream {
            socket: socket.socket.clone(),
            remote: socket.remote,
            family,
            permits: 0,
            blocked: false,
        };
        Ok((
            self.sockets.table.push_child(incoming, &this)?,
            self.sockets.table.push_child(outgoing, &this)?,
        ))
    }

    fn local_address(&mut self, this: Resource<UdpSocket>) -> SocketResult<IpSocketAddress> {
        let socket = self.sockets.table.get(&this)?;
        if socket.bound == Bound::No {
            return Err(ErrorCode::InvalidState.into());
        }
        let addr = socket_addr(rustix::net::getsockname(&*socket.socket)?)?;
        Ok(addr.into())
    }

    fn remote_address(&mut self, this: Resource<UdpSocket>) -> SocketResult<IpSocketAddress> {
        let socket = self.sockets.table.get(&this)?;
        Ok(socket.remote.ok_or(ErrorCode::InvalidState)?.into())
    }

    fn address_family(&mut self, this: Resource<UdpSocket>) -> wasmtime::Result<IpAddressFamily> {
        Ok(self.sockets.table.get(&this)?.family)
    }

    fn unicast_hop_limit(&mut self, this: Resource<UdpSocket>) -> SocketResult<u8> {
        let socket = self.sockets.table.get(&this)?;
        let fd = &*socket.socket;
        Ok(match socket.family {
            IpAddressFamily::Ipv4 => sockopt::ip_ttl(fd)?
                .try_into()
                .map_err(|_| ErrorCode::NotSupported)?,
            IpAddressFamily::Ipv6 => sockopt::ipv6_unicast_hops(fd)?,
        })
    }

    fn set_unicast_hop_limit(&mut self, this: Resource<UdpSocket>, value: u8) -> SocketResult<()> {
        // WIT: "If the provided value is 0, an `invalid-argument` error is returned."
        if value == 0 {
            return Err(ErrorCode::InvalidArgument.into());
        }
        let socket = self.sockets.table.get(&this)?;
        let fd = &*socket.socket;
        match socket.family {
            IpAddressFamily::Ipv4 => sockopt::set_ip_ttl(fd, value.into())?,
            IpAddressFamily::Ipv6 => sockopt::set_ipv6_unicast_hops(fd, Some(value))?,
        }
        Ok(())
    }

    fn receive_buffer_size(&mut self, this: Resource<UdpSocket>) -> SocketResult<u64> {
        let socket = self.sockets.table.get(&this)?;
        // Linux reports twice what was set (its bookkeeping): halve it back.
        Ok((sockopt::socket_recv_buffer_size(&*socket.socket)? / 2) as u64)
    }

    fn set_receive_buffer_size(
        &mut self,
        this: Resource<UdpSocket>,
        value: u64,
    ) -> SocketResult<()> {
        let socket = self.sockets.table.get(&this)?;
        set_buffer_size(value, |v| {
            sockopt::set_socket_recv_buffer_size(&*socket.socket, v)
        })
    }

    fn send_buffer_size(&mut self, this: Resource<UdpSocket>) -> SocketResult<u64> {
        let socket = self.sockets.table.get(&this)?;
        Ok((sockopt::socket_send_buffer_size(&*socket.socket)? / 2) as u64)
    }

    fn set_send_buffer_size(&mut self, this: Resource<UdpSocket>, value: u64) -> SocketResult<()> {
        let socket = self.sockets.table.get(&this)?;
        set_buffer_size(value, |v| {
            sockopt::set_socket_send_buffer_size(&*socket.socket, v)
        })
    }

    fn subscribe(&mut self, this: Resource<UdpSocket>) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(self.sockets.table, this)
    }

    fn drop(&mut self, this: Resource<UdpSocket>) -> wasmtime::Result<()> {
        self.sockets.table.delete(this)?;
        Ok(())
    }
}

/// Set a buffer size as a hint, as wasmtime-wasi does: 0 is refused, anything
/// else clamped to what the kernel takes, and its "no buffers" ignored.
fn set_buffer_size(
    value: u64,
    set: impl FnOnce(usize) -> rustix::io::Result<()>,
) -> SocketResult<()> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument.into());
    }
    let value = usize::try_from(value)
        .unwrap_or(usize::MAX)
        .clamp(1, i32::MAX as usize);
    match set(value) {
        Ok(()) | Err(Errno::NOBUFS) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[async_trait::async_trait]
impl Pollable for UdpSocket {
    async fn ready(&mut self) {
        // Nothing on the socket itself ever waits.
    }
}

impl HostIncomingDatagramStream for GuestNet<'_> {
    fn receive(
        &mut self,
        this: Resource<IncomingDatagramStream>,
        max_results: u64,
    ) -> SocketResult<Vec<IncomingDatagram>> {
        let max = usize::try_from(max_results)
            .unwrap_or(usize::MAX)
            .min(MAX_DATAGRAMS);
        let socket = self.sockets.table.get(&this)?.socket.clone();
        let mut out = Vec::new();
        while out.len() < max {
            let mut data = Vec::with_capacity(MAX_DATAGRAM_SIZE);
            let from = match rustix::net::recvfrom(
                &*socket,
                rustix::buffer::spare_capacity(&mut data),
                RecvFlags::empty(),
            ) {
                Ok((_, _, Some(from))) => socket_addr(from)?,
                Ok((_, _, None)) => return Err(ErrorCode::Unknown.into()),
                Err(Errno::AGAIN) => {
                    clear_ready(&socket, &[Interest::READABLE, Interest::ERROR]);
                    break;
                }
                Err(_) if !out.is_empty() => break,
                Err(e) => return Err(e.into()),
            };
            // A datagram from an address the guest may not hear from is dropped
            // (and audited), as wasmtime-wasi drops it.
            if self.permit(from, SocketAddrUse::UdpReceive).is_err() {
                continue;
            }
            data.shrink_to_fit();
            out.push(IncomingDatagram {
                data,
                remote_address: from.into(),
            });
        }
        Ok(out)
    }

    fn subscribe(
        &mut self,
        this: Resource<IncomingDatagramStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(self.sockets.table, this)
    }

    fn drop(&mut self, this: Resource<IncomingDatagramStream>) -> wasmtime::Result<()> {
        self.sockets.table.delete(this)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Pollable for IncomingDatagramStream {
    async fn ready(&mut self) {
        // An error is ready too: the next receive reports it.
        let _ = self.socket.ready(INCOMING).await;
    }
}

impl HostOutgoingDatagramStream for GuestNet<'_> {
    fn check_send(&mut self, this: Resource<OutgoingDatagramStream>) -> SocketResult<u64> {
        let stream = self.sockets.table.get_mut(&this)?;
        stream.permits = if stream.blocked { 0 } else { MAX_DATAGRAMS };
        Ok(stream.permits as u64)
    }

    fn send(
        &mut self,
        this: Resource<OutgoingDatagramStream>,
        datagrams: Vec<OutgoingDatagram>,
    ) -> SocketResult<u64> {
        let stream = self.sockets.table.get_mut(&this)?;
        if datagrams.is_empty() {
            return Ok(0);
        }
        if datagrams.len() > stream.permits {
            return Err(SocketError::trap(wasmtime::format_err!(
                "unpermitted: argument exceeds permitted size"
            )));
        }
        // WIT: each call to `send` must be permitted by a preceding `check-send`.
        stream.permits = 0;
        let (socket, connected, family) = (stream.socket.clone(), stream.remote, stream.family);
        let mut sent = 0;
        for datagram in datagrams {
            match self.send_one(&socket, connected, family, datagram) {
                Ok(()) => sent += 1,
                Err(Unsent::Error(e)) if sent == 0 => return Err(e),
                // WIT: once one datagram has gone, send never returns an error.
                Err(Unsent::Error(_)) => break,
                Err(Unsent::Full) => {
                    clear_ready(&socket, &[Interest::WRITABLE]);
                    self.sockets.table.get_mut(&this)?.blocked = true;
                    break;
                }
            }
        }
        Ok(sent)
    }

    fn subscribe(
        &mut self,
        this: Resource<OutgoingDatagramStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(self.sockets.table, this)
    }

    fn drop(&mut self, this: Resource<OutgoingDatagramStream>) -> wasmtime::Result<()> {
        // Sends complete in the call that makes them: nothing to wait for.
        self.sockets.table.delete(this)?;
        Ok(())
    }
}

/// Why a datagram was not sent.
enum Unsent {
    /// The kernel's send buffer is full: try again once the socket is writable.
    Full,
    Error(SocketError),
}

impl From<ErrorCode> for Unsent {
    fn from(e: ErrorCode) -> Self {
        Unsent::Error(e.into())
    }
}

impl From<Errno> for Unsent {
    fn from(e: Errno) -> Self {
        Unsent::Error(e.into())
    }
}

impl GuestNet<'_> {
    /// Send one datagram now.
    fn send_one(
        &self,
        socket: &tokio::net::UdpSocket,
        connected: Option<SocketAddr>,
        family: IpAddressFamily,
        datagram: OutgoingDatagram,
    ) -> Result<(), Unsent> {
        if datagram.data.len() > MAX_DATAGRAM_SIZE {
            return Err(ErrorCode::DatagramTooLarge.into());
        }
        let to = match datagram.remote_address.map(SocketAddr::from) {
            Some(to) if !valid_remote(to) || !family_fits(to.ip(), family) => {
                return Err(ErrorCode::InvalidArgument.into());
            }
            // A connected socket sends only to its peer.
            Some(to) if connected.is_some_and(|c| c != to) => {
                return Err(ErrorCode::InvalidArgument.into());
            }
            Some(to) => to,
            None => connected.ok_or(ErrorCode::InvalidArgument)?,
        };
        self.permit(to, SocketAddrUse::UdpSend)?;
        let result = if connected == Some(to) {
            rustix::net::send(socket, &datagram.data, SendFlags::empty())
        } else {
            rustix::net::sendto(socket, &datagram.data, SendFlags::empty(), &to)
        };
        match result {
            Ok(_) => Ok(()),
            Err(Errno::AGAIN) => Err(Unsent::Full),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for OutgoingDatagramStream {
    async fn ready(&mut self) {
        if self.blocked {
            let _ = self.socket.writable().await;
            self.blocked = false;
        }
    }
}

/// Replace wasmtime-wasi's `udp` and `udp-create-socket` in `linker` with these.
pub(super) fn add_to_linker<T: super::GuestNetView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    udp::add_to_linker::<T, super::HasGuestNet>(linker, T::guest_net)?;
    udp_create_socket::add_to_linker::<T, super::HasGuestNet>(linker, T::guest_net)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_fit_their_family_as_in_wasmtime_wasi() {
        let v4 = IpAddressFamily::Ipv4;
        let v6 = IpAddressFamily::Ipv6;
        assert!(family_fits("127.0.0.1".parse().unwrap(), v4));
        assert!(!family_fits("::1".parse().unwrap(), v4));
        assert!(family_fits("::1".parse().unwrap(), v6));
        assert!(family_fits("::".parse().unwrap(), v6));
        assert!(family_fits("2001:db8::1".parse().unwrap(), v6));
        assert!(!family_fits("127.0.0.1".parse().unwrap(), v6));
        // IPv4-mapped and the deprecated IPv4-compatible forms are refused.
        assert!(!family_fits("::ffff:127.0.0.1".parse().unwrap(), v6));
        assert!(!family_fits("::127.0.0.1".parse().unwrap(), v6));
    }

    #[test]
    fn a_peer_needs_a_port_and_a_real_address() {
        assert!(valid_remote("127.0.0.1:123".parse().unwrap()));
        assert!(!valid_remote("127.0.0.1:0".parse().unwrap()));
        assert!(!valid_remote("0.0.0.0:123".parse().unwrap()));
        assert!(!valid_remote("[::]:123".parse().unwrap()));
        assert!(!valid_remote("[::ffff:0.0.0.0]:123".parse().unwrap()));
    }

    #[test]
    fn buffer_sizes_are_hints_but_zero_is_refused() {
        assert!(set_buffer_size(0, |_| Ok(())).is_err());
        let mut asked = 0;
        set_buffer_size(u64::MAX, |v| {
            asked = v;
            Ok(())
        })
        .unwrap();
        assert_eq!(asked, i32::MAX as usize);
        assert!(set_buffer_size(4096, |_| Err(Errno::NOBUFS)).is_ok());
        assert!(set_buffer_size(4096, |_| Err(Errno::PERM)).is_err());
    }
}
