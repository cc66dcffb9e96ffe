//! docs/errors.md is backed by tests: every entry quotes a message and names the test that
//! produces it; this checks that the quoted message occurs in that test's expected output
//! (a UI test's `.stderr`) or source (a unit or integration test asserting the message), and
//! that every UI test appears in the catalogue.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// One `### ` entry of the catalogue.
struct Entry {
    title: String,
    message: String,
    tests: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn entries() -> Vec<Entry> {
    let text = fs::read_to_string(root().join("docs/errors.md")).expect("docs/errors.md exists");
    text.split("\n### ")
        .skip(1)
        .map(|section| {
            let title = section.lines().next().unwrap_or_default().to_owned();
            let message = section
                .split("```text\n")
                .nth(1)
                .and_then(|rest| rest.split("\n```").next())
                .unwrap_or_else(|| panic!("entry `{title}` quotes no message"))
                .to_owned();
            let test_line = section
                .lines()
                .find(|line| line.starts_with("- Test: "))
                .unwrap_or_else(|| panic!("entry `{title}` names no test"));
            let tests = test_line
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            Entry {
                title,
                message,
                tests,
            }
        })
        .collect()
}

/// The file whose text must contain the message: a UI test's `.stderr`, or a test's source
/// (`path` or `path::test_name`).
fn evidence(test: &str) -> PathBuf {
    let path = test.split("::").next().unwrap_or(test);
    let path = root().join(path);
    if path.starts_with(root().join("tests/ui")) {
        path.with_extension("stderr")
    } else {
        path
    }
}

/// Rust source as its string literals read: `\"` is `"`, and a `\` at the end of a line
/// swallows the line break and the next line's indentation.
fn as_literal_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(next_line) = after.strip_prefix('\n') {
            rest = next_line.trim_start();
        } else if let Some(quoted) = after.strip_prefix('"') {
            out.push('"');
            rest = quoted;
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn every_quoted_message_occurs_in_its_test() {
    let entries = entries();
    assert!(
        entries.len() >= 30,
        "the catalogue lost entries: {}",
        entries.len()
    );
    for entry in &entries {
        assert!(
            !entry.tests.is_empty(),
            "entry `{}` names no test",
            entry.title
        );
        for test in &entry.tests {
            let file = evidence(test);
            assert!(
                file.exists(),
                "entry `{}`: {} does not exist",
                entry.title,
                file.display()
            );
        }
        let first = evidence(&entry.tests[0]);
        let text = fs::read_to_string(&first).expect("readable");
        let found =
            text.contains(&entry.message) || as_literal_text(&text).contains(&entry.message);
        assert!(
            found,
            "entry `{}`: its message is not in {}:\n{}",
            entry.title,
            first.display(),
            entry.message
        );
        if let Some(name) = entry.tests[0].split("::").nth(1) {
            assert!(
                text.contains(&format!("fn {name}(")),
                "entry `{}`: no test `{name}` in {}",
                entry.title,
                first.display()
            );
        }
    }
}

#[test]
fn every_ui_test_is_in_the_catalogue() {
    let listed: BTreeSet<String> = entries().into_iter().flat_map(|e| e.tests).collect();
    let ui = root().join("tests/ui");
    for file in fs::read_dir(&ui).expect("tests/ui exists") {
        let path = file.expect("readable").path();
        if path.extension().and_then(|e| e.to_str()) == Some("rs") {
            let name = format!(
                "tests/ui/{}",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
            );
            assert!(listed.contains(&name), "{name} is not in docs/errors.md");
        }
    }
    assert!(Path::new(&ui).join("pass").exists());
}
