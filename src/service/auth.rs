//! Who may call the service: users with argon2 password hashes and bearer
//! tokens (stored as SHA-256 hashes), from the JSON file given to
//! `serve --users`; Creatio's sign-in (`AuthService.svc/Login`) with the
//! `.ASPXAUTH`, `BPMCSRF` and `BPMSESSIONID` cookies; sessions that expire,
//! kept in the store as hashes of their cookies (`store::StoredSession`),
//! so that every node on one store knows them and a restart keeps them.
//!
//! ```json
//! { "users":  [ { "name": "Supervisor", "password": "$argon2id$v=19$m=19456,t=2,p=1$…" } ],
//!   "tokens": [ { "name": "ci", "sha256": "9f86d081884c7d65…" } ] }
//! ```

use crate::store::StoredSession;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{HeaderMap, Method};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// At most this many live sessions; those that expire first end first when full.
pub const MAX_SESSIONS: usize = 100_000;

/// At most this many live sessions per user: a new sign-in past it ends
/// that user's oldest session (never another user's).
pub const MAX_SESSIONS_PER_USER: usize = 64;

/// The shortest bearer token accepted, in characters: 32 hex digits are
/// 128 bits (a shorter token is refused even when its hash is listed).
pub const MIN_TOKEN_CHARS: usize = 32;

/// The argon2 parameters every password hash must have (argon2id, v=19,
/// the crate's defaults): the dummy hash checked for an unknown user has
/// them too, so a sign-in takes as long whether the user exists or not.
pub const HASH_PARAMS: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersFile {
    #[serde(default)]
    pub users: Vec<UserEntry>,
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub name: String,
    /// An argon2id hash in PHC form (`procdsl serve --hash-password` writes one).
    pub password: String,
    /// Built-in roles and groups; required, so that no entry gets rights by omission.
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub name: String,
    /// The SHA-256 of the token, in hex.
    pub sha256: String,
    pub roles: Option<Vec<String>>,
    /// When the token stops being accepted (RFC 3339), if ever.
    pub expires: Option<String>,
}

#[derive(Debug)]
struct Account {
    hash: String,
    roles: Vec<String>,
}

#[derive(Debug)]
struct Token {
    name: String,
    roles: Vec<String>,
    expires: Option<jiff::Timestamp>,
}

/// The users and tokens of a users file, checked.
#[derive(Debug)]
struct Table {
    users: HashMap<String, Account>,
    /// Token hash → token.
    tokens: HashMap<String, Token>,
}

/// The users and tokens of a users file, checked; [`Users::reload`] reads
/// the file again (on `SIGHUP`) and keeps the old table when the new one
/// does not check. Clones share the table.
#[derive(Clone, Debug)]
pub struct Users {
    table: Arc<RwLock<Arc<Table>>>,
    path: Option<PathBuf>,
    /// Checked for an unknown user, so that it costs what a wrong password costs.
    dummy: Arc<str>,
}

fn roles(what: &str, roles: Option<Vec<String>>) -> Result<Vec<String>, String> {
    let roles = roles.ok_or_else(|| {
        format!("{what} has no \"roles\" (give a list such as [\"admin\"], [\"user\", \"managers\"] or [])")
    })?;
    if let Some(bad) = roles.iter().find(|r| r.trim().is_empty() || r.trim() != r.as_str()) {
        return Err(format!("{what} has a role `{bad}` that is empty or has spaces around it"));
    }
    Ok(roles)
}

fn check_name(kind: &str, name: &str, seen: &mut std::collections::HashSet<String>) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(format!("a {kind} has an empty name"));
    }
    if !seen.insert(name.to_string()) {
        return Err(format!("the {kind} name `{name}` is given twice"));
    }
    Ok(())
}

impl Table {
    fn parse(text: &str) -> Result<Table, String> {
        let file: UsersFile = serde_json::from_str(text).map_err(|e| format!("not a users file: {e}"))?;
        let mut users = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for u in file.users {
            check_name("user", &u.name, &mut seen)?;
            let hash = PasswordHash::new(&u.password)
                .map_err(|e| format!("user `{}`: the password is not an argon2 hash ({e})", u.name))?;
            if !u.password.starts_with(HASH_PARAMS) || hash.salt.is_none() || hash.hash.is_none() {
                return Err(format!(
                    "user `{}`: the password hash must be argon2id with the parameters `{HASH_PARAMS}…` (`procdsl serve --hash-password` writes one)",
                    u.name
                ));
            }
            let roles = roles(&format!("user `{}`", u.name), u.roles)?;
            users.insert(u.name, Account { hash: u.password, roles });
        }
        let mut tokens = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for t in file.tokens {
            check_name("token", &t.name, &mut seen)?;
            let hash = t.sha256.to_ascii_lowercase();
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("token `{}`: sha256 must be 64 hex digits", t.name));
            }
            let expires = t
                .expires
                .map(|e| {
                    e.parse::<jiff::Timestamp>().map_err(|err| format!("token `{}`: expires `{e}`: {err}", t.name))
                })
                .transpose()?;
            let roles = roles(&format!("token `{}`", t.name), t.roles)?;
            if tokens.insert(hash, Token { name: t.name.clone(), roles, expires }).is_some() {
                return Err(format!("token `{}`: the same sha256 is given twice", t.name));
            }
        }
        if users.is_empty() && tokens.is_empty() {
            return Err("it names no users and no tokens".to_string());
        }
        Ok(Table { users, tokens })
    }
}

