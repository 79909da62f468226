//! Who may sign in. Users are the team's members (their role comes from the team); this module
//! adds credentials to them: a password kept as an argon2id hash, API tokens for scripts (only a
//! SHA-256 of each token is stored), and the key the server signs session cookies with (kept in
//! the store, so servers sharing one database agree on it).

use abm_core::request::TeamMember;
use abm_store::{ApiToken, Store, StoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

/// What API tokens start with, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "abm_";

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a password needs at least {MIN_PASSWORD} characters")]
    WeakPassword,
    #[error("{0} is not on the team: add them with `abm users add {0} --role ROLE`")]
    NotOnTeam(String),
    #[error("a token label is 1 to 40 letters, digits, '-', '_' or '.'; found {0:?}")]
    BadLabel(String),
    #[error("{0} already has a token labelled {1:?}; revoke it or choose another label")]
    LabelTaken(String, String),
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("stored password hash for {0} is damaged")]
    DamagedHash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T> = std::result::Result<T, UserError>;

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).map_err(|e| UserError::Random(e.to_string()))?;
    Ok(buf)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The argon2id hash (a PHC string) of a password, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String> {
    check_password(password)?;
    let salt = SaltString::encode_b64(&random_bytes(16)?).map_err(|e| UserError::Random(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Random(e.to_string()))
}

/// Whether `password` may be used (long enough), without the cost of hashing it.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(UserError::WeakPassword);
    }
    Ok(())
}

/// Set a team member's password.
pub fn set_password(store: &mut dyn Store, username: &str, password: &str, at: DateTime<Utc>) -> Result<()> {
    let hash = hash_password(password)?;
    match store.set_password(username, &hash, at) {
        Err(StoreError::NotFound(_)) => Err(UserError::NotOnTeam(username.to_string())),
        other => Ok(other?),
    }
}

/// The team member these credentials sign in as, with the fingerprint of their password their
/// session carries (see [`session_member`]); or none. Unknown names cost as much time as wrong
/// passwords, so the answer does not tell which it was.
pub fn sign_in(store: &mut dyn Store, username: &str, password: &str) -> Result<Option<(TeamMember, String)>> {
    let name = username.trim().to_ascii_lowercase();
    let member = store.team()?.into_iter().find(|m| m.username == name);
    let stored = match &member {
        Some(m) => store.password_hash(&m.username)?,
        None => None,
    };
    let hash = match &stored {
        Some(h) => h.clone(),
        None => decoy()?,
    };
    let parsed = PasswordHash::new(&hash).map_err(|_| UserError::DamagedHash(name.clone()))?;
    let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    Ok(member
        .filter(|_| ok && stored.is_some())
        .map(|m| (m, password_fingerprint(&hash))))
}

/// The team member a session (made by [`sign_in`]) is for, if it still holds: they are on the
/// team, their password is the one it was made with, and it was not signed out.
pub fn session_member(
    store: &mut dyn Store,
    username: &str,
    fingerprint: &str,
    nonce: &str,
) -> Result<Option<TeamMember>> {
    if store.session_signed_out(nonce)? {
        return Ok(None);
    }
    let Some(member) = store.team()?.into_iter().find(|m| m.username == username) else {
        return Ok(None);
    };
    let hash = store.password_hash(username)?;
    Ok(hash.filter(|h| password_fingerprint(h) == fingerprint).map(|_| member))
}

/// A hash of no one's password (a random one), verified against when the name is unknown.
fn decoy() -> Result<String> {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = DECOY.get() {
        return Ok(h.clone());
    }
    let made = hash_password(&hex(&random_bytes(16)?))?;
    Ok(DECOY.get_or_init(|| made).clone())
}

/// The hex SHA-256 a token is stored under.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

/// Issue an API token for a team member. The token is returned once and never stored.
pub fn issue_token(store: &mut dyn Store, username: &str, label: &str, at: DateTime<Utc>) -> Result<String> {
    let label = label.trim();
    if label.is_empty() || label.len() > 40 || !label.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(UserError::BadLabel(label.to_string()));
    }
    if !store.team()?.iter().any(|m| m.username == username) {
        return Err(UserError::NotOnTeam(username.to_string()));
    }
    if store
        .api_tokens()?
        .iter()
        .any(|t| t.username == username && t.label == label)
    {
        return Err(UserError::LabelTaken(username.to_string(), label.to_string()));
    }
    let token = format!("{TOKEN_PREFIX}{}", hex(&random_bytes(24)?));
    store.add_api_token(&ApiToken {
        token_hash: token_hash(&token),
        username: username.to_string(),
        label: label.to_string(),
        created_at: at,
    })?;
    Ok(token)
}

