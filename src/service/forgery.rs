//! What a web page in the user's browser could make the service do, and
//! the rules that stop it:
//!
//! - every request whose body is JSON must say so (`Content-Type:
//!   application/json`): a cross-site form can only send `text/plain`,
//!   `multipart/form-data` or `application/x-www-form-urlencoded` (415);
//! - with no users file (loopback, no sign-in) the `Host` must be a loopback
//!   name (against DNS rebinding), an `Origin` must be a loopback origin and
//!   `Sec-Fetch-Site` must not be `cross-site` (403); and a request that
//!   changes state must carry what no `<img>`, link or plain form can send:
//!   `Content-Type: application/json`, an `X-Requested-With` or a `BPMCSRF`
//!   header (403). With a users file the session's `BPMCSRF` does this.
//!
//! The console's forms (`application/x-www-form-urlencoded`, to console
//! routes only) are the one exception to "the body is JSON": a form
//! carries the session's token as its `BPMCSRF` field, which is lifted here
//! into the `BPMCSRF` header, so that sign-in checks it as it checks an API
//! client's header; without a users file a form must also come with an
//! `Origin` (which browsers send with every form POST) or
//! `Sec-Fetch-Site: same-origin`.
//!
//! And on every answer: `X-Content-Type-Options: nosniff`, and
//! `Cache-Control: no-store` unless the handler chose otherwise.

use super::auth;
use super::error::ApiError;
use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The header a non-browser client may send instead of a JSON content type.
pub const REQUESTED_WITH: &str = "x-requested-with";

pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request = if super::console::is_form_post(request.method(), request.uri().path(), request.headers()) {
        match lift_form_token(request, state.limits.max_body).await {
            Ok(request) => request,
            Err(e) => return e.into_response(),
        }
    } else {
        request
    };
    match refuse(state.users.is_none(), &request) {
        Some(e) => e.into_response(),
        None => next.run(request).await,
    }
}

/// Marks a request whose body is a console form.
#[derive(Clone, Copy)]
struct ConsoleForm;

/// Reads a console form's body (within the body limit) and sets its
/// `BPMCSRF` field as the request's `BPMCSRF` header.
async fn lift_form_token(request: Request, max_body: usize) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, max_body).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the form is too large (at most {max_body} bytes)"))
    })?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    parts.headers.remove("bpmcsrf");
    if let Some((_, token)) = pairs.iter().rev().find(|(k, _)| k == "BPMCSRF") {
        if let Ok(v) = HeaderValue::from_str(token) {
            parts.headers.insert("bpmcsrf", v);
        }
    }
    parts.extensions.insert(ConsoleForm);
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

fn refuse(loopback: bool, request: &Request) -> Option<ApiError> {
    let headers = request.headers();
    let form = request.extensions().get::<ConsoleForm>().is_some();
    if has_body(headers) && !is_json(headers) && !form {
        return Some(
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be JSON, sent with `Content-Type: application/json`",
            )
            .with_code("procdsl::request::not_json"),
        );
    }
    if !loopback {
        return None;
    }
    let forbidden =
        |message: String| Some(ApiError::new(StatusCode::FORBIDDEN, message).with_code("procdsl::request::forgery"));
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(host) if is_loopback_host(host) => {}
        Some(_) => {
            return forbidden(
                "the `Host` is not a loopback name: without --users the service answers only localhost, 127.x.x.x and [::1]"
                    .into(),
            )
        }
        None => return forbidden("the request has no `Host`".into()),
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let local =
            ["http://", "https://"].iter().find_map(|scheme| origin.strip_prefix(scheme)).is_some_and(is_loopback_host);
        if !local {
            return forbidden(format!(
                "the request comes from a web page of another site (`Origin: {origin}`); without --users only loopback pages may call the service"
            ));
        }
    }
    if headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site")) {
        return forbidden("the request comes from a web page of another site (`Sec-Fetch-Site: cross-site`)".into());
    }
    let same_origin = headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"same-origin"));
    if form && !headers.contains_key(header::ORIGIN) && !same_origin {
        return forbidden(
            "a console form must come from a page of this service (with an `Origin` or `Sec-Fetch-Site: same-origin`)"
                .into(),
        );
    }
    let path = request.uri().path();
    let marked = is_json(headers) || headers.contains_key(REQUESTED_WITH) || headers.contains_key("bpmcsrf");
    if auth::changes_state(request.method(), path) && !auth::is_login(path) && !marked {
        return forbidden(
            "a request that changes state needs `Content-Type: application/json` or an `X-Requested-With` header (so that no web page can send it with a link, image or form)"
                .into(),
        );
    }
    None
}

/// Does the request have a body (a non-zero length, or chunks)?
fn has_body(headers: &HeaderMap) -> bool {
    let length =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// Is the media type `application/json` (parameters such as `charset` allowed)?
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || port.strip_prefix(':').is_some_and(valid_port) => {
                return inside == "::1"
            }
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if valid_port(port) => name,
            Some(_) => return false,
            None => host,
        }
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn valid_port(port: &str) -> bool {
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok()
}

/// The headers every answer carries.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_names_are_loopback_hosts() {
        for ok in ["localhost", "LOCALHOST:8080", "127.0.0.1", "127.1.2.3:80", "[::1]", "[::1]:8080"] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in
            ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "[::2]", "10.0.0.1:80", "localhost:x", ""]
        {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
