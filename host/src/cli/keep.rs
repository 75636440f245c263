//! What a command loaded is left for the process exit to free.
//!
//! Unloading a component (unmapping its code, freeing its types) and the engine
//! and linker (a few hundred host functions) cost `netkit sntp` ~0.2 ms of ~2.7
//! at the end of every run, and buys nothing: the kernel frees all of it at
//! once when the process exits. Only the engine, linker and compiled
//! components are kept; stores (a guest's memory, sockets, streams) are still
//! dropped as soon as their call ends, so nothing a guest holds outlives it.

use netkit::runtime::Host;
use std::sync::Mutex;
use wasmtime::component::Component;

static KEPT: Mutex<Vec<(Host, Component)>> = Mutex::new(Vec::new());

/// Keep `host` and `component` alive until the process exits.
pub fn until_exit(host: &Host, component: &Component) {
    if let Ok(mut kept) = KEPT.lock() {
        kept.push((host.clone(), component.clone()));
    }
}
