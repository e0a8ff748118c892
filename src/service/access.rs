//! Who may do what: the role matrix, one table from route pattern to the
//! permission it needs, checked for every request by one middleware
//! ([`enforce`]) after sign-in. Handlers never check roles themselves; the
//! two decisions that depend on data are [`visible_to`] (which instances a
//! `user` sees), applied to what handlers load, and the engine's
//! `runtime::access::may_execute` (which tasks a caller may execute), given
//! the caller's name and roles by [`run_as`].
//! docs/SERVICE.md ("Security") has the same matrix for readers.

use super::caller::Caller;
use super::error::ApiError;
use crate::runtime::engine::RunOptions;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What a route needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in caller, whatever its roles.
    SignedIn,
    /// Read processes and instances (a `user` sees only its own instances).
    Read,
    /// Start a process.
    Start,
    /// Execute a waiting element-instance (a `user`: only its tasks).
    Exec,
    /// Cancel instances.
    Cancel,
    /// Throw a signal (it wakes every instance waiting for it).
    Signal,
    /// Read the Prometheus metrics.
    Metrics,
}

/// Every route and what it needs. Creatio routes without their prefix
/// (`/0/ServiceModel` or `/ServiceModel`); HEAD is looked up as GET.
pub const MATRIX: &[(&str, &str, Permission)] = &[
    ("POST", "/AuthService.svc/Login", Permission::Public),
    ("POST", "/AuthService.svc/Logout", Permission::SignedIn),
    ("GET", "/ProcessEngineService.svc/{code}/Execute", Permission::Start),
    ("POST", "/ProcessEngineService.svc/{code}/Execute", Permission::Start),
    ("GET", "/ProcessEngineService.svc/ExecProcElByUId/{uid}", Permission::Exec),
    ("POST", "/ProcessEngineService.svc/ExecProcElByUId/{uid}", Permission::Exec),
    ("POST", "/ProcessEngineService.svc/RunProcess", Permission::Start),
    ("POST", "/ProcessEngineService.svc/CancelExecution", Permission::Cancel),
    ("GET", "/api/processes", Permission::Read),
    ("GET", "/api/processes/{code}", Permission::Read),
    ("GET", "/api/instances", Permission::Read),
    ("GET", "/api/instances/{id}", Permission::Read),
    ("POST", "/api/signals/{name}", Permission::Signal),
    ("GET", "/api/openapi.json", Permission::SignedIn),
    ("GET", "/health", Permission::Public),
    ("GET", "/metrics", Permission::Metrics),
    ("GET", "/0/odata/{entitySet}", Permission::Read),
    ("GET", "/0/odata/{entitySet}/$count", Permission::Read),
    // Served by `{entitySet}`; listed for the OpenAPI document.
    ("GET", "/0/odata/SysProcessLog({id})", Permission::Read),
    ("GET", "/Login/NuiLogin.aspx", Permission::Public),
    // The web console (docs/CONSOLE.md). A page shows only the forms its
    // viewer's roles allow; the action behind each form needs the same here.
    ("GET", "/", Permission::SignedIn),
    ("GET", "/signin", Permission::Public),
    ("POST", "/signin", Permission::Public),
    ("POST", "/signout", Permission::SignedIn),
    ("GET", "/console/{file}", Permission::Public),
    ("GET", "/processes", Permission::Read),
    ("GET", "/processes/{code}", Permission::Read),
    ("POST", "/processes/{code}", Permission::Start),
    ("GET", "/tasks", Permission::Read),
    ("GET", "/tasks/{uid}", Permission::Read),
    ("POST", "/tasks/{uid}", Permission::Exec),
    ("GET", "/instances", Permission::Read),
    ("GET", "/instances/{id}", Permission::Read),
    ("GET", "/instances/{id}/version", Permission::Read),
    ("POST", "/instances/{id}/cancel", Permission::Cancel),
    ("POST", "/instances/{id}/signal", Permission::Signal),
];

/// The built-in roles; any other role name is a group tasks are assigned to.
pub const ROLES: [&str; 4] = ["admin", "operator", "user", "reader"];

/// Does this role give this permission?
pub fn grants(role: &str, permission: Permission) -> bool {
    use Permission::*;
    match role {
        "admin" | "operator" => true,
        "user" => matches!(permission, Public | SignedIn | Read | Start | Exec),
        "reader" => matches!(permission, Public | SignedIn | Read | Metrics),
        _ => matches!(permission, Public | SignedIn),
    }
}

/// May this caller do this?
pub fn allows(caller: &Caller, permission: Permission) -> bool {
    matches!(permission, Permission::Public | Permission::SignedIn)
        || caller.roles.iter().any(|r| grants(r, permission))
}

/// The permission a route pattern needs (`None`: the route is not in the
/// matrix, and is refused).
pub fn required(method: &Method, pattern: &str) -> Option<Permission> {
    let method = if method == Method::HEAD { "GET" } else { method.as_str() };
    let route = super::PREFIXES.iter().find_map(|p| pattern.strip_prefix(p)).unwrap_or(pattern);
    MATRIX.iter().find(|(m, p, _)| *m == method && *p == route).map(|(_, _, permission)| *permission)
}

