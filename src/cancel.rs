//! Cancellation: one token per operation, shared by whoever may want it to stop.
//!
//! A [`Cancel`] is cheap to clone and safe to share between threads. The MCP server gives
//! each tool call its own token and cancels it on `notifications/cancelled` or when its
//! input ends; the docker runner watches the token of the operation it serves and kills its
//! child when the token is cancelled (as it does when a deadline passes). The CLI's token is
//! never cancelled by anyone but a signal. This module owns no process and no thread: it only
//! carries the flag and wakes whoever waits on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A flag that, once set, stays set; waiters are woken at once.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Ask the operation to stop. Idempotent.
    pub fn cancel(&self) {
        let _guard = self.0.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.wake.notify_all();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Sleep up to `timeout`, returning early (with `true`) if the token is cancelled.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let guard = self.0.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_cancelled() {
            return true;
        }
        let _ = self
            .0
            .wake
            .wait_timeout_while(guard, timeout, |_| !self.is_cancelled());
        self.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_wakes_a_waiter_and_stays_set() {
        let token = Cancel::new();
        let other = token.clone();
        let waiter = std::thread::spawn(move || other.wait_timeout(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        token.cancel();
        assert!(waiter.join().unwrap());
        assert!(token.is_cancelled());
        assert!(token.wait_timeout(Duration::from_secs(30)));
    }

    #[test]
    fn an_uncancelled_wait_times_out() {
        assert!(!Cancel::new().wait_timeout(Duration::from_millis(5)));
    }
}
