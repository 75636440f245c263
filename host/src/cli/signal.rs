//! Stopping servers on Ctrl-C or SIGTERM, written once for every server command.

use anyhow::{Result, bail};
use netkit::runtime::ServerHandle;

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Wait for `server` to end on its own, or stop it cleanly on the first signal
/// (a second one aborts).
pub async fn serve_until_signal<T>(label: &str, mut server: ServerHandle<T>) -> Result<T> {
    tokio::select! {
        done = server.wait() => done,
        () = shutdown() => {
            eprintln!("netkit: stopping {label} (press Ctrl-C again to abort)");
            tokio::select! {
                done = server.stop() => done,
                () = shutdown() => bail!("aborted before {label} stopped"),
            }
        }
    }
}
