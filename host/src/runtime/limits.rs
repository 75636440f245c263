//! One memory budget per sandbox: every linear memory and every table of every
//! instance counts against one total, and the limiter records what it refused,
//! so that running out of memory is known from here, never from a message.
//!
//! wasmtime's own `StoreLimits::memory_size` caps each memory on its own, and
//! tables not at all unless asked; with multi-memory one module can declare many
//! memories (and `wasmtime run -W max-memory-size` has the same hole).

use wasmtime::ResourceLimiter;

/// Bytes a table element takes in wasmtime (a pointer; see `ResourceLimiter::table_growing`).
pub const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

/// Core instances a sandbox may create (a component of netkit's has a handful).
pub const MAX_INSTANCES: usize = 64;
/// Linear memories a sandbox may create.
pub const MAX_MEMORIES: usize = 64;
/// Tables a sandbox may create.
pub const MAX_TABLES: usize = 256;

/// What the limiter refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// A memory (`true`) or a table (`false`).
    pub memory: bool,
    /// The bytes that growth asked for on top of what was in use.
    pub asked: usize,
    /// The bytes in use then.
    pub used: usize,
}

/// The budget of one store.
pub struct Limits {
    cap: usize,
    used: usize,
    /// The last growth allowed, undone if wasmtime then fails it.
    pending: usize,
    refused: Option<Refusal>,
}

impl Limits {
    /// A budget of `cap` bytes over all memories and tables.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            used: 0,
            pending: 0,
            refused: None,
        }
    }

    /// The cap in bytes.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes in use over all memories and tables.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The first growth refused, if any (the guest then trapped or failed to instantiate).
    pub fn refused(&self) -> Option<Refusal> {
        self.refused
    }

    fn grow(&mut self, memory: bool, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let asked = desired.saturating_sub(current);
        match self.used.checked_add(asked) {
            Some(total) if total <= self.cap => {
                self.used = total;
                self.pending = asked;
                Ok(true)
            }
            _ => {
                self.refused.get_or_insert(Refusal {
                    memory,
                    asked,
                    used: self.used,
                });
                // An error (not `false`) traps the guest, and fails an instantiation.
                Err(wasmtime::Error::msg(format!(
                    "the sandbox's memory budget of {} bytes is spent",
                    self.cap
                )))
            }
        }
    }

    fn undo(&mut self) {
        self.used = self.used.saturating_sub(self.pending);
        self.pending = 0;
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(true, current, desired)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.undo();
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let bytes = |n: usize| n.saturating_mul(TABLE_ELEMENT_BYTES);
        self.grow(false, bytes(current), bytes(desired))
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.undo();
        Ok(())
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_share_one_total() {
        let mut l = Limits::new(16 << 20);
        assert!(l.memory_growing(0, 10 << 20, None).unwrap());
        assert!(l.memory_growing(0, 6 << 20, None).unwrap());
        assert!(l.memory_growing(0, 64 << 10, None).is_err());
        assert_eq!(l.refused().map(|r| r.memory), Some(true));
    }

    #[test]
    fn tables_count_in_bytes() {
        let mut l = Limits::new(1 << 20);
        let elements = (1 << 20) / TABLE_ELEMENT_BYTES;
        assert!(l.table_growing(0, elements, None).unwrap());
        assert!(l.table_growing(elements, elements + 1, None).is_err());
        assert_eq!(l.refused().map(|r| r.memory), Some(false));
    }

    #[test]
    fn a_failed_growth_gives_its_bytes_back() {
        let mut l = Limits::new(1 << 20);
        assert!(l.memory_growing(0, 1 << 20, None).unwrap());
        l.memory_grow_failed(wasmtime::Error::msg("os said no"))
            .unwrap();
        assert_eq!(l.used(), 0);
    }

    #[test]
    fn huge_requests_do_not_wrap() {
        let mut l = Limits::new(usize::MAX - 1);
        assert!(l.memory_growing(0, usize::MAX - 1, None).unwrap());
        assert!(l.table_growing(0, usize::MAX, None).is_err());
    }
}
