//! Per-store state: the WASI context, its resources, the limits, and what the
//! scoped name lookup may answer. Its fields are private; host interfaces reach
//! them through views ([`WasiView`], [`ScopedDnsView`]).

use super::Limits;
use crate::audit::Audit;
use crate::net::{GuestNet, GuestNetView, SocketCount};
use crate::policy::ResolvedPolicy;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The data of every store netkit makes.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limits,
    policy: Arc<ResolvedPolicy>,
    audit: Arc<Audit>,
    sockets: SocketCount,
}

impl State {
    pub(super) fn new(
        wasi: WasiCtx,
        limits: Limits,
        policy: Arc<ResolvedPolicy>,
        audit: Arc<Audit>,
        max_sockets: usize,
    ) -> Self {
        let mut table = ResourceTable::new();
        // Each socket brings a few more entries (streams, pollables, futures); this
        // bounds what a guest can hold even through handles that are not sockets.
        table.set_max_capacity(max_sockets.saturating_mul(16).saturating_add(4096));
        Self {
            wasi,
            table,
            limits,
            policy,
            audit,
            sockets: SocketCount::new(max_sockets),
        }
    }

    /// The limiter (what it refused).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(super) fn limits_mut(&mut self) -> &mut Limits {
        &mut self.limits
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl GuestNetView for State {
    fn guest_net(&mut self) -> GuestNet<'_> {
        GuestNet {
            sockets: WasiSocketsCtxView {
                ctx: self.wasi.sockets(),
                table: &mut self.table,
            },
            names: self.policy.names(),
            policy: &self.policy,
            audit: &self.audit,
            held: &mut self.sockets,
        }
    }
}
