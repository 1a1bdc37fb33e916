//! Template rendering: any template text (both placeholder styles, any Jinja) renders or is
//! refused with an error naming the template, never a panic, and within a bounded amount of
//! work and output (the fuel and the size cap), whatever loops it holds.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use stackwiz::template::{self, Text, Vars};

fuzz_target!(|input: (String, String, Option<u16>)| {
    let (body, name, port) = input;
    let vars = Vars {
        name: "app".into(),
        service_name: name.chars().take(40).collect(),
        kind: "generic".into(),
        domain: "app.localhost".into(),
        image: Some("nginx:alpine".into()),
        port,
        host_port: None,
        network: "traefik_proxy".into(),
        entrypoint: "websecure".into(),
        certresolver: "cf".into(),
    };
    let text = Text {
        origin: "/fuzz/x-template.yml".into(),
        path: None,
        body: Cow::Owned(body),
    };
    match template::render(&text, &vars) {
        Ok(out) => assert!(out.len() <= 1 << 20, "rendered past the size cap"),
        Err(e) => {
            let e = e.to_string();
            assert!(e.starts_with("template /fuzz/x-template.yml"), "{e}");
        }
    }
});
