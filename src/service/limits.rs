//! Middleware: the service-wide guard (concurrency limit, header limits,
//! request timeout), sign-in and CSRF checks, and request metrics.

use super::auth;
use super::error::ApiError;
use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Around the whole service: waits for one of `max_concurrent` slots (a
/// request that cannot get one within the request timeout gets 503), then
/// checks header limits and answers within the request timeout.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let timeout = state.limits.request_timeout;
    let permit = match tokio::time::timeout(timeout, state.requests.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the service is busy; try again later")
                .into_response()
        }
    };
    state.metrics.enter();
    let response = guarded(&state, request, next).await;
    state.metrics.leave();
    drop(permit);
    response
}

async fn guarded(state: &AppState, request: Request, next: Next) -> Response {
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
    let timeout = state.limits.request_timeout;
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} s; what it committed stays committed", timeout.as_secs_f64()),
        )
        .into_response(),
    }
}

/// Counts requests by route and status, with their latency.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
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
