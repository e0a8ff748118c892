//! Middleware: the service-wide guard (concurrency limit, header limits,
//! request timeout), sign-in and CSRF checks, and request metrics.

use super::auth;
use super::error::ApiError;
use super::{AppState, Deadline};
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Around the whole service: waits for one of `max_concurrent` slots (a
/// request that cannot get one by its deadline gets 503), then checks
/// header limits and answers by the deadline. The deadline is one for the
/// wait and the work: `--timeout` is the longest time to an answer.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let deadline = Deadline(Instant::now() + state.limits.request_timeout);
    let permit = match tokio::time::timeout_at(deadline.0.into(), state.requests.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => {
            state.metrics.record("(waiting for a slot)", 503, state.limits.request_timeout);
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the service is busy; try again later")
                .into_response();
        }
    };
    request.extensions_mut().insert(deadline);
    state.metrics.enter();
    let response = guarded(&state, request, next, deadline).await;
    state.metrics.leave();
    drop(permit);
    response
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
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(users) = &state.users else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    if auth::is_public(path) {
        return next.run(request).await;
    }
    let headers = request.headers();
    if let Some(token) = auth::bearer(headers) {
        if users.token(token).is_some() {
            return next.run(request).await;
        }
        return unauthorized("the bearer token is not valid");
    }
    let Some(key) = auth::cookie(headers, ".ASPXAUTH") else {
        return unauthorized("sign in first (AuthService.svc/Login) or send `Authorization: Bearer TOKEN`");
    };
    let Some(session) = state.sessions.find(key) else {
        return unauthorized("the session has expired or is not known; sign in again");
    };
    if auth::changes_state(request.method(), path) {
        let sent = headers.get("BPMCSRF").and_then(|v| v.to_str().ok());
        if sent != Some(session.csrf.as_str()) {
            let what = if sent.is_none() { "has no" } else { "has a wrong" };
            return ApiError::new(
                StatusCode::FORBIDDEN,
                format!("the request {what} `BPMCSRF` header; send the value of the `BPMCSRF` cookie"),
            )
            .into_response();
        }
    }
    next.run(request).await
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
