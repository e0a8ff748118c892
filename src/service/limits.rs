//! Middleware: the service-wide guard (concurrency limit, header limits,
//! request timeout), sign-in and CSRF checks, and request metrics.

use super::auth;
use super::caller::{Caller, Via};
use super::error::ApiError;
use super::{AppState, Deadline};
use crate::store::StoredSession;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Around the whole service: puts the path in its canonical form (see
/// [`super::canonical_path`]), refuses what no handler should see (a body
/// declared over the limit, before `100 Continue`; a query that is not UTF-8;
/// `HEAD` on a route that runs processes), waits for one of
/// `max_concurrent` slots (Login has its own small pool, so that slow
/// unsigned sign-ins cannot hold them; a request that cannot get one within
/// its deadline gets 503), then checks header limits and answers by the
/// deadline. The deadline is one for the wait and the work: `--timeout` is
/// the longest time to an answer.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Err(e) = canonicalize(&mut request) {
        return e.into_response();
    }
    if let Err(e) = precheck(&state, &request) {
        let mut response = e.into_response();
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            let path = request.uri().path();
            let allow =
                if path.ends_with("/RunProcess") || path.ends_with("/CancelExecution") { "POST" } else { "GET, POST" };
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        return response;
    }
    let deadline = Deadline(Instant::now() + state.limits.request_timeout);
    let pool = if auth::is_login(request.uri().path()) { &state.logins } else { &state.requests };
    let permit = match tokio::time::timeout_at(deadline.0.into(), pool.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => {
            state.metrics.record("(waiting for a slot)", 503, state.limits.request_timeout);
            let mut response =
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the service is busy; try again later").into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
            return response;
        }
    };
    request.extensions_mut().insert(deadline);
    state.metrics.enter();
    let response = guarded(&state, request, next, deadline).await;
    state.metrics.leave();
    drop(permit);
    response
}

/// Rewrites the request's path to the one routes are matched by.
fn canonicalize(request: &mut Request) -> Result<(), ApiError> {
    let uri = request.uri();
    let path = super::canonical_path(uri.path());
    if path == uri.path() {
        return Ok(());
    }
    let rewritten = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.into_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query =
        Some(rewritten.parse().map_err(|_| ApiError::bad_request("the request's path is not valid"))?);
    *request.uri_mut() =
        Uri::from_parts(parts).map_err(|_| ApiError::bad_request("the request's path is not valid"))?;
    Ok(())
}

/// The checks that need no slot and no body.
fn precheck(state: &AppState, request: &Request) -> Result<(), ApiError> {
    let path = request.uri().path();
    if request.method() == Method::HEAD && path.contains("/ProcessEngineService.svc/") {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("`{path}` runs processes: HEAD is not allowed, use GET or POST"),
        ));
    }
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if let Some(length) = declared.and_then(|v| v.trim().parse::<u64>().ok()) {
        if length > state.limits.max_body as u64 {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is too large ({length} bytes; at most {})", state.limits.max_body),
            ));
        }
    }
    if let Some(query) = request.uri().query() {
        if let Some(bad) = non_utf8_query(query) {
            return Err(ApiError::bad_request(format!(
                "the query string is not valid: `{bad}` does not decode to UTF-8 text"
            )));
        }
    }
    Ok(())
}

/// The first `name=value` pair of a query whose percent-decoding is not
/// UTF-8 (the same bytes in a path are refused too).
fn non_utf8_query(query: &str) -> Option<&str> {
    query.split('&').find(|pair| {
        let bytes = pair.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (b'%', Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&out).is_err()
    })
}

async fn guarded(state: &AppState, request: Request, next: Next, deadline: Deadline) -> Response {
    let headers = request.headers();
    let bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    if headers.len() > state.limits.max_headers || bytes > state.limits.max_header_bytes {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request's headers are too large ({} headers, {bytes} bytes; at most {} headers, {} bytes)",
                headers.len(),
                state.limits.max_headers,
                state.limits.max_header_bytes
            ),
        )
        .into_response();
    }
    // A backstop: `record` answers at the deadline itself, and counts it.
    let late = deadline.0 + std::time::Duration::from_millis(50);
    match tokio::time::timeout_at(late.into(), next.run(request)).await {
        Ok(response) => response,
        Err(_) => timed_out(state).into_response(),
    }
}

/// The answer at the deadline, when the request's work has not answered.
fn timed_out(state: &AppState) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the request took longer than {} s; its run was stopped. A save on its way to the store \
             may have been committed: RunProcess with the same Idempotency-Key answers what was",
            state.limits.request_timeout.as_secs_f64()
        ),
    )
    .with_code("procdsl::service::timeout")
}

/// Counts requests by route and status, with their latency, and answers a
/// request that reaches its deadline with 503 (counted too).
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let deadline = request.extensions().get::<Deadline>().copied();
    let started = Instant::now();
    let response = match deadline {
        Some(deadline) => match tokio::time::timeout_at(deadline.0.into(), next.run(request)).await {
            Ok(response) => response,
            Err(_) => timed_out(&state).into_response(),
        },
        None => next.run(request).await,
    };
    state.metrics.record(&route, response.status().as_u16(), started.elapsed());
    response
}

