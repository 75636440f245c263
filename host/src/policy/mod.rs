//! Network grants: parsed once from text, matched by one pure function, deny by default.
//!
//! A grant reads `KIND://HOST:PORT`:
//!
//! | kind          | lets the guest                                             |
//! |---------------|------------------------------------------------------------|
//! | `tcp-connect` | connect to HOST:PORT (and make the implicit wildcard bind)  |
//! | `tcp-listen`  | bind and listen on HOST:PORT                                |
//! | `tcp-accept`  | accept clients whose address is in HOST:PORT                |
//! | `udp`         | send datagrams to and receive them from HOST:PORT (and make the implicit wildcard bind) |
//! | `udp-bind`    | bind a UDP socket on HOST:PORT                              |
//! | `icmp`        | send ICMP echo requests to HOST (written `icmp://HOST`, no port) |
//!
//! HOST is an IP (`127.0.0.1`, `[::1]`), a CIDR (`127.0.0.0/8`, `[::1/128]`) or a
//! name (resolved by the host before the guest starts). PORT is a number, a range
//! `a-b`, or `*` for any.
//!
//! Pure: names are resolved through a [`Resolver`] passed in, and only a
//! [`ResolvedPolicy`] goes into a sandbox.
//!
//! ```
//! use netkit::policy::{Grant, Policy, Resolver};
//! use wasmtime_wasi::sockets::SocketAddrUse;
//!
//! struct NoNames;
//! impl Resolver for NoNames {
//!     fn lookup(&self, name: &str) -> Result<Vec<std::net::IpAddr>, String> {
//!         Err(format!("{name}: no names here"))
//!     }
//! }
//! let grants = vec!["tcp-connect://127.0.0.1:7007".parse::<Grant>().unwrap()];
//! let policy = Policy::new(grants).resolve(&NoNames).unwrap();
//! assert!(policy.check("127.0.0.1:7007".parse().unwrap(), SocketAddrUse::TcpConnect).is_some());
//! assert!(policy.check("127.0.0.1:7008".parse().unwrap(), SocketAddrUse::TcpConnect).is_none());
//! ```

mod grant;
mod hostname;
mod resolve;
mod resolved;

pub use grant::{Grant, GrantError, GrantKind, HostPattern, PortRange};
pub use hostname::{NameError, host_name, ip_literal, unbracket};
pub use resolve::{Policy, ResolveError, Resolver};
pub use resolved::{NameTable, NetGrant, ResolvedPolicy};

use wasmtime_wasi::sockets::SocketAddrUse;

/// The operation name used in messages and the audit, e.g. `tcp-connect`.
pub fn use_name(use_: SocketAddrUse) -> &'static str {
    match use_ {
        SocketAddrUse::TcpBind => "tcp-bind",
        SocketAddrUse::TcpListen => "tcp-listen",
        SocketAddrUse::TcpAccept => "tcp-accept",
        SocketAddrUse::TcpConnect => "tcp-connect",
        SocketAddrUse::UdpBind => "udp-bind",
        SocketAddrUse::UdpSend => "udp-send",
        SocketAddrUse::UdpReceive => "udp-receive",
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
