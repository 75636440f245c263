//! Stopping servers on Ctrl-C or SIGTERM, written once for every server command.

use anyhow::{Result, bail};
use netkit::runtime::ServerHandle;

/// The signal that asked netkit to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Stop {
    /// The exit code shells expect after this signal (128 + its number).
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM, saying which.
pub async fn shutdown() -> Stop {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => Stop::Interrupt,
                _ = term.recv() => Stop::Terminate,
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            Stop::Interrupt
        }
    }
}

/// Wait for `server` to end on its own, or stop it cleanly on the first signal
/// (a second one aborts).
pub async fn serve_until_signal<T>(label: &str, mut server: ServerHandle<T>) -> Result<T> {
    tokio::select! {
        done = server.wait() => done,
        _ = shutdown() => {
            eprintln!("netkit: stopping {label} (press Ctrl-C again to abort)");
            tokio::select! {
                done = server.stop() => done,
                _ = shutdown() => bail!("aborted before {label} stopped"),
            }
        }
    }
}
