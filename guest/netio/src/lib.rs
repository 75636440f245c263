//! The only socket layer of the netkit guests: TCP and UDP over `wasi:sockets`,
//! IPv4 and IPv6, as four types that say what each socket can do:
//!
//! - [`TcpListener`]: bound and listening; accepts [`TcpStream`]s.
//! - [`TcpStream`]: a connection, read and written.
//! - [`UdpSocket`]: bound to a local address; sends to and receives from anyone.
//! - [`UdpStream`]: connected to one peer; the host drops datagrams from anyone else.
//!
//! Every type offers non-blocking calls (`try_*`) and the pollables that say when
//! to retry them; waiting is `wasi:io/poll`, either through the `wstd` reactor
//! (the `async` methods, for clients running many exchanges at once) or in one
//! `poll` call per round of a server loop ([`wait`]). Every failure is a
//! [`NetError`] naming the operation, the address and the WASI error code.

mod addr;
mod error;
#[cfg(feature = "icmp")]
pub mod icmp;
mod resolve;
mod stop;
mod tcp_listener;
mod tcp_stream;
mod udp;
mod wait;

pub use addr::{family, from_wasi, to_wasi};
pub use error::{Cause, NetError, Op};
pub use resolve::resolve;
pub use stop::StopOnEof;
pub use tcp_listener::TcpListener;
pub use tcp_stream::{Read, TcpStream};
pub use udp::{Datagram, Received, UdpSocket, UdpStream};
pub use wait::{Deadline, Ready, wait};
pub use wasip2;
pub use wasip2::sockets::network::ErrorCode;
