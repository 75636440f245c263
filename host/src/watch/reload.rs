//! Reloading `netkit watch`'s config: read, checked and compiled on the
//! blocking pool (never on the async threads that serve endpoints and run
//! probes); concurrent requests coalesced, so N reloads asked for at once
//! cost at most two.

use super::{Changes, Watcher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a reload answers: what changed, or why the old config stays.
pub type Outcome = Result<Changes, String>;

/// Reloads of one config file into one watcher.
pub struct Reloader {
    watcher: Arc<Watcher>,
    path: PathBuf,
    /// Reloads started so far (each reads the file when it starts).
    started: AtomicU64,
    /// The last reload finished: its number and outcome.
    last: tokio::sync::Mutex<(u64, Option<Outcome>)>,
}

impl Reloader {
    /// Reloads of `path` into `watcher`.
    pub fn new(watcher: Arc<Watcher>, path: PathBuf) -> Self {
        Self {
            watcher,
            path,
            started: AtomicU64::new(0),
            last: tokio::sync::Mutex::new((0, None)),
        }
    }

    /// The watcher.
    pub fn watcher(&self) -> &Arc<Watcher> {
        &self.watcher
    }

    /// Load the file again and put it in force; a bad config changes nothing.
    /// A request that arrives while a reload runs waits for it and, if that
    /// reload started after the request arrived (so read the file as it is
    /// now), shares its outcome; otherwise it runs one more.
    pub async fn reload(&self) -> Outcome {
        let arrived = self.started.load(Ordering::SeqCst);
        let mut last = self.last.lock().await;
        if last.0 > arrived
            && let Some(outcome) = &last.1
        {
            return outcome.clone();
        }
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let watcher = self.watcher.clone();
        let path = self.path.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let c = super::load_config(&path).map_err(|e| e.to_string())?;
            let changes = watcher.apply(c).map_err(|e| format!("{e:#}"));
            super::limits::release_free_memory();
            changes
        })
        .await
        .unwrap_or_else(|e| Err(format!("the reload failed: {e}")));
        self.watcher.metrics().reloaded(outcome.is_ok());
        *last = (number, Some(outcome.clone()));
        outcome
    }
}
