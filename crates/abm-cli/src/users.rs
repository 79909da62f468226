//! `abm users`: who may sign in to the web app and the API. A user is a team member with a
//! password; scripts use API tokens instead. The first manager is made here, before anyone can
//! sign in.

use crate::output::{print_rows, Format};
use crate::requests::put_members;
use crate::user_error;
use abm_core::intake::Role;
use abm_core::request::{parse_username, TeamMember};
use abm_workspace::users::{self, UserError};
use abm_workspace::Workspace;
use anyhow::Result;
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand)]
pub enum UsersCmd {
    /// Let a person sign in: add them to the team (or change their role) and set a password. The
    /// password is asked for on a terminal, or read as the first line of standard input.
    Add {
        username: String,
        /// manager, member, requester or viewer.
        #[arg(long, value_parser = |s: &str| s.parse::<Role>())]
        role: Role,
        /// Their full name (default: the username, or the name they already have).
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a user's password (asked for as `add` does).
    Password { username: String },
    /// Everyone on the team: role, whether they can sign in, their API tokens.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Issue an API token for scripts (`Authorization: Bearer TOKEN`). It is printed once.
    Token {
        username: String,
        /// A name for the token, unique per user (e.g. nightly-sync).
        #[arg(long)]
        label: String,
    },
    /// Revoke a user's API token by label.
    Revoke {
        username: String,
        #[arg(long)]
        label: String,
    },
}

/// A password from the terminal (asked twice) or the first line of standard input.
fn read_password(username: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {username}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(user_error("the two passwords differ; nothing changed"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn users_error(e: UserError) -> anyhow::Error {
    match e {
        UserError::Store(s) => anyhow::Error::new(s),
        UserError::Random(_) | UserError::DamagedHash(_) => anyhow::Error::new(e),
        other => user_error(other.to_string()),
    }
}

pub fn run(ws: &Workspace, as_user: Option<&str>, cmd: UsersCmd) -> Result<()> {
    let mut store = ws.store()?;
    let store = store.as_mut();
    let now = ws.now().at;
    match cmd {
        UsersCmd::Add { username, role, name } => {
            let username = parse_username(&username).map_err(|e| user_error(format!("username: {e}")))?;
            let password = read_password(&username)?;
            // Check the password before changing the team, so a weak one changes nothing.
            users::check_password(&password).map_err(users_error)?;
            let existing = store.team()?.into_iter().find(|m| m.username == username);
            let member = TeamMember {
                name: name
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .or_else(|| existing.as_ref().map(|m| m.name.clone()))
                    .unwrap_or_else(|| username.clone()),
                username: username.clone(),
                role,
            };
            if existing.as_ref() != Some(&member) {
                put_members(ws, store, as_user, std::slice::from_ref(&member))?;
            }
            users::set_password(store, &username, &password, now).map_err(users_error)?;
            println!("{username} ({role}) can sign in");
            Ok(())
        }
        UsersCmd::Password { username } => {
            let password = read_password(&username)?;
            users::set_password(store, username.trim(), &password, now).map_err(users_error)?;
            println!("password set for {}", username.trim());
            Ok(())
        }
        UsersCmd::List { format } => {
            let tokens = store.api_tokens()?;
            let mut rows = Vec::new();
            let mut json = Vec::new();
            for m in store.team()? {
                let can = store.password_hash(&m.username)?.is_some();
                let labels: Vec<String> = tokens
                    .iter()
                    .filter(|t| t.username == m.username)
                    .map(|t| t.label.clone())
                    .collect();
                rows.push(vec![
                    m.username.clone(),
                    m.role.to_string(),
                    if can { "yes" } else { "no" }.to_string(),
                    labels.join(" "),
                ]);
                json.push(serde_json::json!({
                    "username": m.username, "name": m.name, "role": m.role.to_string(),
                    "can_sign_in": can, "tokens": labels,
                }));
            }
            print_rows(format, &["username", "role", "can sign in", "api tokens"], &rows, &json)
        }
        UsersCmd::Token { username, label } => {
            let token = users::issue_token(store, username.trim(), &label, now).map_err(users_error)?;
            eprintln!(
                "API token {label:?} for {} (shown once; send it as `Authorization: Bearer TOKEN`):",
                username.trim()
            );
            println!("{token}");
            Ok(())
        }
        UsersCmd::Revoke { username, label } => {
            if store.revoke_api_token(username.trim(), label.trim())? {
                println!("revoked {}'s token {label:?}", username.trim());
                Ok(())
            } else {
                Err(user_error(format!(
                    "{} has no token labelled {label:?}",
                    username.trim()
                )))
            }
        }
    }
}
