//! How much `netkit watch` does at once, and the file descriptors and
//! instances that takes: scheduled runs and `/probe` runs have separate
//! reservations, so no number of clients can take the schedule's.

use crate::cache::CompileCache;
use crate::runtime::Host;

/// Sockets one run of a built-in probe may hold (sntp 1, tcp 1, dns 2, echo 1).
pub const BUILTIN_SOCKETS: usize = 4;
/// Memory (all memories and tables) one run of a built-in probe may use: its
/// guest needs about 1 MiB; the total of concurrent runs is bounded by this
/// (and a component's `max_memory`) times the runs the limits allow.
pub const BUILTIN_MEMORY: usize = 32 << 20;
/// Sockets one run of a custom component probe may hold.
pub const COMPONENT_SOCKETS: usize = 16;
/// File descriptors kept for everything else (logs, the listener, the
/// compile cache, tokio, components being read).
const SPARE_FDS: u64 = 128;

/// The concurrency limits of `netkit watch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Scheduled runs at once (their own instance and socket reservation).
    pub scheduled_runs: usize,
    /// `/probe` runs at once, over all modules; past it, 503.
    pub probe_runs: usize,
    /// `/probe` runs of one module at once unless its `probe_concurrency` says otherwise.
    pub module_runs: usize,
    /// HTTP connections open at once; past it a new one is closed at once.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            scheduled_runs: 256,
            probe_runs: 64,
            module_runs: 16,
            connections: 1024,
        }
    }
}

impl Limits {
    /// Component instances the pool must hold: both reservations.
    pub fn instances(&self) -> u32 {
        (self.scheduled_runs + self.probe_runs) as u32
    }

    /// File descriptors the runs may hold at most.
    pub fn run_fds(&self) -> u64 {
        ((self.scheduled_runs + self.probe_runs) * COMPONENT_SOCKETS) as u64
    }

    /// Check the limits against `fd_limit` (the soft `RLIMIT_NOFILE` after
    /// raising it): runs' sockets, connections and the spare must fit, or the
    /// error says which flag to lower.
    pub fn check_fds(&self, fd_limit: u64) -> Result<(), String> {
        let need = self.run_fds() + self.connections as u64 + SPARE_FDS;
        if need > fd_limit {
            return Err(format!(
                "the limits need up to {need} file descriptors ({} runs x {COMPONENT_SOCKETS} sockets, {} connections, {SPARE_FDS} spare) but the open-file limit is {fd_limit}: lower --web.max-connections, --scheduled-concurrency or --probe-concurrency, or raise the hard limit (ulimit -Hn)",
                self.scheduled_runs + self.probe_runs,
                self.connections
            ));
        }
        Ok(())
    }

    /// The wasmtime host for these limits: a pooling allocator that holds
    /// exactly the runs both reservations allow.
    pub fn host(&self, cache: Option<CompileCache>) -> anyhow::Result<Host> {
        Host::with_pool(cache, Some(self.instances()))
    }
}

/// Raise the soft open-file limit to the hard one (as Prometheus does) and
/// return the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut lim = getrlimit(Resource::Nofile);
    if let Some(hard) = lim.maximum
        && lim.current != Some(hard)
    {
        lim.current = Some(hard);
        let _ = setrlimit(Resource::Nofile, lim);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Give memory the allocator holds but no longer uses back to the system
/// (glibc keeps freed memory in per-thread arenas: after a flood of /probe
/// runs and reloads on many threads, resident memory otherwise stays near its
/// peak). Called after each reload and every few seconds.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has
    // no preconditions and returns whether memory was released.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_must_fit_the_fd_limit() {
        let l = Limits::default();
        assert!(l.check_fds(1 << 20).is_ok());
        let e = l.check_fds(1024).unwrap_err();
        assert!(e.contains("--web.max-connections"), "{e}");
        assert_eq!(l.instances(), 320);
    }
}
