//! The wasmtime side: one engine and linker, and stores built from a [`Sandbox`].

use crate::audit::Audit;
use crate::cache::{CompileCache, Origin};
use crate::dns::NameTable;
use crate::policy::{Policy, use_name};
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::cli::AsyncStdinStream;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Typed bindings of our components' exports.
pub mod bindings {
    /// The echo server world (generated; documented in `wit/echo.wit`).
    #[allow(missing_docs)]
    pub mod echo_server {
        wasmtime::component::bindgen!({
            path: "../wit",
            world: "netkit:diag/echo-server-component",
            exports: { default: async },
            additional_derives: [serde::Serialize],
            with: { "wasi": wasmtime_wasi::p2::bindings },
        });
    }
    /// The echo client world, sharing the echo types with the server's bindings.
    #[allow(missing_docs)]
    pub mod echo_client {
        wasmtime::component::bindgen!({
            path: "../wit",
            world: "netkit:diag/echo-client-component",
            exports: { default: async },
            additional_derives: [serde::Serialize],
            with: {
                "wasi": wasmtime_wasi::p2::bindings,
                "netkit:diag/echo-types": super::echo_server::netkit::diag::echo_types,
            },
        });
    }
}

/// Typed bindings of the SNTP components' exports.
pub mod sntp_bindings {
    /// The SNTP client world (generated; documented in `wit/sntp.wit`).
    #[allow(missing_docs)]
    pub mod client {
        wasmtime::component::bindgen!({
            path: "../wit",
            world: "netkit:diag/sntp-client-component",
            exports: { default: async },
            additional_derives: [serde::Serialize],
            with: { "wasi": wasmtime_wasi::p2::bindings },
        });
    }
    /// The SNTP server world, sharing the SNTP types with the client's bindings.
    #[allow(missing_docs)]
    pub mod server {
        wasmtime::component::bindgen!({
            path: "../wit",
            world: "netkit:diag/sntp-server-component",
            exports: { default: async },
            additional_derives: [serde::Serialize],
            with: {
                "wasi": wasmtime_wasi::p2::bindings,
                "netkit:diag/sntp-types": super::client::netkit::diag::sntp_types,
            },
        });
    }
}

