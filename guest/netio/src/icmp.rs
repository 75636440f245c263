//! ICMP echo through netkit's `netkit:icmp/echo` capability (feature `icmp`):
//! the import is only in components that enable it, since a host without the
//! capability cannot instantiate them.

mod bindings {
    wit_bindgen::generate!({
        world: "icmp-client",
        path: "../../wit",
        with: {
            "wasi:io/poll@0.2.12": wasip2::io::poll,
            "wasi:sockets/network@0.2.12": wasip2::sockets::network,
            "netkit:icmp/echo@0.1.0": generate,
        },
    });
}

pub use bindings::netkit::icmp::echo;
pub use echo::{EchoEvent, EchoReply, EchoRequest, EchoSocket, ErrorCode, IcmpMessage};

use crate::{Deadline, wait};
use std::net::IpAddr;
use wasip2::sockets::network::IpAddress;

/// An address as wasi:sockets writes it.
pub fn wasi_ip(ip: IpAddr) -> IpAddress {
    match ip {
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

/// An address from wasi:sockets.
pub fn std_ip(ip: IpAddress) -> IpAddr {
    match ip {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
    }
}

/// Open an echo socket for `ip`.
pub fn open(ip: IpAddr) -> Result<EchoSocket, ErrorCode> {
    echo::open(wasi_ip(ip))
}

/// Wait until `socket` has events or the monotonic clock reaches `until_ns`;
/// `true` if events are ready.
pub fn wait_events(socket: &EchoSocket, until_ns: Option<u64>) -> bool {
    let ready = socket.subscribe();
    let deadline = until_ns.map(Deadline::at);
    !wait(&[&ready], deadline.as_ref()).indices.is_empty()
}

/// One line on an error code.
pub fn describe(e: &ErrorCode) -> String {
    let icmp = |what: &str, m: &IcmpMessage| {
        format!(
            "{what} from {} (type {}, code {})",
            std_ip(m.from),
            m.type_,
            m.code
        )
    };
    match e {
        ErrorCode::AccessDenied => "no grant covers ICMP echo to this address".into(),
        ErrorCode::NotPermitted(t) => t.clone(),
        ErrorCode::InvalidArgument(t) => t.clone(),
        ErrorCode::LimitReached(t) => t.clone(),
        ErrorCode::WouldBlock => "the send buffer is full".into(),
        ErrorCode::Timeout => "no reply before the timeout".into(),
        ErrorCode::DestinationUnreachable(m) => icmp("destination unreachable", m),
        ErrorCode::TimeExceeded(m) => icmp("time exceeded", m),
        ErrorCode::OtherIcmp(m) => icmp("ICMP error", m),
        ErrorCode::Other(t) => t.clone(),
    }
}