/// The one check of the matrix: runs after sign-in, which put the
/// [`Caller`] on the request. A request no route matched goes on (to its
/// 404 or 405).
pub async fn enforce(request: Request, next: Next) -> Response {
    let Some(pattern) = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()) else {
        return next.run(request).await;
    };
    let Some(permission) = required(request.method(), &pattern) else {
        // A route served for other methods: the router answers 405.
        if [Method::GET, Method::POST].iter().any(|m| required(m, &pattern).is_some()) {
            return next.run(request).await;
        }
        return ApiError::new(StatusCode::FORBIDDEN, format!("`{pattern}` has no access rule; it is refused"))
            .into_response();
    };
    if permission == Permission::Public {
        return next.run(request).await;
    }
    let Some(caller) = request.extensions().get::<Caller>() else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    if !allows(caller, permission) {
        let who: Vec<&str> = ROLES.iter().copied().filter(|r| grants(r, permission)).collect();
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "`{}` (roles: {}) may not {}; that needs the role {}",
                caller.name,
                if caller.roles.is_empty() { "none".to_string() } else { caller.roles.join(", ") },
                describe(permission),
                who.join(" or ")
            ),
        )
        .with_code("procdsl::access::forbidden")
        .into_response();
    }
    next.run(request).await
}

fn describe(permission: Permission) -> &'static str {
    match permission {
        Permission::Public | Permission::SignedIn => "call this route",
        Permission::Read => "read processes and instances",
        Permission::Start => "start processes",
        Permission::Exec => "execute waiting element-instances",
        Permission::Cancel => "cancel instances",
        Permission::Signal => "throw signals",
        Permission::Metrics => "read the metrics",
    }
}

/// Does this caller see every instance (`admin`, `operator`, `reader`), or
/// only those it started or holds a task in (`user`)?
pub fn sees_every_instance(caller: &Caller) -> bool {
    caller.roles.iter().any(|r| matches!(r.as_str(), "admin" | "operator" | "reader"))
}

/// What an instance tells about whom it belongs to. Who started an
/// instance and to whom its waiting tasks are assigned are recorded by the
/// engine (`startedBy`, a user task's `to`); an instance that records
/// neither belongs to nobody, and a `user` does not see it.
pub trait Ownership {
    /// The user or token name that started it.
    fn started_by(&self) -> Option<&str>;
    /// The names and roles its waiting tasks are assigned to.
    fn task_holders(&self) -> Vec<&str>;
}

impl Ownership for crate::store::InstanceSummary {
    fn started_by(&self) -> Option<&str> {
        self.started_by.as_deref()
    }

    /// A summary does not list its tasks' assignees: a `user` sees the
    /// instances it started in lists, and any it holds a task in by id.
    fn task_holders(&self) -> Vec<&str> {
        Vec::new()
    }
}

impl Ownership for crate::runtime::instance::Instance {
    fn started_by(&self) -> Option<&str> {
        self.started_by.as_deref()
    }

    fn task_holders(&self) -> Vec<&str> {
        self.waiting
            .iter()
            .filter_map(|w| match &w.wait {
                crate::runtime::instance::Wait::User { to: Some(to) } => Some(to.iter().map(String::as_str)),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

/// The options of a run on behalf of `caller`: it is the actor recorded in
/// the history, and a task's `to` is checked against its roles unless it
/// may execute anything (`admin`, `operator`).
pub fn run_as(mut options: RunOptions, caller: &Caller) -> RunOptions {
    options.actor = caller.name.as_str().into();
    options.roles = (!caller.has_role("admin") && !caller.has_role("operator")).then(|| caller.roles.clone());
    options
}

/// May this caller see this instance?
pub fn visible_to(instance: &impl Ownership, caller: &Caller) -> bool {
    if sees_every_instance(caller) {
        return true;
    }
    instance.started_by() == Some(caller.name.as_str())
        || instance.task_holders().iter().any(|h| *h == caller.name || caller.has_role(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::caller::Via;

    fn caller(roles: &[&str]) -> Caller {
        Caller { name: "Ada".into(), roles: roles.iter().map(|r| r.to_string()).collect(), via: Via::Session }
    }

    #[test]
    fn every_route_the_router_serves_has_a_rule() {
        let console = super::super::CONSOLE_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string()));
        for (method, path) in super::super::routes().into_iter().chain(console) {
            let method: Method = method.to_ascii_uppercase().parse().unwrap();
            assert!(required(&method, &path).is_some(), "{method} {path} is not in the matrix");
        }
    }

    #[test]
    fn roles_give_what_the_matrix_says() {
        assert!(allows(&caller(&["reader"]), Permission::Metrics));
        assert!(!allows(&caller(&["reader"]), Permission::Start));
        assert!(allows(&caller(&["user"]), Permission::Exec));
        assert!(!allows(&caller(&["user"]), Permission::Cancel));
        assert!(!allows(&caller(&["managers"]), Permission::Read));
        assert!(allows(&caller(&["managers", "operator"]), Permission::Signal));
    }

    #[test]
    fn a_run_as_a_caller_checks_tasks_unless_it_may_execute_anything() {
        use crate::runtime::access::may_execute;
        let managers = ["managers".to_string(), "Bob".to_string()];
        let check = |roles: &[&str]| {
            let options = run_as(RunOptions::default(), &caller(roles));
            assert_eq!(&*options.actor, "Ada");
            options.roles.map(|r| may_execute("Approve", &managers, &options.actor, &r).is_ok())
        };
        assert_eq!(check(&["user", "managers"]), Some(true));
        assert_eq!(check(&["user"]), Some(false));
        assert_eq!(check(&["operator"]), None, "an operator's runs are not checked");
        assert_eq!(check(&["admin"]), None);
        let own = run_as(RunOptions::default(), &caller(&["user"]));
        assert!(may_execute("Approve", &["Ada".to_string()], &own.actor, own.roles.as_deref().unwrap()).is_ok());
    }
}