/// Per-store state: the WASI context, its resources, the memory limits, and what
/// the scoped name lookup may answer.
pub struct State {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    limits: StoreLimits,
    pub(crate) names: Arc<NameTable>,
    pub(crate) audit: Arc<Audit>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Everything one guest instance is allowed: its grants and its resources.
///
/// Defaults: no grants (all network denied), no arguments, no environment, no
/// files, stdin closed, 256 MiB of linear memory, no deadline.
#[derive(Debug, Clone)]
pub struct Sandbox {
    label: String,
    policy: Arc<Policy>,
    audit: Arc<Audit>,
    args: Vec<String>,
    stop_pipe: bool,
    inherit_stdin: bool,
    max_memory: usize,
    deadline: Option<Duration>,
    names: Arc<NameTable>,
}

/// Dropping this closes the guest's stdin, which asks a server to stop cleanly.
pub struct StopHandle(#[allow(dead_code)] tokio::io::DuplexStream);

impl Sandbox {
    /// A sandbox named `label` (used in messages) running under `policy`.
    pub fn new(label: impl Into<String>, policy: Policy) -> Self {
        let label = label.into();
        Self {
            audit: Arc::new(Audit::new(label.clone(), false)),
            label,
            policy: Arc::new(policy),
            args: Vec::new(),
            stop_pipe: false,
            inherit_stdin: false,
            max_memory: 256 << 20,
            deadline: None,
            names: Arc::default(),
        }
    }

    /// Names the guest may resolve, with their addresses (see [`crate::dns`]).
    /// By default none: every lookup of a name is refused.
    pub fn names(&mut self, names: NameTable) -> &mut Self {
        self.names = Arc::new(names);
        self
    }

    /// Let the guest read this process's stdin. By default stdin is closed.
    pub fn inherit_stdin(&mut self, on: bool) -> &mut Self {
        self.inherit_stdin = on;
        self
    }

    /// Stop the guest after this much wall-clock time (a busy loop is interrupted
    /// too, by epoch interruption). By default there is no deadline.
    pub fn deadline(&mut self, deadline: Option<Duration>) -> &mut Self {
        self.deadline = deadline;
        self
    }

    /// The deadline, if any.
    pub fn deadline_limit(&self) -> Option<Duration> {
        self.deadline
    }

    /// The memory cap in bytes.
    pub fn memory_limit(&self) -> usize {
        self.max_memory
    }

    /// The guest's argv (the first is the program name). By default empty.
    pub fn args(&mut self, args: Vec<String>) -> &mut Self {
        self.args = args;
        self
    }

    /// Give stdin a pipe that [`StopHandle`] closes. By default stdin is closed from the start.
    pub fn stop_pipe(&mut self, on: bool) -> &mut Self {
        self.stop_pipe = on;
        self
    }

    /// Cap on the guest's linear memory, in bytes. By default 256 MiB.
    pub fn max_memory(&mut self, bytes: usize) -> &mut Self {
        self.max_memory = bytes;
        self
    }

    /// Record into this audit instead of a fresh one. By default each sandbox has its own.
    pub fn audit(&mut self, audit: Arc<Audit>) -> &mut Self {
        self.audit = audit;
        self
    }

    /// The audit of this sandbox's attempts.
    pub fn audit_log(&self) -> &Arc<Audit> {
        &self.audit
    }

    /// The grants.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The name used in messages.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Run a guest's future outside tokio's cooperative budget.
///
/// A guest is one long tokio task. wasmtime-wasi's synchronous socket calls
/// (`check-write`, `read`) poll tokio with no-op wakers, and once the task's
/// coop budget is spent they report "not ready" for every socket while `poll`
/// keeps saying "ready": the guest spins (wasmtime issue #14174). Exempting
/// the guest's task from the budget removes the livelock.
pub fn unconstrained<F: std::future::Future>(fut: F) -> tokio::task::Unconstrained<F> {
    tokio::task::unconstrained(fut)
}

/// A server component running on a tokio task; `T` is its typed outcome.
pub struct ServerHandle<T> {
    stop: Option<StopHandle>,
    task: tokio::task::JoinHandle<Result<T>>,
}

impl<T> ServerHandle<T> {
    /// Ask the server to stop (closes its stdin) and wait for its outcome.
    pub async fn stop(mut self) -> Result<T> {
        self.stop.take();
        self.task.await?
    }

    /// Wait for the server to finish on its own (an error, or its stop condition).
    pub async fn wait(&mut self) -> Result<T> {
        (&mut self.task).await?
    }
}

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// One engine and linker, shared by every component and store.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    linker: Arc<Linker<State>>,
    cache: Option<CompileCache>,
}

impl Runtime {
    /// An engine with the component model, epoch interruption and a linker with
    /// WASI 0.2; compiled components are cached in [`CompileCache::default_dir`].
    pub fn new() -> Result<Self> {
        Self::with_cache(CompileCache::default_dir().map(CompileCache::new))
    }

    /// Like [`Runtime::new`] with an explicit compile cache (`None`: always compile).
    pub fn with_cache(cache: Option<CompileCache>) -> Result<Self> {
        Self::with_options(cache, false)
    }

    /// Like [`Runtime::with_cache`]; `pooling` preallocates instance slots (the
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

    /// Like [`Runtime::compile`], also saying whether the cache was used.
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
        F: FnOnce(Runtime, Store<State>) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let mut sandbox = sandbox.clone();
        sandbox.stop_pipe(true);
        let (store, stop) = self.store(&sandbox);
        let task = tokio::spawn(unconstrained(serve(self.clone(), store)));
        ServerHandle { stop, task }
    }

    /// A store whose WASI context enforces `sandbox`, and the handle that stops it (if asked for).
    pub fn store(&self, sandbox: &Sandbox) -> (Store<State>, Option<StopHandle>) {
        let mut b = WasiCtxBuilder::new();
        b.args(&sandbox.args).inherit_stdout().inherit_stderr();
        let stop = if sandbox.stop_pipe {
            let (writer, reader) = tokio::io::duplex(64);
            b.stdin(AsyncStdinStream::new(reader));
            Some(StopHandle(writer))
        } else {
            if sandbox.inherit_stdin {
                b.inherit_stdin();
            }
            None
        };
        b.allow_tcp(sandbox.policy.uses_tcp())
            .allow_udp(sandbox.policy.uses_udp())
            .allow_ip_name_lookup(false);
        let policy = sandbox.policy.clone();
        let audit = sandbox.audit.clone();
        b.socket_addr_check(move |addr, use_| {
            let grant = policy.check(addr, use_);
            let allowed = grant.is_some();
            audit.record_check(use_name(use_), addr, grant);
            Box::pin(async move { allowed })
        });
        let state = State {
            wasi: b.build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(sandbox.max_memory)
                .instances(16)
                .trap_on_grow_failure(true)
                .build(),
            names: sandbox.names.clone(),
            audit: sandbox.audit.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        // "No deadline" is a deadline centuries away: the epoch is added to it, so not u64::MAX.
        let ticks = sandbox.deadline.map_or(u64::MAX / 4, |d| {
            (d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
        });
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        (store, stop)
    }
}
