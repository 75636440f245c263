//! Per-store state: the WASI context, its resources, the limits, and what the
//! scoped name lookup may answer. Its fields are private; host interfaces reach
//! them through views ([`WasiView`], [`ScopedDnsView`]).

use super::Limits;
use crate::audit::Audit;
use crate::dns::{ScopedDns, ScopedDnsView};
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
}

impl State {
    pub(super) fn new(
        wasi: WasiCtx,
        limits: Limits,
        policy: Arc<ResolvedPolicy>,
        audit: Arc<Audit>,
    ) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            limits,
            policy,
            audit,
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

impl ScopedDnsView for State {
    fn scoped_dns(&mut self) -> ScopedDns<'_> {
        ScopedDns {
            sockets: WasiSocketsCtxView {
                ctx: self.wasi.sockets(),
                table: &mut self.table,
            },
            names: self.policy.names(),
            audit: &self.audit,
        }
    }
}
