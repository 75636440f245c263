//! The wasmtime side: one [`Host`] (engine, linker, compile cache) and stores
//! built from a [`Sandbox`] (what one guest instance may do).

mod driver;
mod host;
mod limits;
mod sandbox;
mod server;
mod state;

pub use driver::Driver;
pub use host::Host;
pub use limits::Limits;
pub use sandbox::{DEFAULT_MAX_MEMORY, Sandbox, StopHandle};
pub use server::ServerHandle;
pub use state::State;

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
