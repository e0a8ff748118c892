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
    match refuse(state.users.is_none(), &request) {
        Some(e) => e.into_response(),
        None => next.run(request).await,
    }
}

fn refuse(loopback: bool, request: &Request) -> Option<ApiError> {
    let headers = request.headers();
    if has_body(headers) && !is_json(headers) {
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
