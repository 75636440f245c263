//! The guest's view of the network that netkit implements itself: what the
//! scoped name lookup ([`crate::dns`]) and the capped socket creation (here) need
//! of a store, lent through the [`GuestNet`] view and linked with the
//! [`HasGuestNet`] marker (as wasmtime-wasi does for its own interfaces), never
//! through the store's whole state.
//!
//! Socket creation needs no address check in wasi:sockets, so without a cap a
//! guest holding any grant could open sockets until the process runs out of file
//! descriptors. Sockets it creates and connections it accepts both count; past
//! the cap the guest gets `new-socket-limit` and the audit records the refusal.

mod icmp;
mod udp;

pub use icmp::bindings as icmp_bindings;
pub use icmp::{EchoError, EchoSocket};
pub use udp::{IncomingDatagramStream, OutgoingDatagramStream, UdpSocket};

use crate::audit::Audit;
use crate::policy::{NameTable, ResolvedPolicy};
use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily, Network};
use wasmtime_wasi::p2::bindings::sockets::{tcp, tcp_create_socket};
use wasmtime_wasi::p2::{SocketError, SocketResult, TcpSocket};
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream};

/// The sockets a guest holds, and how many it may.
#[derive(Debug)]
pub struct SocketCount {
    max: usize,
    /// Resource handles of sockets created; pruned of those the guest dropped.
    reps: Vec<u32>,
}

impl SocketCount {
    /// At most `max` sockets at once.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            reps: Vec::new(),
        }
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }
}

/// What netkit's own network interfaces need of a store.
pub struct GuestNet<'a> {
    /// The store's sockets context and resource table.
    pub sockets: WasiSocketsCtxView<'a>,
    /// Names the guest may look up.
    pub names: &'a NameTable,
    /// What the guest may reach (netkit's own UDP checks it; wasmtime-wasi's TCP
    /// checks the same policy through its address-check hook).
    pub policy: &'a ResolvedPolicy,
    /// Where attempts are recorded.
    pub audit: &'a Audit,
    /// The sockets it holds.
    pub held: &'a mut SocketCount,
}

/// A store state that can lend a [`GuestNet`] view.
pub trait GuestNetView: Send {
    /// The view.
    fn guest_net(&mut self) -> GuestNet<'_>;
}

/// The [`HasData`] marker linking netkit's interfaces to [`GuestNet`].
pub struct HasGuestNet;

impl HasData for HasGuestNet {
    type Data<'a> = GuestNet<'a>;
}

impl GuestNet<'_> {
    /// Forget the sockets the guest dropped: keep those still in its table.
    fn prune(&mut self) {
        let table = &*self.sockets.table;
        self.held.reps.sort_unstable();
        self.held.reps.dedup();
        self.held.reps.retain(|&rep| {
            table.get(&Resource::<TcpSocket>::new_borrow(rep)).is_ok()
                || table.get(&Resource::<UdpSocket>::new_borrow(rep)).is_ok()
                || table.get(&Resource::<EchoSocket>::new_borrow(rep)).is_ok()
        });
    }

    /// `Ok` if one more socket fits under the cap; else the refusal, audited.
    fn admit(&mut self, kind: &'static str) -> SocketResult<()> {
        // Pruning walks every handle, so it happens only when the list looks
        // full: never for a guest well under its cap.
        if self.held.reps.len() >= self.held.max {
            self.prune();
        }
        if self.held.reps.len() < self.held.max {
            return Ok(());
        }
        self.audit.record(
            kind,
            format!("new socket ({} held, the cap)", self.held.max),
            None,
        );
        Err(ErrorCode::NewSocketLimit.into())
    }
}

/// What an accept hands the guest: the connection and its two streams.
type Accepted = (
    Resource<TcpSocket>,
    Resource<DynInputStream>,
    Resource<DynOutputStream>,
);

impl GuestNet<'_> {
    /// wasmtime-wasi's accept, counted against the cap. Past it the client is
    /// accepted and closed at once (a reset; left in the backlog it would make
    /// every later accept fail the same way) and the guest gets `new-socket-limit`.
    fn accept(
        &mut self,
        listener: Resource<TcpSocket>,
    ) -> wasmtime::Result<Result<Accepted, ErrorCode>> {
        let over = self.admit("tcp-accept-socket").is_err();
        let accepted = match tcp::HostTcpSocket::accept(&mut self.sockets, listener) {
            Ok(a) => a,
            Err(e) => {
                use wasmtime_wasi::p2::bindings::sockets::network::Host as _;
                return Ok(Err(self.sockets.convert_error_code(e)?));
            }
        };
        if over {
            let (socket, input, output) = accepted;
            // The streams are children of the socket: they go first.
            self.sockets.table.delete(input)?;
            self.sockets.table.delete(output)?;
            self.sockets.table.delete(socket)?;
            return Ok(Err(ErrorCode::NewSocketLimit));
        }
        self.held.reps.push(accepted.0.rep());
        Ok(Ok(accepted))
    }
}

impl tcp_create_socket::Host for GuestNet<'_> {
    fn create_tcp_socket(&mut self, family: IpAddressFamily) -> SocketResult<Resource<TcpSocket>> {
        self.admit("tcp-socket")?;
        let socket = tcp_create_socket::Host::create_tcp_socket(&mut self.sockets, family)?;
        self.held.reps.push(socket.rep());
        Ok(socket)
    }
}

// netkit's interfaces use `network`'s error type; its conversions are wasmtime-wasi's.
impl wasmtime_wasi::p2::bindings::sockets::network::Host for GuestNet<'_> {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        self.sockets.convert_error_code(error)
    }

    fn network_error_code(
        &mut self,
        err: Resource<wasmtime::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        self.sockets.network_error_code(err)
    }
}

impl wasmtime_wasi::p2::bindings::sockets::network::HostNetwork for GuestNet<'_> {
    fn drop(&mut self, this: Resource<Network>) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::bindings::sockets::network::HostNetwork::drop(&mut self.sockets, this)
    }
}

/// Replace wasmtime-wasi's socket creation and accept in `linker` with the
/// capped ones, and its UDP with netkit's own ([`udp`]).
pub fn add_to_linker<T: GuestNetView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = tcp_create_socket::add_to_linker::<T, HasGuestNet>(linker, T::guest_net)
        .and_then(|()| udp::add_to_linker(linker))
        .and_then(|()| icmp::add_to_linker(linker))
        .and_then(|()| {
            linker.instance("wasi:sockets/tcp@0.2.12")?.func_wrap(
                "[method]tcp-socket.accept",
                |mut store: wasmtime::StoreContextMut<'_, T>,
                 (listener,): (Resource<TcpSocket>,)| {
                    Ok((store.data_mut().guest_net().accept(listener)?,))
                },
            )
        });
    linker.allow_shadowing(false);
    result
}
