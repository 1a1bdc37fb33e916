//! Next steps as data. The core says *what* to do next (start this stack, create that
//! record); each face says it in its own words: the command line as a command a person can
//! paste (`cli::next`), the MCP server as a tool call with its argument names (`mcp::next`).
//! Nothing here may spell a CLI flag or a tool name.
//!
//! A leaf module (serde and std only), so that `error` and the low-level modules
//! (`cloudflare`, `docker`) can name a next step without depending on the operations.
//!
//! [`Hint`] is advice in words both faces share, with next steps as data inside it. `Display`
//! of [`Next`] and [`Hint`] is for people, so it is the command line's (given by `cli::next`);
//! an agent gets [`Hint::say`] with the MCP face. In a report's JSON a step is written by
//! the face that serializes it: serde gives a `Serialize` impl no context, so each face lends
//! its words for the span of one serialization ([`in_words_of`]); outside one, serializing a
//! step is an error rather than a guess.

use std::cell::Cell;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// One thing the user (or agent) can do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// See the stacks there are.
    List,
    /// See a stack's state and containers.
    Status { name: String },
    /// Start (or recreate) a stack.
    Start { name: String },
    /// Remove a stack, with these options.
    Remove {
        name: String,
        purge: bool,
        volumes: bool,
        keep_dns: bool,
    },
    /// The create a dry run previewed (or one to try again).
    Create(Box<CreateAgain>),
    /// See the DNS records of a name.
    DnsList { name: String },
    /// Create a DNS record.
    DnsCreate(Box<DnsRecord>),
    /// Change fields of a DNS record (only those given).
    DnsUpdate(Box<DnsRecord>),
    /// Delete the DNS records of a name: only `stack`'s when given; `force` also others'.
    DnsDelete {
        name: String,
        record_type: Option<String>,
        stack: Option<String>,
        force: bool,
    },
    /// Check the set-up.
    Doctor,
    /// Check the set-up and create what is missing (the base dir, the network).
    DoctorFix,
    /// Create the base dir and the templates folder.
    Init,
    /// Show the effective settings and where each came from.
    Config,
    /// The step again, already agreed to (the user confirmed; no question asked).
    Confirmed(Box<Next>),
}

/// The request of [`Next::Create`]. Environment values may be secrets: only their keys are
/// kept, and the step asks for the values again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateAgain {
    pub name: String,
    pub kind: String,
    pub image: Option<String>,
    pub port: Option<u32>,
    pub host_port: Option<u32>,
    pub domain: Option<String>,
    pub env_keys: Vec<String>,
    pub dns: bool,
    pub start: bool,
}

/// The record of [`Next::DnsCreate`] and [`Next::DnsUpdate`]: `name` and the fields given
/// (`comment`, `stack` and `update` only for a create).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: String,
    pub record_type: Option<String>,
    pub value: Option<String>,
    pub proxied: Option<bool>,
    pub ttl: Option<u32>,
    pub comment: Option<String>,
    pub stack: Option<String>,
    /// Replace a different record of that name and type.
    pub update: bool,
}

/// How a face says next steps.
pub trait Face {
    /// One step, as it reads inside a sentence.
    fn step(&self, next: &Next) -> String;
    /// Steps to take one after the other.
    fn in_order(&self, steps: &[Next]) -> String;
    /// One step in a report's JSON.
    fn step_json(&self, next: &Next) -> Value;
}

/// Advice: words both faces share, with next steps (as data) where the advice names one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hint(Vec<Piece>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Steps(Vec<Next>),
}

impl Hint {
    /// A hint that is only the step itself.
    pub fn step(next: Next) -> Hint {
        Hint(vec![Piece::Steps(vec![next])])
    }

    /// These words, then `next`.
    pub fn then(mut self, next: Next) -> Hint {
        self.0.push(Piece::Steps(vec![next]));
        self
    }

    /// These words, then `steps` to take in order.
    pub fn then_all(mut self, steps: Vec<Next>) -> Hint {
        self.0.push(Piece::Steps(steps));
        self
    }

    /// These words, then `text`.
    pub fn text(mut self, text: impl Into<String>) -> Hint {
        self.0.push(Piece::Text(text.into()));
        self
    }

    /// These words, then `other`'s.
    pub fn and(mut self, other: Hint) -> Hint {
        self.0.extend(other.0);
        self
    }

    /// The whole hint in `face`'s words.
    pub fn say(&self, face: &dyn Face) -> String {
        self.0
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.clone(),
                Piece::Steps(steps) => face.in_order(steps),
            })
            .collect()
    }

    /// Every step the hint names, in order (for tests and faces that list them).
    pub fn steps(&self) -> impl Iterator<Item = &Next> {
        self.0.iter().flat_map(|piece| match piece {
            Piece::Steps(steps) => steps.as_slice(),
            Piece::Text(_) => &[],
        })
    }
}

impl From<String> for Hint {
    fn from(text: String) -> Hint {
        Hint(vec![Piece::Text(text)])
    }
}

impl From<&str> for Hint {
    fn from(text: &str) -> Hint {
        Hint::from(text.to_string())
    }
}

thread_local! {
    static FACE: Cell<Option<&'static dyn Face>> = const { Cell::new(None) };
}

/// Run `f` (a serialization) with the next steps and hints it meets said in `face`'s words.
pub fn in_words_of<T>(face: &'static dyn Face, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<&'static dyn Face>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FACE.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(FACE.with(|c| c.replace(Some(face))));
    f()
}