/// The team member an API token belongs to, if it is a live token of someone still on the team.
pub fn token_member(store: &mut dyn Store, token: &str) -> Result<Option<TeamMember>> {
    let Some(owner) = store.token_owner(&token_hash(token))? else {
        return Ok(None);
    };
    Ok(store.team()?.into_iter().find(|m| m.username == owner))
}

/// The 64-byte key session cookies are signed with: made once, then read from the store.
pub fn cookie_key(store: &mut dyn Store) -> Result<Vec<u8>> {
    let fresh = hex(&random_bytes(64)?);
    let stored = store.server_secret("cookie-key", &fresh)?;
    let bytes: Option<Vec<u8>> = (0..stored.len())
        .step_by(2)
        .map(|i| stored.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    match bytes {
        Some(b) if b.len() >= 64 => Ok(b),
        _ => Err(UserError::Store(StoreError::Corrupt("the stored cookie key".into()))),
    }
}

/// A short fingerprint of someone's current password hash: sessions carry it, so changing a
/// password signs out every session made with the old one.
pub fn password_fingerprint(hash: &str) -> String {
    hex(&Sha256::digest(hash.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use abm_core::intake::Role;

    fn store_with(members: &[(&str, Role)]) -> Box<dyn Store> {
        let mut store: Box<dyn Store> = Box::new(abm_store::SqliteStore::open_in_memory().unwrap());
        for (u, role) in members {
            abm_store::conformance::add_member(store.as_mut(), u, *role);
        }
        store
    }

    #[test]
    fn passwords_sign_in_only_their_owner() {
        let mut store = store_with(&[("mmanager", Role::Manager), ("aabm", Role::Member)]);
        assert!(matches!(
            set_password(store.as_mut(), "mmanager", "short", Utc::now()),
            Err(UserError::WeakPassword)
        ));
        assert!(matches!(
            set_password(store.as_mut(), "ghost", "long enough", Utc::now()),
            Err(UserError::NotOnTeam(_))
        ));
        set_password(store.as_mut(), "mmanager", "correct horse", Utc::now()).unwrap();
        let hash = store.password_hash("mmanager").unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        let (me, fingerprint) = sign_in(store.as_mut(), " MManager ", "correct horse").unwrap().unwrap();
        assert_eq!((me.username.as_str(), me.role), ("mmanager", Role::Manager));
        // The session holds while the password and the session stand.
        let session = |store: &mut dyn Store| session_member(store, "mmanager", &fingerprint, "n1").unwrap();
        assert_eq!(session(store.as_mut()), Some(me.clone()));
        set_password(store.as_mut(), "mmanager", "correct horse", Utc::now()).unwrap();
        assert_eq!(session(store.as_mut()), None, "a new password (a new salt) ends it");
        let (_, fingerprint) = sign_in(store.as_mut(), "mmanager", "correct horse").unwrap().unwrap();
        assert!(session_member(store.as_mut(), "mmanager", &fingerprint, "n2")
            .unwrap()
            .is_some());
        store.sign_out_session("n2", i64::MAX, 0).unwrap();
        assert!(session_member(store.as_mut(), "mmanager", &fingerprint, "n2")
            .unwrap()
            .is_none());
        assert!(sign_in(store.as_mut(), "mmanager", "correct horsE").unwrap().is_none());
        // A member without a password cannot sign in, whatever they type; nor can strangers.
        assert!(sign_in(store.as_mut(), "aabm", "correct horse").unwrap().is_none());
        assert!(sign_in(store.as_mut(), "ghost", "correct horse").unwrap().is_none());
    }

    #[test]
    fn tokens_are_shown_once_and_stored_hashed() {
        let mut store = store_with(&[("aabm", Role::Member)]);
        let t = issue_token(store.as_mut(), "aabm", "nightly-sync", Utc::now()).unwrap();
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() > 40, "{t}");
        let stored = store.api_tokens().unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].token_hash, t);
        assert_eq!(token_member(store.as_mut(), &t).unwrap().unwrap().username, "aabm");
        assert!(token_member(store.as_mut(), "abm_nope").unwrap().is_none());
        assert!(matches!(
            issue_token(store.as_mut(), "aabm", "has space", Utc::now()),
            Err(UserError::BadLabel(_))
        ));
        assert!(store.revoke_api_token("aabm", "nightly-sync").unwrap());
        assert!(
            token_member(store.as_mut(), &t).unwrap().is_none(),
            "a revoked token is refused"
        );
    }

    #[test]
    fn the_cookie_key_is_made_once() {
        let mut store = store_with(&[]);
        let k = cookie_key(store.as_mut()).unwrap();
        assert_eq!(k.len(), 64);
        assert_eq!(cookie_key(store.as_mut()).unwrap(), k);
    }
}