/// Every route but Login and `/health` needs a session (the `.ASPXAUTH`
/// cookie, plus a `BPMCSRF` header equal to the `BPMCSRF` cookie's session
/// value on state-changing requests) or an `Authorization: Bearer` token.
/// Puts the [`Caller`] on the request (and on the answer, for the access
/// log); without a users file the caller is the local `admin`.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let key = match &state.users {
        Some(_) if auth::bearer(headers).is_none() => auth::cookie(headers, ".ASPXAUTH").map(auth::session_key),
        _ => None,
    };
    let session = match key {
        Some(key) => match find_session(&state, key).await {
            Ok(session) => session,
            // A public route (Login, `/health`) answers without a session.
            Err(_) if auth::is_public(request.uri().path()) => None,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let caller = match identify(&state, &request, session) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    if let Some(caller) = &caller {
        request.extensions_mut().insert(caller.clone());
    }
    let mut response = next.run(request).await;
    if let Some(caller) = caller {
        response.extensions_mut().insert(caller);
    }
    response
}

/// The live session under `key` (the hash of an `.ASPXAUTH` cookie), read
/// from the store at every request, so that a Logout on any node ends it
/// on every node at once. One idle too long is ended; one in use is noted
/// as used (see [`auth::needs_touch`]).
async fn find_session(state: &AppState, key: String) -> Result<Option<StoredSession>, ApiError> {
    let idle = state.limits.session_idle;
    let s = state.clone();
    super::blocking(move || {
        s.store.call(move |st| {
            let now = jiff::Timestamp::now();
            let Some(session) = st.find_session(&key, now)? else { return Ok(None) };
            if auth::is_idle(&session, now, idle) {
                st.end_session(&key)?;
                return Ok(None);
            }
            if auth::needs_touch(&session, now, idle) {
                st.touch_session(&key, now)?;
            }
            Ok(Some(session))
        })
    })
    .await
}

/// Who the request comes from (`None`: a public route, not signed in), or
/// the answer that refuses it. `session`: the live session of its
/// `.ASPXAUTH` cookie, if any.
fn identify(
    state: &AppState,
    request: &Request,
    session: Option<StoredSession>,
) -> Result<Option<Caller>, Box<Response>> {
    let Some(users) = &state.users else {
        return Ok(Some(Caller::local()));
    };
    let path = request.uri().path();
    let headers = request.headers();
    if let Some(token) = auth::bearer(headers) {
        return match users.token(token) {
            Ok((name, roles)) => Ok(Some(Caller { name, roles, via: Via::Token })),
            Err(message) => Err(Box::new(unauthorized(message))),
        };
    }
    let public = auth::is_public(path);
    let Some(session) = session else {
        if public {
            return Ok(None);
        }
        // A person at the console is sent to the sign-in page instead.
        if super::console::is_console_path(path) {
            return Err(Box::new(super::console::to_signin(request.uri())));
        }
        if auth::cookie(headers, ".ASPXAUTH").is_none() {
            return Err(Box::new(unauthorized(
                "sign in first (AuthService.svc/Login) or send `Authorization: Bearer TOKEN`",
            )));
        }
        if path.starts_with("/0/odata/") && request.method() == Method::GET {
            return Err(Box::new(to_login_page(path)));
        }
        return Err(Box::new(unauthorized("the session has expired or is not known; sign in again")));
    };
    let Some(roles) = users.roles_of(&session.user) else {
        return Err(Box::new(unauthorized("the session's user is no longer in the users file; sign in again")));
    };
    if !public && auth::changes_state(request.method(), path) {
        let sent = headers.get("BPMCSRF").and_then(|v| v.to_str().ok());
        if !sent.is_some_and(|sent| auth::csrf_matches(sent, &session)) {
            let what = if sent.is_none() { "has no" } else { "has a wrong" };
            return Err(Box::new(
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("the request {what} `BPMCSRF` header; send the value of the `BPMCSRF` cookie"),
                )
                .into_response(),
            ));
        }
    }
    Ok(Some(Caller { name: session.user, roles, via: Via::Session }))
}

/// What Creatio answers an OData request with a stale session: a redirect
/// to its login page (clients that follow it read "signed out").
fn to_login_page(path: &str) -> Response {
    let back: String = path
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let location = format!("{}?ReturnUrl={back}", super::odata::LOGIN_PAGE);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response
        .headers_mut()
        .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer realm=\"procdsl\""));
    response
}

/// A panic becomes a plain 500; its message is never sent.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("internal error; nothing more was committed").into_response()
}

#[cfg(test)]
mod tests {
    use super::non_utf8_query;

    #[test]
    fn a_query_must_decode_to_utf8() {
        assert_eq!(non_utf8_query("a=1&Name=%FF&b=2"), Some("Name=%FF"));
        assert_eq!(non_utf8_query("Name=%C3%A9&x=%zz&y=%"), None);
        assert_eq!(non_utf8_query("%C3=x"), Some("%C3=x"));
    }
}
