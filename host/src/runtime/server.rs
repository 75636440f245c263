//! A server component running on its own tokio task.

use super::StopHandle;
use anyhow::Result;

/// A server component running on a tokio task; `T` is its typed outcome.
pub struct ServerHandle<T> {
    pub(super) stop: Option<StopHandle>,
    pub(super) task: tokio::task::JoinHandle<Result<T>>,
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
