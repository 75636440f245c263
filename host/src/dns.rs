//! Names: the system resolver netkit uses for grants and arguments, and the
//! name-scoped `wasi:sockets/ip-name-lookup` a guest gets: it may resolve only
//! the names in its grants, and gets exactly the addresses those resolved to.
//!
//! wasmtime-wasi's lookup is all-or-nothing and bypasses the address check (wasmtime
//! issues #12713, #7694). netkit resolves the granted names on the host before the
//! guest starts; this implementation answers from that table, refuses every other
//! name with `access-denied`, and records every lookup in the audit. Like
//! wasmtime-wasi's own interfaces it is implemented for a small view
//! ([`ScopedDns`]) linked through a [`HasData`] marker, not for the store's state.

use crate::audit::Audit;
use crate::policy::{NameTable, Resolver};
use std::net::{IpAddr, ToSocketAddrs};
use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::p2::SocketError;
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddress, Network};
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use wasmtime_wasi_io::poll::{DynPollable, Pollable, subscribe};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/scoped-dns",
        imports: { default: trappable },
        require_store_data_send: true,
        trappable_error_type: {
            "wasi:sockets/network.error-code" => wasmtime_wasi::p2::SocketError,
        },
        with: {
            "wasi:io/poll": wasmtime_wasi_io::bindings::wasi::io::poll,
            "wasi:sockets/network": wasmtime_wasi::p2::bindings::sockets::network,
            "wasi:sockets/ip-name-lookup.resolve-address-stream": super::ScopedLookup,
        },
    });
}

use bindings::wasi::sockets::ip_name_lookup::{Host, HostResolveAddressStream};

/// The operating system's resolver (`getaddrinfo`), for names in grants and arguments.
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        let mut out: Vec<IpAddr> = Vec::new();
        for a in (name, 0).to_socket_addrs().map_err(|e| e.to_string())? {
            if !out.contains(&a.ip()) {
                out.push(a.ip());
            }
        }
        if out.is_empty() {
            return Err(format!("{name:?} has no addresses"));
        }
        Ok(out)
    }
}

/// What the scoped lookup needs of a store: its sockets context and resource
/// table, the names it may answer, and the audit.
pub struct ScopedDns<'a> {
    /// The store's sockets context (for the network handle and error codes).
    pub sockets: WasiSocketsCtxView<'a>,
    /// Names the guest may look up.
    pub names: &'a NameTable,
    /// Where lookups are recorded.
    pub audit: &'a Audit,
}

/// A store state that can lend a [`ScopedDns`] view.
pub trait ScopedDnsView: Send {
    /// The view.
    fn scoped_dns(&mut self) -> ScopedDns<'_>;
}

/// The [`HasData`] marker linking the lookup to [`ScopedDns`].
pub struct HasScopedDns;

impl HasData for HasScopedDns {
    type Data<'a> = ScopedDns<'a>;
}

/// The answer to one lookup: addresses handed out one by one.
pub struct ScopedLookup(std::vec::IntoIter<IpAddr>);

#[async_trait::async_trait]
impl Pollable for ScopedLookup {
    async fn ready(&mut self) {
        // The answer is known before the guest asks: always ready.
    }
}

impl Host for ScopedDns<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> Result<Resource<ScopedLookup>, SocketError> {
        // The network handle is the capability to look up at all.
        self.sockets.table.get(&network)?;
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        let answer = match key
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            // An IP literal reveals nothing and reaches nobody: hand it back.
            Ok(ip) => Some(vec![ip]),
            Err(_) => self.names.get(&key).cloned(),
        };
        let grant = answer.as_ref().map(|a| {
            let list: Vec<String> = a.iter().map(|ip| ip.to_string()).collect();
            format!("name in grants -> {}", list.join(", "))
        });
        self.audit.record("lookup", name, grant);
        match answer {
            Some(addrs) => Ok(self.sockets.table.push(ScopedLookup(addrs.into_iter()))?),
            None => Err(ErrorCode::AccessDenied.into()),
        }
    }
}

impl HostResolveAddressStream for ScopedDns<'_> {
    fn resolve_next_address(
        &mut self,
        lookup: Resource<ScopedLookup>,
    ) -> Result<Option<IpAddress>, SocketError> {
        Ok(self
            .sockets
            .table
            .get_mut(&lookup)?
            .0
            .next()
            .map(IpAddress::from))
    }

    fn subscribe(
        &mut self,
        lookup: Resource<ScopedLookup>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(self.sockets.table, lookup)
    }

    fn drop(&mut self, lookup: Resource<ScopedLookup>) -> wasmtime::Result<()> {
        self.sockets.table.delete(lookup)?;
        Ok(())
    }
}

// The lookup interface uses `network`'s error type; its conversions are wasmtime-wasi's.
impl wasmtime_wasi::p2::bindings::sockets::network::Host for ScopedDns<'_> {
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

impl wasmtime_wasi::p2::bindings::sockets::network::HostNetwork for ScopedDns<'_> {
    fn drop(&mut self, this: Resource<Network>) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::bindings::sockets::network::HostNetwork::drop(&mut self.sockets, this)
    }
}

/// Replace wasmtime-wasi's `ip-name-lookup` in `linker` with the scoped one.
pub fn add_to_linker<T: ScopedDnsView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = bindings::wasi::sockets::ip_name_lookup::add_to_linker::<T, HasScopedDns>(
        linker,
        T::scoped_dns,
    );
    linker.allow_shadowing(false);
    result
}
