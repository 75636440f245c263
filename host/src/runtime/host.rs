//! The wasmtime host: engine, linker, compile cache, and stores built from a sandbox.

use super::{Limits, Sandbox, ServerHandle, State, StopHandle, unconstrained};
use crate::cache::{CompileCache, Origin};
use crate::policy::use_name;
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::AsyncStdinStream;

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The wasmtime host: one engine, linker and compile cache, shared by every
/// component and store.
#[derive(Clone)]
pub struct Host {
    engine: Engine,
    linker: Arc<Linker<State>>,
    cache: Option<CompileCache>,
}

impl Host {
    /// An engine with the component model, epoch interruption and a linker with
    /// WASI 0.2; compiled components are cached in [`CompileCache::default_dir`].
    pub fn new() -> Result<Self> {
        Self::with_cache(CompileCache::default_dir().map(CompileCache::new))
    }

    /// Like [`Host::new`] with an explicit compile cache (`None`: always compile).
    pub fn with_cache(cache: Option<CompileCache>) -> Result<Self> {
        Self::with_options(cache, false)
    }

    /// Like [`Host::with_cache`]; `pooling` preallocates instance slots (the
    /// pooling allocator), which makes many short-lived instances cheaper. Off by default.
    pub fn with_options(cache: Option<CompileCache>, pooling: bool) -> Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        if pooling {
            let mut pool = wasmtime::PoolingAllocationConfig::default();
            pool.total_component_instances(256)
                .total_core_instances(1024)
                .total_memories(512)
                .total_tables(512)
                .max_memory_size(256 << 20)
                // Reset a finished instance's memory by rewriting it in place
                // instead of unmapping it, so the next instance in the slot
                // takes no page faults (~207 -> ~171 µs per embedded SNTP
                // query). Up to 256 KiB is rewritten, which covers the whole
                // memory of the SNTP client (64 KiB stack, ~60 KiB data, heap);
                // for memories this small, rewriting them outright is ~1 µs
                // cheaper than asking the kernel which pages were touched
                // (PAGEMAP_SCAN, one ioctl per memory and table).
                .linear_memory_keep_resident(256 << 10)
                .table_keep_resident(64 << 10)
                .pagemap_scan(wasmtime::Enabled::No);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        crate::dns::add_to_linker(&mut linker)?;
        // The epoch ticker stops by itself once the engine is gone.
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("netkit-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .context("cannot start the epoch ticker thread")?;
        Ok(Self {
            engine,
            linker: Arc::new(linker),
            cache,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker.
    pub fn linker(&self) -> &Linker<State> {
        &self.linker
    }

    /// Compile a component from its bytes, or load it from the compile cache.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component> {
        Ok(self.load(bytes)?.0)
    }

    /// Like [`Host::compile`], also saying whether the cache was used.
    pub fn load(&self, bytes: &[u8]) -> Result<(Component, Origin)> {
        match &self.cache {
            Some(cache) => cache.load(&self.engine, bytes),
            None => Ok((
                Component::new(&self.engine, bytes)
                    .map_err(anyhow::Error::from)
                    .context("not a valid WebAssembly component")?,
                Origin::Compiled,
            )),
        }
    }

    /// The compile cache, if any.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.cache.as_ref()
    }

    /// Run `serve` on a tokio task with a store for `sandbox` whose stdin is a stop
    /// pipe: [`ServerHandle::stop`] closes it, which asks the guest to stop cleanly.
    pub fn spawn_server<T, F, Fut>(&self, sandbox: &Sandbox, serve: F) -> ServerHandle<T>
    where
        T: Send + 'static,
        F: FnOnce(Host, Store<State>) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let mut sandbox = sandbox.clone();
        sandbox.set_stop_pipe(true);
        let (store, stop) = self.store(&sandbox);
        let task = tokio::spawn(unconstrained(serve(self.clone(), store)));
        ServerHandle { stop, task }
    }

    /// A store whose WASI context enforces `sandbox`, and the handle that stops it (if asked for).
    pub fn store(&self, sandbox: &Sandbox) -> (Store<State>, Option<StopHandle>) {
        let mut b = WasiCtxBuilder::new();
        b.args(sandbox.args()).inherit_stdout().inherit_stderr();
        let stop = if sandbox.stop_pipe() {
            let (writer, reader) = tokio::io::duplex(64);
            b.stdin(AsyncStdinStream::new(reader));
            Some(StopHandle(writer))
        } else {
            if sandbox.inherit_stdin() {
                b.inherit_stdin();
            }
            None
        };
        b.allow_tcp(sandbox.policy().uses_tcp())
            .allow_udp(sandbox.policy().uses_udp())
            .allow_ip_name_lookup(false);
        let policy = sandbox.policy_arc().clone();
        let audit = sandbox.audit().clone();
        b.socket_addr_check(move |addr, use_| {
            let grant = policy.check(addr, use_);
            let allowed = grant.is_some();
            audit.record_check(use_name(use_), addr, grant);
            Box::pin(async move { allowed })
        });
        let state = State::new(
            b.build(),
            Limits::new(sandbox.max_memory()),
            sandbox.policy_arc().clone(),
            sandbox.audit().clone(),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| s.limits_mut());
        // "No deadline" is a deadline centuries away: the epoch is added to it, so not u64::MAX.
        let ticks = sandbox.deadline().map_or(u64::MAX / 4, |d| {
            (d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
        });
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        (store, stop)
    }
}
