//! netkit's ICMP echo capability, `netkit:icmp/echo` (`wit/deps/netkit-icmp.wit`):
//! what WASI 0.2 lacks, given to a component without a raw socket. Every socket
//! is opened for one destination that an `icmp://` grant covers (checked and
//! audited; a denied destination gets no socket and nothing is sent), every
//! request is audited, sockets count against the instance's socket cap, and
//! only replies that match a request reach the guest.

mod flight;
mod socket;
mod wire;

pub use socket::{EchoError, EchoSocket};

use super::GuestNet;
use socket::Request;
use std::net::IpAddr;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::bindings::sockets::network::IpAddress;
use wasmtime_wasi_io::poll::{DynPollable, Pollable, subscribe};

/// The generated bindings of `netkit:icmp/echo` (the ping driver's bindings reuse them).
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/icmp-client",
        imports: { default: trappable },
        require_store_data_send: true,
        with: {
            "wasi:io/poll": wasmtime_wasi_io::bindings::wasi::io::poll,
            "wasi:sockets/network": wasmtime_wasi::p2::bindings::sockets::network,
            "netkit:icmp/echo.echo-socket": super::EchoSocket,
        },
    });
}

use bindings::netkit::icmp::echo::{
    self, EchoEvent, EchoReply, EchoRequest, ErrorCode, IcmpMessage,
};

/// At most this many events per `receive`.
const MAX_RECEIVE: usize = 256;

fn ip(a: IpAddress) -> IpAddr {
    match a {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
    }
}

fn wasi_ip(a: IpAddr) -> IpAddress {
    match a {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.segments();
            IpAddress::Ipv6((a, b, c, d, e, f, g, h))
        }
    }
}

/// Why `ip` cannot be an echo destination at all (whatever the grants say).
fn not_unicast(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Some("the unspecified address"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        IpAddr::V4(v4) if v4.is_multicast() => Some("a multicast address"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("a multicast address"),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            Some("an IPv4-mapped IPv6 address (use the IPv4 address)")
        }
        _ => None,
    }
}

impl From<EchoError> for ErrorCode {
    fn from(e: EchoError) -> Self {
        match e {
            EchoError::NotPermitted(t) => ErrorCode::NotPermitted(t),
            EchoError::InvalidArgument(t) => ErrorCode::InvalidArgument(t),
            EchoError::LimitReached(t) => ErrorCode::LimitReached(t),
            EchoError::WouldBlock => ErrorCode::WouldBlock,
            EchoError::Other(t) => ErrorCode::Other(t),
        }
    }
}

fn event(e: flight::Event) -> EchoEvent {
    let outcome = match e.outcome {
        flight::Outcome::Reply {
            source,
            size,
            hop_limit,
            rtt_ns,
            duplicate,
        } => Ok(EchoReply {
            source: wasi_ip(source),
            size,
            hop_limit,
            rtt_ns,
            duplicate,
        }),
        flight::Outcome::Timeout => Err(ErrorCode::Timeout),
        flight::Outcome::Icmp {
            kind,
            from,
            icmp_type,
            code,
        } => {
            let m = IcmpMessage {
                from: wasi_ip(from),
                type_: icmp_type,
                code,
            };
            Err(match kind {
                wire::IcmpKind::Unreachable => ErrorCode::DestinationUnreachable(m),
                wire::IcmpKind::TimeExceeded => ErrorCode::TimeExceeded(m),
                wire::IcmpKind::Other => ErrorCode::OtherIcmp(m),
            })
        }
    };
    EchoEvent {
        sequence: e.sequence,
        outcome,
    }
}

impl echo::Host for GuestNet<'_> {
    fn open(
        &mut self,
        destination: IpAddress,
    ) -> wasmtime::Result<Result<Resource<EchoSocket>, ErrorCode>> {
        let dest = ip(destination);
        if let Some(what) = not_unicast(dest) {
            self.audit.record_icmp(dest, None);
            return Ok(Err(ErrorCode::InvalidArgument(format!(
                "{dest} is {what}: ICMP echo goes to one unicast address"
            ))));
        }
        if !self.audit.check_icmp(self.policy, dest) {
            return Ok(Err(ErrorCode::AccessDenied));
        }
        if self.admit("icmp-socket").is_err() {
            return Ok(Err(ErrorCode::LimitReached(format!(
                "{} sockets held, the cap",
                self.held.max
            ))));
        }
        let socket = match EchoSocket::open(dest) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e.into())),
        };
        let socket = self.sockets.table.push(socket)?;
        self.held.reps.push(socket.rep());
        Ok(Ok(socket))
    }
}

impl echo::HostEchoSocket for GuestNet<'_> {
    fn destination(&mut self, this: Resource<EchoSocket>) -> wasmtime::Result<IpAddress> {
        Ok(wasi_ip(self.sockets.table.get(&this)?.destination()))
    }

    fn send(
        &mut self,
        this: Resource<EchoSocket>,
        request: EchoRequest,
    ) -> wasmtime::Result<Result<(), ErrorCode>> {
        let dest = self.sockets.table.get(&this)?.destination();
        // Checked again for every request: the audit shows each one, and a host
        // whose grants change under a socket would still never send a denied one.
        if !self.audit.check_icmp(self.policy, dest) {
            return Ok(Err(ErrorCode::AccessDenied));
        }
        let socket = self.sockets.table.get_mut(&this)?;
        Ok(socket
            .send(&Request {
                sequence: request.sequence,
                payload: &request.payload,
                hop_limit: request.hop_limit,
                dont_fragment: request.dont_fragment,
                timeout_ns: request.timeout_ns,
            })
            .map_err(ErrorCode::from))
    }

    fn receive(
        &mut self,
        this: Resource<EchoSocket>,
        max: u32,
    ) -> wasmtime::Result<Vec<EchoEvent>> {
        let socket = self.sockets.table.get_mut(&this)?;
        let max = (max as usize).min(MAX_RECEIVE);
        Ok(socket.take(max).into_iter().map(event).collect())
    }

    fn subscribe(&mut self, this: Resource<EchoSocket>) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(self.sockets.table, this)
    }

    fn in_flight(&mut self, this: Resource<EchoSocket>) -> wasmtime::Result<u32> {
        Ok(self.sockets.table.get(&this)?.in_flight() as u32)
    }

    fn drop(&mut self, this: Resource<EchoSocket>) -> wasmtime::Result<()> {
        self.sockets.table.delete(this)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Pollable for EchoSocket {
    async fn ready(&mut self) {
        EchoSocket::ready(self).await
    }
}

/// Link `netkit:icmp/echo` into `linker`.
pub fn add_to_linker<T: super::GuestNetView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    echo::add_to_linker::<T, super::HasGuestNet>(linker, T::guest_net)
}
