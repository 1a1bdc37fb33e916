//! Cancellation: one token per operation, shared by whoever may want it to stop.
//!
//! A [`Cancel`] is cheap to clone and safe to share between threads. The MCP server gives
//! each tool call its own token and cancels it on `notifications/cancelled` or when its
//! input ends; the docker runner watches the token of the operation it serves and kills its
//! child when the token is cancelled (as it does when a deadline passes). The CLI's token is
//! never cancelled by anyone but a signal. This module owns no process and no thread: it only
//! carries the flag and wakes whoever waits on it, on its condition variable
//! ([`Cancel::wait_timeout`]) or through an fd a `poll` loop can wait on ([`Cancel::watch`]).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use rustix::event::{eventfd, EventfdFlags};

/// A flag that, once set, stays set; waiters are woken at once.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
    /// The eventfds of the live [`Watch`]es, signalled by [`Cancel::cancel`].
    watchers: Mutex<Vec<Weak<OwnedFd>>>,
}

/// An fd that becomes readable once its token is cancelled: the docker runner waits in one
/// `poll` on its child's pipes and on this, so a cancel wakes it at once (no polling).
#[derive(Debug)]
pub struct Watch {
    fd: Arc<OwnedFd>,
}

impl AsFd for Watch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn signal(fd: &OwnedFd) {
    // An eventfd counter only grows; a failed write (it cannot fail short of a full
    // counter) still leaves it readable.
    let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
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
        let watchers = self.0.watchers.lock().unwrap_or_else(|p| p.into_inner());
        for fd in watchers.iter().filter_map(Weak::upgrade) {
            signal(&fd);
        }
    }

    /// An fd for a `poll` loop: readable once the token is cancelled (at once if it already
    /// is). Dropping the [`Watch`] unregisters it.
    pub fn watch(&self) -> std::io::Result<Watch> {
        let fd = Arc::new(eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?);
        {
            let mut watchers = self.0.watchers.lock().unwrap_or_else(|p| p.into_inner());
            watchers.retain(|w| w.strong_count() > 0);
            watchers.push(Arc::downgrade(&fd));
        }
        // A cancel between the push and here signals twice, which is harmless.
        if self.is_cancelled() {
            signal(&fd);
        }
        Ok(Watch { fd })
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
    fn a_watch_fd_turns_readable_on_cancel_only() {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let token = Cancel::new();
        let watch = token.watch().unwrap();
        let readable = |w: &Watch| {
            let mut fds = [PollFd::new(w, PollFlags::IN)];
            poll(&mut fds, Some(&Timespec::default())).unwrap() == 1
        };
        assert!(!readable(&watch));
        token.clone().cancel();
        assert!(readable(&watch));
        // A watch taken after the cancel is readable at once; dropped ones are forgotten.
        drop(watch);
        assert!(readable(&token.watch().unwrap()));
        assert_eq!(
            token
                .0
                .watchers
                .lock()
                .unwrap()
                .iter()
                .filter(|w| w.strong_count() > 0)
                .count(),
            0
        );
    }

    #[test]
    fn an_uncancelled_wait_times_out() {
        assert!(!Cancel::new().wait_timeout(Duration::from_millis(5)));
    }
}
