//! Graceful shutdown: a flag that flips once, on SIGTERM/SIGINT or when a test asks.

use tokio::sync::watch;

/// A handle that reports when shutdown was requested; cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

impl Shutdown {
    /// A shutdown handle and the sender that triggers it.
    pub fn new() -> (watch::Sender<bool>, Self) {
        let (sender, receiver) = watch::channel(false);
        (sender, Self { receiver })
    }

    /// True once shutdown was requested.
    pub fn is_requested(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Resolves when shutdown is requested (at once if it already was). A dropped sender
    /// counts as a request, so a forgotten handle cannot keep a process alive.
    pub async fn requested(&mut self) {
        let _ = self.receiver.wait_for(|requested| *requested).await;
    }
}

/// A [`Shutdown`] that flips on SIGTERM or SIGINT.
pub fn shutdown_on_signals() -> Shutdown {
    let (sender, shutdown) = Shutdown::new();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; finishing the current cycle");
        let _ = sender.send(true);
    });
    shutdown
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
