//! Signals and the terminal, for the CLI and the MCP server alike.
//!
//! SIGINT and SIGTERM are inputs like any other: a handler thread kills the docker children
//! still running (with their Compose plugins), removes the build folders of creates in
//! progress (they hold `.env` secrets), gives the terminal its echo back if a hidden prompt
//! had turned it off, and exits with 128 + the signal (130, 143). What SIGKILL
//! leaves behind is recognised and swept by the next run (`stack::sweep_abandoned`).

use std::sync::{Mutex, MutexGuard};

use rustix::termios::{self, LocalModes, OptionalActions, Termios};
use signal_hook::consts::{SIGINT, SIGTERM};

/// The terminal state to put back when a signal arrives while echo is off.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

fn saved() -> MutexGuard<'static, Option<Termios>> {
    SAVED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Start the handler thread. Without it (it could not be set up) the signals keep their
/// default action, and what they leave is swept by the next run.
pub fn install() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                crate::docker::stop_all();
                crate::stack::abandon_builds();
                if restore_terminal() {
                    // Not `eprintln!`: the main thread may hold stderr's lock at a prompt.
                    let _ = rustix::io::write(std::io::stderr(), b"\n");
                }
                std::process::exit(128 + signal);
            }
        });
}

/// Put the terminal back as [`EchoOff`] found it; true if it had to.
pub fn restore_terminal() -> bool {
    match saved().take() {
        Some(state) => {
            let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &state);
            true
        }
        None => false,
    }
}

/// The terminal's echo, off on stdin until this is dropped (or a signal arrives). On
/// anything but a terminal it does nothing.
pub struct EchoOff {
    on: bool,
}

impl EchoOff {
    pub fn new() -> EchoOff {
        let stdin = std::io::stdin();
        let Ok(state) = termios::tcgetattr(&stdin) else {
            return EchoOff { on: false };
        };
        let mut quiet = state.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        // Saved before echo goes off: a signal in between restores what is already right.
        *saved() = Some(state);
        let on = termios::tcsetattr(&stdin, OptionalActions::Now, &quiet).is_ok();
        if !on {
            *saved() = None;
        }
        EchoOff { on }
    }

    /// Whether echo was turned off (stdin is a terminal).
    pub fn active(&self) -> bool {
        self.on
    }
}

impl Default for EchoOff {
    fn default() -> EchoOff {
        EchoOff::new()
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if self.on {
            restore_terminal();
        }
    }
}
