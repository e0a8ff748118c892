//! Who may call the service: users with argon2 password hashes and bearer
//! tokens (stored as SHA-256 hashes), from the JSON file given to
//! `serve --users`; Creatio's sign-in (`AuthService.svc/Login`) with the
//! `.ASPXAUTH`, `BPMCSRF` and `BPMSESSIONID` cookies; sessions that expire.
//!
//! ```json
//! { "users":  [ { "name": "Supervisor", "password": "$argon2id$v=19$m=19456,t=2,p=1$…" } ],
//!   "tokens": [ { "name": "ci", "sha256": "9f86d081884c7d65…" } ] }
//! ```

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{HeaderMap, Method};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most this many live sessions; the oldest expire first when full.
pub const MAX_SESSIONS: usize = 100_000;

/// The most memory one password check may take, in KiB (argon2's `m`):
/// each sign-in thread keeps this much.
pub const MAX_M_COST: u32 = 256 * 1024;

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
    /// An argon2 hash in PHC form (`procdsl serve --hash-password` writes one).
    pub password: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub name: String,
    /// The SHA-256 of the token, in hex.
    pub sha256: String,
}

/// The users and tokens of a users file, checked.
#[derive(Debug)]
pub struct Users {
    users: HashMap<String, String>,
    /// Token hash → name.
    tokens: HashMap<String, String>,
    /// Checked for an unknown user, so that it costs what a wrong password costs.
    dummy: String,
}

impl Users {
    /// Reads and checks a users file: every password must be a PHC hash.
    pub fn load(path: &Path) -> Result<Users, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Users::parse(&text).map_err(|e| format!("`{}`: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Users, String> {
        let file: UsersFile = serde_json::from_str(text).map_err(|e| format!("not a users file: {e}"))?;
        let mut users = HashMap::new();
        for u in file.users {
            let hash = PasswordHash::new(&u.password)
                .map_err(|e| format!("user `{}`: the password is not an argon2 hash ({e})", u.name))?;
            let m = argon2::Params::try_from(&hash).map(|p| p.m_cost()).unwrap_or(0);
            if m > MAX_M_COST {
                return Err(format!(
                    "user `{}`: the hash asks for {m} KiB of memory per check; at most {MAX_M_COST} KiB",
                    u.name
                ));
            }
            users.insert(u.name, u.password);
        }
        let mut tokens = HashMap::new();
        for t in file.tokens {
            let hash = t.sha256.to_ascii_lowercase();
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("token `{}`: sha256 must be 64 hex digits", t.name));
            }
            tokens.insert(hash, t.name);
        }
        if users.is_empty() && tokens.is_empty() {
            return Err("it names no users and no tokens".to_string());
        }
        let dummy = hash_password("not a password")?;
        Ok(Users { users, tokens, dummy })
    }

    /// Checks a password (slow on purpose: argon2). An unknown user costs
    /// the same time as a wrong password.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let stored = self.users.get(name).unwrap_or(&self.dummy);
        let Ok(parsed) = PasswordHash::new(stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && self.users.contains_key(name)
    }

    /// The hash a sign-in as `name` is checked against (a dummy for an
    /// unknown user, so that both cost the same), and whether `name` is known.
    pub fn hash_for(&self, name: &str) -> (&str, bool) {
        match self.users.get(name) {
            Some(hash) => (hash, true),
            None => (&self.dummy, false),
        }
    }

    /// The token's name, when the token is known.
    pub fn token(&self, token: &str) -> Option<&str> {
        self.tokens.get(&sha256_hex(token)).map(String::as_str)
    }
}

/// An argon2id hash of a password, with a random salt, in PHC form.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A random token with 244 bits of randomness.
pub fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

#[derive(Clone, Debug)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    pub expires: Instant,
}

/// Signed-in sessions, by their `.ASPXAUTH` value. Kept in memory: a
/// restart signs everyone out.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn create(&self, user: &str, ttl: Duration) -> (String, Session) {
        let now = Instant::now();
        let session = Session { user: user.to_string(), csrf: random_token(), expires: now + ttl };
        let key = random_token();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.expires > now);
            if map.len() >= MAX_SESSIONS {
                if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone()) {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(key.clone(), session.clone());
        (key, session)
    }

    /// The live session with this key; an expired one is forgotten.
    pub fn find(&self, key: &str) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }
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
    path == "/health" || path == "/Login/NuiLogin.aspx" || is_login(path)
}

/// Creatio's sign-in route (under either prefix).
pub fn is_login(path: &str) -> bool {
    path.ends_with("/AuthService.svc/Login")
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

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("s3cret").unwrap();
        let text = format!(r#"{{"users":[{{"name":"Ada","password":"{hash}"}}]}}"#);
        let users = Users::parse(&text).unwrap();
        assert!(users.verify("Ada", "s3cret"));
        assert!(!users.verify("Ada", "wrong"));
        assert!(!users.verify("Bob", "s3cret"));
    }

    #[test]
    fn a_plain_password_is_refused() {
        let err = Users::parse(r#"{"users":[{"name":"Ada","password":"s3cret"}]}"#).unwrap_err();
        assert!(err.contains("not an argon2 hash"), "{err}");
    }

    #[test]
    fn tokens_are_found_by_hash() {
        let text = format!(r#"{{"tokens":[{{"name":"ci","sha256":"{}"}}]}}"#, sha256_hex("tok"));
        let users = Users::parse(&text).unwrap();
        assert_eq!(users.token("tok"), Some("ci"));
        assert_eq!(users.token("other"), None);
    }
}
