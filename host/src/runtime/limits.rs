//! The store's resource limiter: wasmtime's limits, plus a record of what it refused,
//! so that running out of memory is known from the limiter, never from a message.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// Limits of one store, and whether a memory growth was refused.
pub struct Limits {
    inner: StoreLimits,
    refused_memory: bool,
}

impl Limits {
    /// Linear memory capped at `max_memory` bytes; growing past it traps.
    pub fn new(max_memory: usize) -> Self {
        Self {
            inner: StoreLimitsBuilder::new()
                .memory_size(max_memory)
                .instances(16)
                .trap_on_grow_failure(true)
                .build(),
            refused_memory: false,
        }
    }

    /// Whether a memory growth was refused (the guest then trapped).
    pub fn refused_memory(&self) -> bool {
        self.refused_memory
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let verdict = self.inner.memory_growing(current, desired, maximum);
        if !matches!(verdict, Ok(true)) {
            self.refused_memory = true;
        }
        verdict
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}
