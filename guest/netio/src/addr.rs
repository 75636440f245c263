//! Socket addresses between Rust's and WASI's forms.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use wasip2::sockets::network::{
    IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};

/// The WASI address family of `addr`.
pub fn family(addr: SocketAddr) -> IpAddressFamily {
    match addr {
        SocketAddr::V4(_) => IpAddressFamily::Ipv4,
        SocketAddr::V6(_) => IpAddressFamily::Ipv6,
    }
}

/// A socket address in the WASI form.
pub fn to_wasi(addr: SocketAddr) -> IpSocketAddress {
    match addr {
        SocketAddr::V4(a) => {
            let [a0, a1, a2, a3] = a.ip().octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress {
                address: (a0, a1, a2, a3),
                port: a.port(),
            })
        }
        SocketAddr::V6(a) => {
            let s = a.ip().segments();
            IpSocketAddress::Ipv6(Ipv6SocketAddress {
                address: (s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
                port: a.port(),
                flow_info: a.flowinfo(),
                scope_id: a.scope_id(),
            })
        }
    }
}

/// A socket address from the WASI form.
pub fn from_wasi(addr: IpSocketAddress) -> SocketAddr {
    match addr {
        IpSocketAddress::Ipv4(Ipv4SocketAddress { address: a, port }) => {
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a.0, a.1, a.2, a.3), port))
        }
        IpSocketAddress::Ipv6(Ipv6SocketAddress {
            address: a,
            port,
            flow_info,
            scope_id,
        }) => SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::new(a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7),
            port,
            flow_info,
            scope_id,
        )),
    }
}
