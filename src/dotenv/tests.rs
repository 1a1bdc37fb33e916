//! The reader against compose-go's own cases: the tables of `dotenv/godotenv_test.go`,
//! `dotenv/parser_test.go`, `dotenv/godotenv_var_expansion_test.go` and the `dotenv/fixtures`
//! files of github.com/compose-spec/compose-go v2.9.1 (the version Compose v2.40 builds
//! with), rewritten as Rust tables. Cases whose value Compose takes from its environment
//! are expected as `FromEnvironment`.

use super::*;
use std::collections::BTreeMap;

fn map(text: &str) -> BTreeMap<String, Value> {
    parse(text)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .into_iter()
        .map(|s| (s.key, s.value))
        .collect()
}

fn exact(text: &str, key: &str) -> String {
    match map(text).remove(key) {
        Some(Value::Exact(v)) => v,
        other => panic!("{text:?}: {key} is {other:?}"),
    }
}

fn error(text: &str) -> ParseError {
    match parse(text) {
        Err(e) => e,
        Ok(s) => panic!("{text:?} parsed as {s:?}"),
    }
}

/// godotenv_test.go `TestParsing`: (input, key, value).
#[test]
fn compose_go_parsing_table() {
    let cases: &[(&str, &str, &str)] = &[
        ("FOO=bar", "FOO", "bar"),
        ("FOO =bar", "FOO", "bar"),
        ("FOO= bar", "FOO", "bar"),
        (r##"FOO="bar""##, "FOO", "bar"),
        ("FOO='bar'", "FOO", "bar"),
        (r##"FOO="escaped\"bar""##, "FOO", r##"escaped"bar"##),
        (r##"FOO="\"quoted\"""##, "FOO", r##""quoted""##),
        (r##"FOO="'d'""##, "FOO", "'d'"),
        ("OPTION_A: 1", "OPTION_A", "1"),
        ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
        ("OPTION_A=1:B", "OPTION_A", "1:B"),
        ("export OPTION_A=2", "OPTION_A", "2"),
        (r"export OPTION_B='\n'", "OPTION_B", r"\n"),
        ("export exportFoo=2", "exportFoo", "2"),
        ("exportFOO=2", "exportFOO", "2"),
        ("export_FOO =2", "export_FOO", "2"),
        ("export.FOO= 2", "export.FOO", "2"),
        ("export\tOPTION_A=2", "OPTION_A", "2"),
        ("  export OPTION_A=2", "OPTION_A", "2"),
        ("\texport OPTION_A=2", "OPTION_A", "2"),
        (r##"export OPTION_A="export A""##, "OPTION_A", "export A"),
        (r##"FOO="bar\nbaz""##, "FOO", "bar\nbaz"),
        (r"FOO=a\tb", "FOO", r"a\tb"),
        (r##"FOO="a\tb""##, "FOO", "a\tb"),
        (
            r##"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""##,
            "KEY",
            "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ",
        ),
        ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
        ("FOO=foobar=", "FOO", "foobar="),
        ("FOO=bar ", "FOO", "bar"),
        ("FOO=bar # this is foo", "FOO", "bar"),
        ("FOO=bar #this is foo", "FOO", "bar"),
        ("FOO=bar #", "FOO", "bar"),
        ("FOO=123#not-an-inline-comment", "FOO", "123#not-an-inline-comment"),
        (r##"FOO="bar#baz""##, "FOO", "bar#baz"),
        (r##"FOO="bar#baz"#"##, "FOO", "bar#baz"),
        (r##"FOO="bar#baz" # comment"##, "FOO", "bar#baz"),
        ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
        (r##"FOO="bar#baz#bang" # comment"##, "FOO", "bar#baz#bang"),
        (r##"FOO="ba#r""##, "FOO", "ba#r"),
        ("FOO='ba#r'", "FOO", "ba#r"),
        (r##"FOO="bar\n\ b\az""##, "FOO", "bar\n\\ b\u{7}z"),
        (r##"FOO="bar\\\n\ b\az""##, "FOO", "bar\\\n\\ b\u{7}z"),
        (r##"FOO="bar\\r\ b\az""##, "FOO", "bar\\r\\ b\u{7}z"),
        (r##"FOO="bar\nbaz\\""##, "FOO", "bar\nbaz\\"),
        (r##"="value""##, "", "value"),
        (" KEY =value", "KEY", "value"),
        ("   KEY=value", "KEY", "value"),
        ("\tKEY=value", "KEY", "value"),
        (r##"KEY="\0123""##, "KEY", "S"),
        (r##"KEY="\x07""##, "KEY", r"\x07"),
        (r##"KEY="\u12e4""##, "KEY", r"\u12e4"),
        (r##"KEY="\U00101234""##, "KEY", r"\U00101234"),
        // TestParse
        ("ONE=1\nTWO='2'\nTHREE = \"3\"", "THREE", "3"),
        // TestVariableStringValueSeparator
        (
            "TEST_URLS=\"stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443\"",
            "TEST_URLS",
            "stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443",
        ),
        // TestExpanding: the cases that do not depend on the environment.
        ("BAR='quote $FOO'", "BAR", "quote $FOO"),
        (r##"FOO="foo\$BAR""##, "FOO", "foo$BAR"),
        (r##"FOO="foo\${BAR}""##, "FOO", "foo${BAR}"),
        // parser_test.go TestParseBytes
        ("a[1]=c", "a[1]", "c"),
        ("a.propertyKey=d", "a.propertyKey", "d"),
    ];
    for (input, key, want) in cases {
        assert_eq!(exact(input, key), *want, "{input:?}");
    }
}

/// godotenv_test.go `TestParsing` ("lol$wut"), `TestUnterminatedQuotes`, `TestErrorParsing`
/// (fixtures/invalid1.env) and parser_test.go `TestParseVariable`.
#[test]
fn compose_go_refusals() {
    assert!(error("lol$wut")
        .message
        .contains("unexpected character `$`"));
    for input in [
        r##"KEY=""##,
        r##"KEY="value"##,
        r##"KEY="value\""##,
        r##"KEY="value'"##,
        "KEY='",
        "KEY='value",
        r"KEY='value\'",
        r##"KEY='value""##,
    ] {
        assert_eq!(
            error(input).message,
            "unterminated quoted value",
            "{input:?}"
        );
    }
    let invalid1 = "# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix";
    assert_eq!(
        error(invalid1),
        ParseError {
            line: 7,
            message: "a key cannot contain a space".into()
        }
    );
    let e = error("%!(EXTRA string)=foo");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("unexpected character `%`"), "{e}");
}

/// godotenv_test.go `TestLinesToIgnore`.
#[test]
fn compose_go_lines_to_ignore() {
    for input in ["\n", "\r\n", "\t\t ", "# Comment", "\t # comment", ""] {
        assert_eq!(parse(input), Ok(vec![]), "{input:?}");
    }
}

/// The fixtures files of compose-go's dotenv package, and the tests that read them.
#[test]
fn compose_go_fixtures() {
    let plain = "OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\n456 = ABC\n\
                 OPTION_F = \nOPTION_G=\nOPTION_H = my string # Inline comment\n";
    let want = [
        ("OPTION_A", "1"),
        ("OPTION_B", "2"),
        ("OPTION_C", "3"),
        ("OPTION_D", "4"),
        ("OPTION_E", "5"),
        ("456", "ABC"),
        ("OPTION_F", ""),
        ("OPTION_G", ""),
        ("OPTION_H", "my string"),
    ];
    let exact_map = |pairs: &[(&str, &str)]| -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Exact(v.to_string())))
            .collect()
    };
    assert_eq!(map(plain), exact_map(&want));
    // utf8-bom.env: the same with a BOM in front.
    assert_eq!(map(&format!("\u{feff}{plain}")), exact_map(&want));

    let quoted = "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\n\
                  OPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\n\
                  OPTION_I = \"echo 'asd'\" # Inline comment\n\
                  OPTION_J = 'first line\nsecond line\nthird line\nand so on'\n\
                  OPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n";
    assert_eq!(
        map(quoted),
        exact_map(&[
            ("OPTION_A", "1"),
            ("OPTION_B", "2"),
            ("OPTION_C", ""),
            ("OPTION_D", "\\n"),
            ("OPTION_E", "1"),
            ("OPTION_F", "2"),
            ("OPTION_G", ""),
            ("OPTION_H", "\n"),
            ("OPTION_I", "echo 'asd'"),
            ("OPTION_J", "first line\nsecond line\nthird line\nand so on"),
            ("OPTION_K", "Let's go!"),
            ("OPTION_Z", "last value"),
        ])
    );

    let exported = "export OPTION_A=2\nexport OPTION_B='\\n'\n";
    assert_eq!(
        map(exported),
        exact_map(&[("OPTION_A", "2"), ("OPTION_B", "\\n")])
    );
    let equals = "export OPTION_A='postgres://localhost:5432/database?sslmode=disable'\n\n";
    assert_eq!(
        exact(equals, "OPTION_A"),
        "postgres://localhost:5432/database?sslmode=disable"
    );
    let unquoted =
        "OPTION_A = \"some quoted phrase\"\nOPTION_B=first one with an unquoted phrase\n\
                    OPTION_C = then another one with an unquoted phrase\n\
                    OPTION_D = then another one with an unquoted phrase special è char\n\
                    OPTION_E = \"then another one quoted phrase\"\n";
    assert_eq!(
        map(unquoted),
        exact_map(&[
            ("OPTION_A", "some quoted phrase"),
            ("OPTION_B", "first one with an unquoted phrase"),
            ("OPTION_C", "then another one with an unquoted phrase"),
            (
                "OPTION_D",
                "then another one with an unquoted phrase special è char"
            ),
            ("OPTION_E", "then another one quoted phrase"),
        ])
    );
    let special = "VAR.WITH.DOTS=dots\nVAR_WITH_UNDERSCORES=underscores\nVAR-WITH-DASHES=dashes\n";
    assert_eq!(
        map(special),
        exact_map(&[
            ("VAR.WITH.DOTS", "dots"),
            ("VAR_WITH_UNDERSCORES", "underscores"),
            ("VAR-WITH-DASHES", "dashes"),
        ])
    );
    // parser_test.go TestMemoryExplosion: 1000 lines, no trailing newline.
    let many: Vec<String> = (0..1000).map(|i| format!("KEY{i}=VALUE{i}")).collect();
    assert_eq!(map(&many.join("\n")).len(), 1000);
}

/// substitutions.env, substitutions-default.env, inherited-*.env, TestExpanding and
/// godotenv_var_expansion_test.go: each of these values comes from the environment Compose
/// runs in (an earlier line is only a fallback: the environment wins), so stackwiz cannot
/// know it and says so.
#[test]
fn compose_go_interpolation_depends_on_the_environment() {
    let substitutions = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\n\
                         OPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n";
    let m = map(substitutions);
    assert_eq!(m["OPTION_A"], Value::Exact("1".into()));
    for k in ["OPTION_B", "OPTION_C", "OPTION_D", "OPTION_E"] {
        assert_eq!(m[k], Value::FromEnvironment, "{k}");
    }
    let defaults = "OPTION_A=${OPTION_A:-1}\nOPTION_B=${OPTION_A}\n";
    assert!(map(defaults).values().all(|v| *v == Value::FromEnvironment));
    let inherited = "foo=bar\nVAR_TO_BE_LOADED_FROM_OS_ENV\nbar=baz\n";
    assert_eq!(
        map(inherited)["VAR_TO_BE_LOADED_FROM_OS_ENV"],
        Value::FromEnvironment
    );
    for input in [
        "FOO=test\nBAR=$FOO",
        "FOO=test\nBAR=${FOO}bar",
        "BAR=$FOO",
        "FOO=test\nBAR=\"quote $FOO\"",
        "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
        "TEST=$ME",
        "RESULT=${UNSET_VAR:-Default Value}",
        "RESULT=${EMPTY_VAR-Default Value}",
        "RESULT=${UNSET_VAR:?Test error}",
        "RESULT=${TEST_VAR?Default Value}",
        "RESULT=${A:+x}",
        "RESULT=${A+x}",
        // Go's case folding makes ſ and the Kelvin sign name letters.
        "RESULT=$\u{17f}",
        "RESULT=${\u{212a}}",
    ] {
        let last = parse(input).unwrap().pop().unwrap();
        assert_eq!(last.value, Value::FromEnvironment, "{input:?}");
    }
}

/// The corners of compose-go that the tables above do not pin, read off its source.
#[test]
fn compose_go_corners() {
    // Single quotes are literal, but `\'` is a quote (the backslash dropped) and any other
    // backslash stays: `'abc\' #'` is `abc' #`.
    assert_eq!(exact(r"A='abc\' #'", "A"), "abc' #");
    assert_eq!(exact(r"A='a\b\\c'", "A"), r"a\b\\c");
    assert_eq!(exact(r"A='$B ${C}'", "A"), "$B ${C}");
    // Double quotes: escapes, `$$` and `\$`.
    assert_eq!(exact(r##"A="a\tb""##, "A"), "a\tb");
    assert_eq!(exact(r##"A="$$x \$y""##, "A"), "$x $y");
    assert_eq!(exact(r##"A="\0""##, "A"), r"\");
    assert_eq!(exact(r##"A="\012""##, "A"), r"\12");
    assert_eq!(exact(r##"A="\0101x""##, "A"), "Ax");
    assert_eq!(exact(r##"A="\01234""##, "A"), "S4");
    assert_eq!(exact(r##"A="\0777""##, "A"), r"\777");
    assert_eq!(exact(r##"A="\0377""##, "A"), "\u{ff}");
    assert_eq!(exact(r##"A="\089""##, "A"), r"\89");
    assert_eq!(exact(r##"A="\c\q""##, "A"), r"\c\q");
    // Unquoted: only ` #` (a space) starts a comment; `$` stays before a non-name.
    assert_eq!(exact("A=abc # comment", "A"), "abc");
    assert_eq!(exact("A=abc\t# not a comment", "A"), "abc\t# not a comment");
    assert_eq!(exact("A= #x", "A"), "#x");
    assert_eq!(exact("A=a$ b$1 $", "A"), "a$ b$1 $");
    assert_eq!(exact("A=$$HOME", "A"), "$HOME");
    assert_eq!(exact("A=a\\$$b", "A"), "a\\$b");
    assert_eq!(exact("A=x\r\nB=y\r\n", "A"), "x");
    assert_eq!(exact("A=x\r\nB=y\r\n", "B"), "y");
    assert_eq!(exact("A=\nB=y", "A"), "");
    assert_eq!(exact("A=b\u{a0}\u{2003}", "A"), "b");
    // Names: blanks around, `:` style, tabs kept inside (only a space is refused).
    assert_eq!(exact("A\u{a0}=1", "A"), "1");
    assert_eq!(exact("A\tB=1", "A\tB"), "1");
    assert_eq!(exact("export\nA=1", "A"), "1");
    assert_eq!(exact("export=1", "export"), "1");
    assert_eq!(exact("http://x.y", "http"), "//x.y");
    // Text after a closing quote starts the next statement.
    let m = map("A='x' B=2\nC=\"y\"D=3");
    assert_eq!(m["A"], Value::Exact("x".into()));
    assert_eq!(m["B"], Value::Exact("2".into()));
    assert_eq!(m["C"], Value::Exact("y".into()));
    assert_eq!(m["D"], Value::Exact("3".into()));
    assert_eq!(map("A='x'junk\n")["junk"], Value::FromEnvironment);
    // A last line without `=` or newline is the value of an empty name.
    assert_eq!(exact("A=1\nFOO", ""), "FOO");
    assert_eq!(exact("export FOO BAR", ""), "FOO BAR");
    // The later statement wins (callers take the last).
    assert_eq!(
        parse("A=1\nA=2").unwrap()[1].value,
        Value::Exact("2".into())
    );
}

#[test]
fn invalid_interpolations_are_refused_as_compose_refuses_them() {
    for input in [
        "A=${",
        "A=${}",
        "A=${1}",
        "A=${A B}",
        "A=${A",
        "A=${A:x}",
        "A=${A::-x}",
        "A=\"${A:-x\n}\"",
        "A=$B ${",
        "A=\"\\${A} ${\"",
        "A=${A:-${}",
        // The rest of a match after its first closing brace is interpolated too.
        "A=${A:-${B}} '${1}",
        "A=${A:?m} ${ x}",
    ] {
        let e = error(input);
        assert!(e.message.contains("`${`"), "{input:?}: {e}");
    }
    // Valid references, whatever their defaults hold.
    for input in [
        "A=${A:-}",
        "A=${A:-}}",
        "A=${A:-{}",
        "A=${a-x} ${b}",
        "A=${A?}",
    ] {
        assert_eq!(
            parse(input).unwrap()[0].value,
            Value::FromEnvironment,
            "{input:?}"
        );
    }
}

#[test]
fn lines_and_offsets_point_at_the_statement() {
    let text = "\u{feff}# c\nA=1\n\nexport B='x\ny' # c\nC\nD=\"z\"";
    let s = parse(text).unwrap();
    let lines: Vec<(usize, &str)> = s.iter().map(|s| (s.line, s.key.as_str())).collect();
    assert_eq!(lines, [(2, "A"), (4, "B"), (6, "C"), (7, "D")]);
    assert_eq!(&text[s[0].start..s[0].end], "A=1");
    assert_eq!(&text[s[1].start..s[1].end], "export B='x\ny'");
    assert_eq!(&text[s[1].value_start..s[1].end], "'x\ny'");
    assert_eq!(&text[s[2].start..s[2].end], "C");
    assert_eq!(&text[s[3].value_start..s[3].end], "\"z\"");
    assert_eq!(error("A=1\nB=\"x\ny").line, 2);
    assert_eq!(error("A=1\n\n  B C=1").line, 3);
}

#[test]
fn stackwiz_refuses_what_it_cannot_read_exactly() {
    // Not UTF-8.
    let e = parse_bytes(b"A=1\nB=\xff\n").unwrap_err();
    assert_eq!(e.line, 2);
    // Non-ASCII letters in names (Compose accepts some, Go's tables decide which).
    let e = error("\u{e1}rv\u{ed}z=1");
    assert!(e.message.contains("ASCII"), "{e}");
    // A long chain is no nesting: read as Compose reads it.
    let chain = format!("A={}", "${A:-x}".repeat(500));
    assert_eq!(parse(&chain).unwrap()[0].value, Value::FromEnvironment);
    // Absurd nesting.
    let deep = format!("A=\"{}x{}\"", "${A:-".repeat(100), "}".repeat(100));
    assert!(error(&deep).message.contains("nested"));
}

#[test]
fn the_writer_round_trips_hostile_values() {
    let hostile = [
        "",
        "plain-1.2:x@y",
        " leading and trailing ",
        "a # not a comment",
        "#start",
        "it's",
        "say \"hi\"",
        r"back\slash",
        r"ends with \",
        r"\'",
        r##"\""##,
        "$HOME ${HOME} $$ \\$ ${",
        "tab\there",
        "line1\nline2\r\n",
        "\r",
        "ünïcødé ✓ 🦀",
        "\u{85}\u{a0}\u{2028}",
        "'",
        "\"",
        "\\",
        "\\\\",
        "$",
        "\\0123",
        "\\n",
        "=",
        "a=b",
        "\u{7}\u{1b}[31m",
    ];
    for v in hostile {
        let text = format!("{}\n", line("K", v));
        assert_eq!(
            parse(&text).unwrap(),
            vec![Statement {
                key: "K".into(),
                value: Value::Exact(v.to_string()),
                line: 1,
                start: 0,
                value_start: 2,
                end: text.len() - 1,
            }],
            "{v:?} written as {text:?}"
        );
    }
}

#[test]
fn quoting_picks_the_simplest_safe_form() {
    assert_eq!(line("A", "plain-1.2:x@y"), "A=plain-1.2:x@y");
    assert_eq!(line("A", ""), "A=");
    assert_eq!(
        line("A", "has space # and $HOME"),
        "A='has space # and $HOME'"
    );
    assert_eq!(line("A", "it's"), r##"A="it's""##);
    assert_eq!(line("A", r##"a\ "b" $X"##), r##"A='a\ "b" $X'"##);
    assert_eq!(line("A", r"ends\"), r##"A="ends\\""##);
    assert_eq!(line("A", "a\tb\nc"), r##"A="a\tb\nc""##);
    assert_eq!(line("A", r##"it's "$X" \"##), r##"A="it's \"\$X\" \\""##);
}
