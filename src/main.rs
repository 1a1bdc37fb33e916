//! The binary: parse the command line, run it, map the outcome to an exit status and one
//! `error:` line (plus a `hint:` line where one helps) on stderr. A closed stdout
//! (`stackwiz logs app | head -1`) is a clean exit, as in ripgrep: the reader has what it
//! wanted. Nothing here panics when stderr is closed.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use stackwiz::cli::{self, Cli};
use stackwiz::error::Error;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.global.json;
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, json);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn report(e: &Error, json: bool) {
    if let Error::Reported(_) = e {
        return;
    }
    let mut text = String::new();
    match e {
        Error::InvalidMany(errors) => errors
            .iter()
            .for_each(|e| text.push_str(&format!("error: {e}\n"))),
        _ => text.push_str(&format!("error: {e}\n")),
    }
    if let Some(hint) = e.hint() {
        text.push_str(&format!("hint: {hint}\n"));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
    if json {
        let body = serde_json::json!({
            "ok": false,
            "error": { "kind": e.kind(), "message": e.to_string(), "hint": e.hint(), "exit_code": e.exit_code() }
        });
        let _ = cli::write_stdout(format!("{body}\n").as_bytes());
    }
}