impl Users {
    /// Reads and checks a users file: every password must be an argon2id
    /// hash with the default parameters, every entry must have roles.
    pub fn load(path: &Path) -> Result<Users, String> {
        let mut users = Users::parse(&read(path)?).map_err(|e| format!("`{}`: {e}", path.display()))?;
        users.path = Some(path.to_path_buf());
        Ok(users)
    }

    pub fn parse(text: &str) -> Result<Users, String> {
        let table = Table::parse(text)?;
        let dummy = hash_password("not a password")?;
        Ok(Users { table: Arc::new(RwLock::new(Arc::new(table))), path: None, dummy: dummy.into() })
    }

    /// Reads the file again; on an error the users and tokens stay as they
    /// were. Answers how many users and tokens it now has.
    pub fn reload(&self) -> Result<(usize, usize), String> {
        let path = self.path.as_deref().ok_or("the users were not read from a file")?;
        let table = Table::parse(&read(path)?).map_err(|e| format!("`{}`: {e}", path.display()))?;
        let counts = (table.users.len(), table.tokens.len());
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
        Ok(counts)
    }

    fn table(&self) -> Arc<Table> {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Checks a password (slow on purpose: argon2). An unknown user costs
    /// the same time as a wrong password.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let (stored, known) = self.hash_for(name);
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    }

    /// The hash a sign-in as `name` is checked against (a dummy for an
    /// unknown user, so that both cost the same), and whether `name` is known.
    pub fn hash_for(&self, name: &str) -> (String, bool) {
        match self.table().users.get(name) {
            Some(account) => (account.hash.clone(), true),
            None => (self.dummy.to_string(), false),
        }
    }

    /// A user's roles (`None`: no such user, e.g. removed by a reload).
    pub fn roles_of(&self, name: &str) -> Option<Vec<String>> {
        self.table().users.get(name).map(|a| a.roles.clone())
    }

    /// The token's name and roles, when the token is known and current.
    pub fn token(&self, token: &str) -> Result<(String, Vec<String>), &'static str> {
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err("the bearer token is too short (at least 128 bits: 32 hex digits)");
        }
        let table = self.table();
        let found = table.tokens.get(&sha256_hex(token)).ok_or("the bearer token is not valid")?;
        if found.expires.is_some_and(|e| e <= jiff::Timestamp::now()) {
            return Err("the bearer token has expired");
        }
        Ok((found.name.clone(), found.roles.clone()))
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// An argon2id hash of a password, with a random salt, in PHC form.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A random token with 244 bits of randomness (two random UUIDs).
pub fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// A bearer token of 256 random bits, as 64 hex digits.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random bytes from the system: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new sign-in session for `user`, live for `ttl` from `now`: the
/// `.ASPXAUTH` and `BPMCSRF` values for the cookies, and the session as the
/// store keeps it (their SHA-256 hashes, never the values).
pub fn new_session(user: &str, ttl: Duration, now: jiff::Timestamp) -> (String, String, StoredSession) {
    let (key, csrf) = (random_token(), random_token());
    let ttl = jiff::SignedDuration::try_from(ttl).unwrap_or(jiff::SignedDuration::MAX);
    let session = StoredSession {
        key: sha256_hex(&key),
        user: user.to_string(),
        csrf: sha256_hex(&csrf),
        created: now,
        last_used: now,
        expires: now.checked_add(ttl).unwrap_or(jiff::Timestamp::MAX),
    };
    (key, csrf, session)
}

/// The store's key of a session: the SHA-256 of its `.ASPXAUTH` value.
/// The value has 244 random bits, so a plain hash cannot be guessed back.
pub fn session_key(cookie: &str) -> String {
    sha256_hex(cookie)
}

/// Whether a `BPMCSRF` header is the session's (compared as hashes, in
/// time that does not depend on where they differ).
pub fn csrf_matches(sent: &str, session: &StoredSession) -> bool {
    same_secret(&sha256_hex(sent), &session.csrf)
}

/// Whether a live session has been unused longer than `idle`.
pub fn is_idle(session: &StoredSession, now: jiff::Timestamp, idle: Option<Duration>) -> bool {
    idle.is_some_and(|idle| now.duration_since(session.last_used).unsigned_abs() >= idle)
}