fn face<E: serde::ser::Error>() -> Result<&'static dyn Face, E> {
    FACE.with(Cell::get)
        .ok_or_else(|| E::custom("a next step is serialized only in a face's words (in_words_of)"))
}

impl Serialize for Next {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        face::<S::Error>()?.step_json(self).serialize(s)
    }
}

impl Serialize for Hint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.say(face::<S::Error>()?))
    }
}

#[cfg(test)]
impl Next {
    /// One example of every kind of step, and more where options change the words: what
    /// the faces' tests render. The match makes a new variant add its example here.
    pub fn examples() -> Vec<Next> {
        let name = || "web".to_string();
        let all = vec![
            Next::List,
            Next::Status { name: name() },
            Next::Start { name: name() },
            Next::Remove {
                name: name(),
                purge: false,
                volumes: false,
                keep_dns: false,
            },
            Next::Remove {
                name: name(),
                purge: true,
                volumes: true,
                keep_dns: true,
            },
            Next::Create(Box::new(CreateAgain {
                name: name(),
                kind: "generic".into(),
                ..CreateAgain::default()
            })),
            Next::Create(Box::new(CreateAgain {
                name: name(),
                kind: "standalone".into(),
                image: Some("nginx:alpine".into()),
                port: Some(80),
                host_port: Some(8080),
                domain: Some("web.example.com".into()),
                env_keys: vec!["A_KEY".into(), "B".into()],
                dns: true,
                start: true,
            })),
            Next::DnsList {
                name: "app.example.com".into(),
            },
            Next::DnsCreate(Box::new(DnsRecord {
                name: "app.example.com".into(),
                stack: Some("app".into()),
                ..DnsRecord::default()
            })),
            Next::DnsCreate(Box::new(DnsRecord {
                name: "app".into(),
                record_type: Some("TXT".into()),
                value: Some("it's \"quoted\" $HOME".into()),
                proxied: Some(false),
                ttl: Some(300),
                comment: Some("a note".into()),
                stack: None,
                update: true,
            })),
            Next::DnsUpdate(Box::new(DnsRecord {
                name: "app.example.com".into(),
                record_type: Some("A".into()),
                value: Some("AUTO".into()),
                ..DnsRecord::default()
            })),
            Next::DnsUpdate(Box::new(DnsRecord {
                name: "app".into(),
                proxied: Some(true),
                ttl: Some(1),
                ..DnsRecord::default()
            })),
            Next::DnsDelete {
                name: "app.example.com".into(),
                record_type: Some("CNAME".into()),
                stack: None,
                force: false,
            },
            Next::DnsDelete {
                name: "app.example.com".into(),
                record_type: None,
                stack: Some("app".into()),
                force: false,
            },
            Next::DnsDelete {
                name: "app".into(),
                record_type: None,
                stack: None,
                force: true,
            },
            Next::Doctor,
            Next::DoctorFix,
            Next::Init,
            Next::Config,
            Next::Confirmed(Box::new(Next::Remove {
                name: name(),
                purge: true,
                volumes: false,
                keep_dns: false,
            })),
            Next::Confirmed(Box::new(Next::DnsDelete {
                name: "app.example.com".into(),
                record_type: None,
                stack: Some("app".into()),
                force: false,
            })),
        ];
        // Every variant has an example: adding one fails to compile until it is listed.
        let mut seen = [false; 14];
        for next in &all {
            seen[match next {
                Next::List => 0,
                Next::Status { .. } => 1,
                Next::Start { .. } => 2,
                Next::Remove { .. } => 3,
                Next::Create(_) => 4,
                Next::DnsList { .. } => 5,
                Next::DnsCreate(_) => 6,
                Next::DnsUpdate(_) => 7,
                Next::DnsDelete { .. } => 8,
                Next::Doctor => 9,
                Next::DoctorFix => 10,
                Next::Init => 11,
                Next::Config => 12,
                Next::Confirmed(_) => 13,
            }] = true;
        }
        assert!(seen.iter().all(|s| *s), "a Next variant has no example");
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;
    impl Face for Plain {
        fn step(&self, next: &Next) -> String {
            format!("<{next:?}>")
        }
        fn in_order(&self, steps: &[Next]) -> String {
            steps
                .iter()
                .map(|s| self.step(s))
                .collect::<Vec<_>>()
                .join(" then ")
        }
        fn step_json(&self, next: &Next) -> Value {
            Value::String(self.step(next))
        }
    }

    #[test]
    fn a_hint_is_said_piece_by_piece_in_the_face_words() {
        let hint = Hint::from("remove it first: ")
            .then(Next::List)
            .text("; or ")
            .then_all(vec![Next::Doctor, Next::Init]);
        assert_eq!(
            hint.say(&Plain),
            "remove it first: <List>; or <Doctor> then <Init>"
        );
        assert_eq!(hint.steps().count(), 3);
    }

    #[test]
    fn steps_serialize_only_in_a_face_words() {
        assert!(serde_json::to_value(Next::List).is_err());
        static PLAIN: Plain = Plain;
        let v = in_words_of(&PLAIN, || {
            serde_json::to_value(Hint::step(Next::List)).unwrap()
        });
        assert_eq!(v, "<List>");
        // The face is lent for that span only.
        assert!(serde_json::to_value(Hint::step(Next::List)).is_err());
    }
}
