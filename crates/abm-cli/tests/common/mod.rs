//! Running the `abm` binary in tests: on a pinned day, as a person, with the output checked.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run abm in `ws` on `today`, as `who` (if any).
pub fn abm(ws: &Path, today: &str, who: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_abm"));
    c.arg("--workspace")
        .arg(ws)
        .args(args)
        .env("ABM_TODAY", today)
        .env_remove("ABM_NOW");
    match who {
        Some(w) => c.env("ABM_USER", w),
        None => c.env_remove("ABM_USER"),
    };
    c.output().expect("abm runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "abm failed ({:?}):\n{}", o.status.code(), text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn fails(o: Output) -> String {
    assert_eq!(o.status.code(), Some(1), "expected exit 1:\n{}", text(&o));
    text(&o)
}

pub fn json(o: Output) -> Value {
    serde_json::from_str(&ok(o)).unwrap()
}

/// A workspace with a manager, a team member, a requester and a viewer.
pub fn team_workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    ok(abm(&ws, "2021-09-01", None, &["init"]));
    let day = "2021-09-01";
    ok(abm(
        &ws,
        day,
        Some("mmanager"),
        &[
            "team",
            "add",
            "mmanager",
            "--role",
            "manager",
            "--name",
            "Morgan Manager",
        ],
    ));
    ok(abm(
        &ws,
        day,
        Some("mmanager"),
        &["team", "add", "aabm", "--role", "member"],
    ));
    ok(abm(
        &ws,
        day,
        Some("mmanager"),
        &["team", "add", "sales-sam", "--role", "requester"],
    ));
    ok(abm(
        &ws,
        day,
        Some("mmanager"),
        &["team", "add", "exec-eve", "--role", "viewer"],
    ));
    (dir, ws)
}
