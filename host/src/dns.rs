//! Names: the system resolver netkit uses for grants and arguments, and the
//! name-scoped `wasi:sockets/ip-name-lookup` a guest gets: it may resolve only
//! the names in its grants, and gets exactly the addresses those resolved to.
//!
//! wasmtime-wasi's lookup is all-or-nothing and bypasses the address check (wasmtime
//! issues #12713, #7694). netkit resolves the granted names on the host before the
//! guest starts; this implementation answers from that table, refuses every other
//! name with `access-denied`, and records every lookup in the audit. Like
//! wasmtime-wasi's own interfaces it is implemented for a small view
//! ([`GuestNet`]) linked through a `HasData` marker, not for the store's state.

use crate::net::{GuestNet, GuestNetView, HasGuestNet};
use crate::policy::Resolver;
use std::net::{IpAddr, ToSocketAddrs};
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::SocketError;
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddress, Network};
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

/// The answer to one lookup: addresses handed out one by one.
pub struct ScopedLookup(std::vec::IntoIter<IpAddr>);

#[async_trait::async_trait]
impl Pollable for ScopedLookup {
    async fn ready(&mut self) {
        // The answer is known before the guest asks: always ready.
    }
}

impl Host for GuestNet<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> Result<Resource<ScopedLookup>, SocketError> {
        // The network handle is the capability to look up at all.
        self.sockets.table.get(&network)?;
        // No DNS name is longer than 253 bytes: refuse before anything else
        // (the audit keeps a bounded, escaped prefix).
        if name.len() > 253 {
            self.audit.record("lookup", name, None);
            return Err(ErrorCode::InvalidArgument.into());
        }
        // An IP literal (IPv6 in one pair of brackets or none) reveals nothing and
        // reaches nobody: hand it back. Anything else must be a well-formed name;
        // malformed literals (`8.8.8.8....`, `[[[10.0.0.1]`) and number-like
        // names are refused, and audited as refused.
        let answer = match crate::policy::ip_literal(&name) {
            Some(ip) => Some(vec![ip]),
            None => crate::policy::host_name(&name)
                .ok()
                .and_then(|key| self.names.get(&key).cloned()),
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

impl HostResolveAddressStream for GuestNet<'_> {
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

/// Replace wasmtime-wasi's `ip-name-lookup` in `linker` with the scoped one.
pub fn add_to_linker<T: GuestNetView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = bindings::wasi::sockets::ip_name_lookup::add_to_linker::<T, HasGuestNet>(
        linker,
        T::guest_net,
    );
    linker.allow_shadowing(false);
    result
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/host.wit");
