//! The wasmtime host: engine, linker, compile cache, and stores built from a sandbox.

use super::{Limits, Sandbox, ServerHandle, State, StopHandle, unconstrained};
use crate::cache::{CompileCache, Origin};
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::{AsyncStdinStream, AsyncStdoutStream};

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Component instances the pooling allocator holds unless told otherwise.
pub const DEFAULT_POOL_INSTANCES: u32 = 256;

/// The most bytes one `get-random-bytes` (or insecure) call may ask for.
pub const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// Bytes of guest output buffered on their way to netkit's stdout or stderr.
const STDIO_BUFFER: usize = 64 * 1024;

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
        Self::with_cache(CompileCache::from_env())
    }

    /// Like [`Host::new`] with an explicit compile cache (`None`: always compile).
    pub fn with_cache(cache: Option<CompileCache>) -> Result<Self> {
        Self::with_options(cache, false)
    }

    /// Like [`Host::with_cache`]; `pooling` preallocates instance slots (the
    /// pooling allocator), which makes many short-lived instances cheaper. Off by default.
    pub fn with_options(cache: Option<CompileCache>, pooling: bool) -> Result<Self> {
        Self::with_pool(cache, pooling.then_some(DEFAULT_POOL_INSTANCES))
    }

    /// Like [`Host::with_cache`] with the pooling allocator sized for
    /// `instances` component instances at once (`None`: no pooling). Past that
    /// an instantiation fails; `netkit watch` sizes it from its concurrency limits.
    pub fn with_pool(cache: Option<CompileCache>, instances: Option<u32>) -> Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        // No .eh_frame for guest code: it only serves outside unwinders (gdb,
        // perf), and registering it with libgcc cost every run a walk over
        // every guest function when loading, and again when unloading.
        config.native_unwind_info(false);
        // Running a compiled component needs no compiler: cranelift is set up
        // only when something is compiled (`cache::compile`), not on every run
        // that finds its component in the compile cache (Engine::new took
        // ~0.1 ms of `netkit sntp`, now ~0.03).
        config.enable_compiler(false);
        if let Some(instances) = instances {
            let mut pool = wasmtime::PoolingAllocationConfig::default();
            pool.total_component_instances(instances)
                .total_core_instances(instances.saturating_mul(4))
                .total_memories(instances.saturating_mul(2))
                .total_tables(instances.saturating_mul(2))
                .max_memory_size(256 << 20)
                // Reset a finished instance's memory in place instead of
                // unmapping it, so the next instance in the slot takes no page
                // faults (~207 -> ~171 µs per embedded SNTP query when it came
                // in). Up to 256 KiB stays resident, which covers the whole
                // memory of the SNTP client (64 KiB stack, ~60 KiB data, heap).
                // Which pages to reset the kernel says (PAGEMAP_SCAN, Linux 6.7+;
                // elsewhere everything kept is rewritten): the DNS and TCP
                // probes touch more than that, and rewriting or re-faulting all
                // of it cost them ~35 µs a probe (DNS 88 -> 51-55 µs, TCP connect
                // 91 -> 59-63 µs, SNTP unchanged; bench embedded probes, twice).
                // Keeping 2 MiB resident measured the same, at 8x the memory.
                .linear_memory_keep_resident(256 << 10)
                .table_keep_resident(64 << 10)
                .pagemap_scan(wasmtime::Enabled::Auto);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        crate::dns::add_to_linker(&mut linker)?;
        crate::net::add_to_linker(&mut linker)?;
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
                crate::cache::compile(&self.engine, bytes)?,
                Origin::Compiled,
            )),
        }
    }

    /// The built-in component `builtin`, from the compile cache or compiled
    /// (its digest is known: the component is not hashed again).
    pub fn builtin(&self, builtin: crate::components::Builtin) -> Result<Component> {
        let bytes = builtin.bytes();
        Ok(match &self.cache {
            Some(cache) => {
                cache
                    .load_digested(&self.engine, bytes, builtin.digest())?
                    .0
            }
            None => crate::cache::compile(&self.engine, bytes)?,
        })
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
        b.args(sandbox.args());
        if sandbox.discard_output() {
            b.stdout(wasmtime_wasi::p2::pipe::SinkOutputStream)
                .stderr(wasmtime_wasi::p2::pipe::SinkOutputStream);
        } else if sandbox.deadline().is_some() {
            // wasmtime-wasi's inherited stdout writes synchronously: a guest writing
            // to a pipe nobody reads would block its thread past any deadline. These
            // write from a task of their own, so the guest only waits, and can be
            // stopped. (Without a deadline there is nothing to hold, and the
            // synchronous streams cost nothing per store.)
            if sandbox.stdout_to_stderr() {
                b.stdout(AsyncStdoutStream::new(STDIO_BUFFER, tokio::io::stderr()));
            } else {
                b.stdout(AsyncStdoutStream::new(STDIO_BUFFER, tokio::io::stdout()));
            }
            b.stderr(AsyncStdoutStream::new(STDIO_BUFFER, tokio::io::stderr()));
        } else {
            if sandbox.stdout_to_stderr() {
                b.stdout(std::io::stderr());
            } else {
                b.inherit_stdout();
            }
            b.inherit_stderr();
        }
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
        // TCP and UDP stay on even with no grant for them: netkit's address check
        // then denies and records every attempt, which wasmtime-wasi's switch would
        // refuse silently. Sockets are capped (`crate::net`), lookups scoped (`crate::dns`).
        b.allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(false)
            // One get-random-bytes call is one host call that never yields:
            // wasmtime-wasi's default cap of 64 MiB let one call run ~300 ms
            // past every deadline and beside every other guest on the thread.
            // 1 MiB takes ~6 ms; a bigger request traps with the cap named.
            .max_random_size(MAX_RANDOM_BYTES);
        let policy = sandbox.policy_arc().clone();
        let audit = sandbox.audit().clone();
        b.socket_addr_check(move |addr, use_| {
            let allowed = audit.check(&policy, addr, use_);
            Box::pin(async move { allowed })
        });
        let state = State::new(
            b.build(),
            Limits::new(sandbox.max_memory()),
            sandbox.policy_arc().clone(),
            sandbox.audit().clone(),
            sandbox.max_sockets(),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| s.limits_mut());
        // Every epoch tick the guest yields to the executor, so a busy guest shares
        // its thread with every other; at each yield the deadline is checked.
        let deadline = sandbox
            .deadline()
            .and_then(|d| std::time::Instant::now().checked_add(d));
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if deadline.is_some_and(|t| std::time::Instant::now() >= t) {
                return Err(wasmtime::Trap::Interrupt.into());
            }
            // tokio's yield_now, not wasmtime's own yield: it lets the runtime poll
            // its I/O driver before the guest runs again, so a guest waiting on a
            // socket beside a spinning one is woken within a tick, not ~60 ticks.
            Ok(wasmtime::UpdateDeadline::YieldCustom(
                1,
                Box::pin(tokio::task::yield_now()),
            ))
        });
        (store, stop)
    }
}
