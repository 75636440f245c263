//! One typed driver for every diagnostic's component: compiled and linked
//! once (`InstancePre`), the indices of its typed exports looked up once, and
//! a fresh instance in its own store under a [`Sandbox`] for each call. The
//! drivers (`DnsClient`, `HttpProber`, `TlsProber`, `Prober`, `SntpClient`,
//! `Pinger`) are this with their export's call.

use super::{Host, Sandbox, State};
use anyhow::Result;
use wasmtime::Store;
use wasmtime::component::{Component, Instance, InstancePre};

/// A component ready to instantiate, with `E`: its typed exports' indices.
pub struct Driver<E> {
    host: Host,
    pre: InstancePre<State>,
    exports: E,
}

impl<E> Driver<E> {
    /// Link `component` against `host`'s linker and look up its exports with
    /// `exports` (the bindings' `GuestIndices::new`): a component without
    /// them is refused here, not at the first call.
    pub fn load(
        host: &Host,
        component: &Component,
        exports: impl FnOnce(&InstancePre<State>) -> wasmtime::Result<E>,
    ) -> Result<Self> {
        let pre = host
            .linker()
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)?;
        let exports = exports(&pre).map_err(anyhow::Error::from)?;
        Ok(Self {
            host: host.clone(),
            pre,
            exports,
        })
    }

    /// The exports' indices (load one into an instance with its `load`).
    pub fn exports(&self) -> &E {
        &self.exports
    }

    /// A fresh store under `sandbox` and an instance in it. Call it inside
    /// [`super::unconstrained`], with the export's call.
    pub async fn instantiate(&self, sandbox: &Sandbox) -> Result<(Store<State>, Instance)> {
        let (mut store, _) = self.host.store(sandbox);
        let instance = self.pre.instantiate_async(&mut store).await?;
        Ok((store, instance))
    }
}
