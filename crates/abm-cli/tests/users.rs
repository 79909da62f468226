//! `abm users` end to end: the first manager, passwords from standard input, tokens and
//! revocation, and the refusals a user sees.

mod common;

use common::{abm, fails, json, ok};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Run abm with `input` on standard input (not a terminal, so the password is read from it).
fn abm_with_input(ws: &Path, who: Option<&str>, args: &[&str], input: &str) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_abm"));
    c.arg("--workspace").arg(ws).args(args).env("ABM_TODAY", "2026-11-28");
    match who {
        Some(w) => c.env("ABM_USER", w),
        None => c.env_remove("ABM_USER"),
    };
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_first_manager_then_users_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    ok(abm(&ws, "2026-11-28", None, &["init"]));
    // A weak password changes nothing: not even the team.
    let out = fails(abm_with_input(
        &ws,
        None,
        &["users", "add", "mmanager", "--role", "manager"],
        "short\n",
    ));
    assert!(out.contains("at least 8 characters"), "{out}");
    let team = json(abm(&ws, "2026-11-28", None, &["team", "list", "--format", "json"]));
    assert_eq!(team, serde_json::json!([]));
    // The first manager needs nobody's permission.
    let out = ok(abm_with_input(
        &ws,
        None,
        &[
            "users",
            "add",
            "mmanager",
            "--role",
            "manager",
            "--name",
            "Morgan Manager",
        ],
        "correct horse\n",
    ));
    assert!(out.contains("mmanager (manager) can sign in"), "{out}");
    // After that, adding people takes a manager.
    let out = fails(abm_with_input(
        &ws,
        None,
        &["users", "add", "sales-sam", "--role", "requester"],
        "sam's secret\n",
    ));
    assert!(out.contains("say who you are"), "{out}");
    ok(abm_with_input(
        &ws,
        Some("mmanager"),
        &["users", "add", "sales-sam", "--role", "requester"],
        "sam's secret\n",
    ));
    let users = json(abm(&ws, "2026-11-28", None, &["users", "list", "--format", "json"]));
    assert_eq!(users[0]["username"], "mmanager");
    assert_eq!(users[0]["name"], "Morgan Manager");
    assert_eq!(users[1]["can_sign_in"], true);
    // The stored hash is argon2, never the password.
    let db = std::fs::read(ws.join("abm.db")).unwrap();
    assert!(
        !db.windows(13).any(|w| w == b"correct horse"),
        "the password is not stored"
    );

    // A token is printed once; its label is unique; revoking it forgets it.
    let token = ok(abm(
        &ws,
        "2026-11-28",
        None,
        &["users", "token", "sales-sam", "--label", "sync"],
    ));
    assert!(token.trim().starts_with("abm_") && token.trim().len() > 40, "{token}");
    let again = fails(abm(
        &ws,
        "2026-11-28",
        None,
        &["users", "token", "sales-sam", "--label", "sync"],
    ));
    assert!(again.contains("already has a token labelled \"sync\""), "{again}");
    let users = json(abm(&ws, "2026-11-28", None, &["users", "list", "--format", "json"]));
    assert_eq!(users[1]["tokens"], serde_json::json!(["sync"]));
    ok(abm(
        &ws,
        "2026-11-28",
        None,
        &["users", "revoke", "sales-sam", "--label", "sync"],
    ));
    let out = fails(abm(
        &ws,
        "2026-11-28",
        None,
        &["users", "revoke", "sales-sam", "--label", "sync"],
    ));
    assert!(out.contains("has no token labelled"), "{out}");
    let out = fails(abm(
        &ws,
        "2026-11-28",
        None,
        &["users", "token", "ghost", "--label", "x"],
    ));
    assert!(out.contains("ghost is not on the team"), "{out}");
    let out = fails(abm_with_input(
        &ws,
        None,
        &["users", "password", "ghost"],
        "long enough\n",
    ));
    assert!(out.contains("ghost is not on the team"), "{out}");
}