/// Whether to note in the store that the session was used now: only with
/// an idle time-out, and at most every tenth of it (at most every minute),
/// so that a busy session is not a write per request.
pub fn needs_touch(session: &StoredSession, now: jiff::Timestamp, idle: Option<Duration>) -> bool {
    idle.is_some_and(|idle| {
        let step = (idle / 10).min(Duration::from_secs(60));
        now.duration_since(session.last_used).unsigned_abs() >= step
    })
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Requests that need no sign-in.
pub fn is_public(path: &str) -> bool {
    path == "/health" || path == "/Login/NuiLogin.aspx" || is_login(path) || super::console::is_public(path)
}

/// Creatio's sign-in route (under either prefix), matched exactly.
pub fn is_login(path: &str) -> bool {
    super::PREFIXES.iter().any(|p| path.strip_prefix(p) == Some("/AuthService.svc/Login"))
}

/// Requests that change state, and so need `BPMCSRF` with a session: every
/// method but GET and HEAD, and every ProcessEngineService call (its GETs
/// run processes).
pub fn changes_state(method: &Method, path: &str) -> bool {
    !(method == Method::GET || method == Method::HEAD) || path.contains("/ProcessEngineService.svc/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("s3cret").unwrap();
        let text = format!(r#"{{"users":[{{"name":"Ada","password":"{hash}","roles":["user"]}}]}}"#);
        let users = Users::parse(&text).unwrap();
        assert!(users.verify("Ada", "s3cret"));
        assert!(!users.verify("Ada", "wrong"));
        assert!(!users.verify("Bob", "s3cret"));
        assert_eq!(users.roles_of("Ada"), Some(vec!["user".to_string()]));
    }

    #[test]
    fn a_plain_or_other_hash_is_refused() {
        let err = Users::parse(r#"{"users":[{"name":"Ada","password":"s3cret","roles":[]}]}"#).unwrap_err();
        assert!(err.contains("not an argon2 hash"), "{err}");
        let other = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        let err =
            Users::parse(&format!(r#"{{"users":[{{"name":"Ada","password":"{other}","roles":[]}}]}}"#)).unwrap_err();
        assert!(err.contains("must be argon2id with the parameters"), "{err}");
    }

    #[test]
    fn entries_need_roles_and_distinct_names() {
        let hash = hash_password("s3cret").unwrap();
        let err = Users::parse(&format!(r#"{{"users":[{{"name":"Ada","password":"{hash}"}}]}}"#)).unwrap_err();
        assert!(err.contains("has no \"roles\""), "{err}");
        let twice = format!(
            r#"{{"users":[{{"name":"Ada","password":"{hash}","roles":[]}},{{"name":"Ada","password":"{hash}","roles":[]}}]}}"#
        );
        assert!(Users::parse(&twice).unwrap_err().contains("given twice"));
        let empty = format!(r#"{{"users":[{{"name":" ","password":"{hash}","roles":[]}}]}}"#);
        assert!(Users::parse(&empty).unwrap_err().contains("empty name"));
    }

    #[test]
    fn tokens_are_found_by_hash_and_refused_short_or_expired() {
        let text = format!(
            r#"{{"tokens":[{{"name":"ci","sha256":"{}","roles":["operator"]}},{{"name":"old","sha256":"{}","roles":[],"expires":"2020-01-01T00:00:00Z"}}]}}"#,
            sha256_hex(TOKEN),
            sha256_hex(&TOKEN.to_uppercase())
        );
        let users = Users::parse(&text).unwrap();
        assert_eq!(users.token(TOKEN), Ok(("ci".to_string(), vec!["operator".to_string()])));
        assert_eq!(users.token("0123456789abcdef0123456789abcdeX"), Err("the bearer token is not valid"));
        assert!(users.token("short").unwrap_err().contains("too short"));
        assert_eq!(users.token(&TOKEN.to_uppercase()), Err("the bearer token has expired"));
        assert_eq!(new_token().unwrap().len(), 64);
    }

    #[test]
    fn a_session_keeps_hashes_and_ends_when_idle() {
        let now: jiff::Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        let (key, csrf, session) = new_session("Ada", Duration::from_secs(60), now);
        assert_eq!(session.key, session_key(&key));
        assert!(session.key != key && session.csrf != csrf, "no cookie value is kept");
        assert!(csrf_matches(&csrf, &session) && !csrf_matches(&key, &session));
        assert_eq!(session.expires, now + jiff::SignedDuration::from_secs(60));
        let idle = Some(Duration::from_secs(100));
        let later = |s: i64| now + jiff::SignedDuration::from_secs(s);
        assert!(!is_idle(&session, later(99), idle) && is_idle(&session, later(100), idle));
        assert!(!is_idle(&session, later(1000), None));
        assert!(!needs_touch(&session, later(9), idle) && needs_touch(&session, later(10), idle));
        assert!(!needs_touch(&session, later(1000), None), "no idle time-out: never written");
    }

    #[test]
    fn login_paths_match_exactly() {
        assert!(is_login("/ServiceModel/AuthService.svc/Login"));
        assert!(is_login("/0/ServiceModel/AuthService.svc/Login"));
        assert!(!is_login("/api/instances/AuthService.svc/Login"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }
}
