//! Who makes a request: the signed-in user, the bearer token, or (with no
//! users file) the local caller. Every request carries one (a request
//! extension set by sign-in), so that access checks, the access log and the
//! engine ("started by", "executed by") all name the same caller.

/// How the caller proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A session from `AuthService.svc/Login`.
    Session,
    /// An `Authorization: Bearer` token.
    Token,
    /// No users file: the service is on loopback and the caller is local.
    Local,
}

/// A user or token name with its roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The user's or token's name from the users file; `local` on loopback.
    pub name: String,
    /// Built-in roles (`admin`, `operator`, `user`, `reader`) and groups.
    pub roles: Vec<String>,
    pub via: Via,
}

/// The name the local caller goes by (as the CLI's runs do).
pub const LOCAL: &str = "local";

impl Caller {
    /// The local caller of a service without a users file: an `admin`.
    pub fn local() -> Caller {
        Caller { name: LOCAL.to_string(), roles: vec!["admin".to_string()], via: Via::Local }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}
