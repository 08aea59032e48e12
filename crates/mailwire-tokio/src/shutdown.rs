//! [`Shutdown`]: a signal that many tasks can wait for, triggered once.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

/// A shutdown signal shared by clones: once [`trigger`](Shutdown::trigger)ed, every
/// [`triggered`](Shutdown::triggered) future completes, including those created later.
///
/// Give `shutdown.triggered()` to [`serve`](crate::serve) (several listeners can share
/// one signal) or to [`drive`](crate::drive).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use mailwire_tokio::Shutdown;
///
/// let shutdown = Shutdown::new();
/// let waiter = shutdown.triggered();
/// assert!(!shutdown.is_triggered());
/// shutdown.clone().trigger();
/// waiter.await; // completes at once
/// shutdown.triggered().await; // and so does a later one
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        let (sender, _) = watch::channel(false);
        Shutdown {
            sender: Arc::new(sender),
        }
    }

    /// Triggers the signal (again is harmless).
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the signal has been triggered.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// A future that completes once the signal is triggered. It does not borrow `self`,
    /// so it can be moved into a task. If every clone of this `Shutdown` is dropped
    /// without a trigger, it never completes.
    pub fn triggered(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            if receiver.wait_for(|triggered| *triggered).await.is_err() {
                // The sender is gone without a trigger: nothing can trigger it any more.
                std::future::pending::<()>().await;
            }
        }
    }
}
