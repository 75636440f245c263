//! Name-scoped `wasi:sockets/ip-name-lookup`: a guest may resolve only the names that
//! appear in its grants, and gets exactly the addresses those grants were resolved to.
//!
//! wasmtime-wasi's lookup is all-or-nothing and bypasses the address check (wasmtime
//! issues #12713, #7694). netkit resolves the granted names on the host before the
//! guest starts; this implementation answers from that table, refuses every other
//! name with `access-denied`, and records every lookup in the audit.

use crate::runtime::State;
use std::collections::BTreeMap;
use std::net::IpAddr;
use wasmtime::component::{HasSelf, Linker, Resource};
use wasmtime_wasi::p2::SocketError;
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddress, Network};
use wasmtime_wasi::sockets::WasiSocketsView;
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

/// Granted names and the addresses each resolved to (lower-case names).
pub type NameTable = BTreeMap<String, Vec<IpAddr>>;

/// The answer to one lookup: addresses handed out one by one.
pub struct ScopedLookup(std::vec::IntoIter<IpAddr>);

#[async_trait::async_trait]
impl Pollable for ScopedLookup {
    async fn ready(&mut self) {
        // The answer is known before the guest asks: always ready.
    }
}

impl Host for State {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> Result<Resource<ScopedLookup>, SocketError> {
        // The network handle is the capability to look up at all.
        self.table.get(&network)?;
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
            Some(addrs) => Ok(self.table.push(ScopedLookup(addrs.into_iter()))?),
            None => Err(ErrorCode::AccessDenied.into()),
        }
    }
}

impl HostResolveAddressStream for State {
    fn resolve_next_address(
        &mut self,
        lookup: Resource<ScopedLookup>,
    ) -> Result<Option<IpAddress>, SocketError> {
        Ok(self.table.get_mut(&lookup)?.0.next().map(IpAddress::from))
    }

    fn subscribe(
        &mut self,
        lookup: Resource<ScopedLookup>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(&mut self.table, lookup)
    }

    fn drop(&mut self, lookup: Resource<ScopedLookup>) -> wasmtime::Result<()> {
        self.table.delete(lookup)?;
        Ok(())
    }
}

// The lookup interface uses `network`'s error type; its conversions are wasmtime-wasi's.
impl wasmtime_wasi::p2::bindings::sockets::network::Host for State {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        self.sockets().convert_error_code(error)
    }

    fn network_error_code(
        &mut self,
        err: Resource<wasmtime::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        self.sockets().network_error_code(err)
    }
}

impl wasmtime_wasi::p2::bindings::sockets::network::HostNetwork for State {
    fn drop(&mut self, this: Resource<Network>) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::bindings::sockets::network::HostNetwork::drop(&mut self.sockets(), this)
    }
}

/// Replace wasmtime-wasi's `ip-name-lookup` in `linker` with the scoped one.
pub fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    bindings::wasi::sockets::ip_name_lookup::add_to_linker::<State, HasSelf<State>>(linker, |s| s)?;
    linker.allow_shadowing(false);
    Ok(())
}
