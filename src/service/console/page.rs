//! The frame every console page shares (head, skip link, navigation,
//! message area), the embedded style sheet and script, and the answers
//! a page handler gives (a page, a redirect).

use super::super::caller::Caller;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use std::sync::OnceLock;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// What the browser may load and where forms may go: only this service.
/// Every value on a page is escaped; this is the second line.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                      form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The names of the embedded files, with a hash of their content: a new
/// build's files get new URLs, so browsers may keep them forever.
fn asset_names() -> &'static (String, String) {
    static NAMES: OnceLock<(String, String)> = OnceLock::new();
    NAMES.get_or_init(|| {
        let short = |text: &str| super::super::auth::sha256_hex(text)[..12].to_string();
        (format!("console-{}.css", short(CSS)), format!("console-{}.js", short(JS)))
    })
}

/// The embedded file called `name` (under `/console/`), with its media type.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    let (css, js) = asset_names();
    if name == css {
        Some(("text/css; charset=utf-8", CSS))
    } else if name == js {
        Some(("text/javascript; charset=utf-8", JS))
    } else {
        None
    }
}

/// A message at the top of a page (`#message`).
pub struct Message {
    pub text: String,
    pub error: bool,
}

impl Message {
    pub fn info(text: impl Into<String>) -> Option<Message> {
        Some(Message { text: text.into(), error: false })
    }

    pub fn error(text: impl Into<String>) -> Option<Message> {
        Some(Message { text: text.into(), error: true })
    }
}

/// Who looks at a page: the caller (none on the sign-in page) and the
/// CSRF token its forms carry.
#[derive(Clone, Default)]
pub struct Viewer {
    pub caller: Option<Caller>,
    pub csrf: String,
}

/// The page's frame around `body`.
pub struct Frame<'a> {
    pub title: &'a str,
    /// `data-page` on `<body>`: which page this is, for tests and styles.
    pub page: &'static str,
    pub viewer: &'a Viewer,
    pub message: Option<Message>,
    /// On an instance page: where its version is polled, and the version shown.
    pub live: Option<(String, i64)>,
}

/// The hidden field that carries the session's CSRF token in every form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="BPMCSRF" value=(token); }
}

pub fn render(frame: Frame<'_>, body: Markup) -> Markup {
    let (css, js) = asset_names();
    let (version_url, version) = match &frame.live {
        Some((url, v)) => (Some(url.as_str()), Some(v.to_string())),
        None => (None, None),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · procdsl" }
                link rel="stylesheet" href={ "/console/" (css) };
                script src={ "/console/" (js) } defer {}
            }
            body data-page=(frame.page) data-version-url=[version_url] data-version=[version] {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "procdsl" }
                    @if let Some(caller) = &frame.viewer.caller {
                        nav aria-label="Main" {
                            ul {
                                li { a #nav-tasks href="/tasks" { "Tasks" } }
                                li { a #nav-processes href="/processes" { "Processes" } }
                                li { a #nav-instances href="/instances" { "Instances" } }
                            }
                        }
                        div.who {
                            span { "Signed in as " strong #user { (caller.name) } }
                            form #signout-form method="post" action="/signout" {
                                (csrf_field(&frame.viewer.csrf))
                                button #signout.secondary type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (frame.title) }
                    @match &frame.message {
                        Some(m) => div #message role="status" aria-live="polite" class=[m.error.then_some("error")] { (m.text) },
                        None => div #message role="status" aria-live="polite" {},
                    }
                    (body)
                }
            }
        }
    }
}

/// A rendered page with its status.
pub fn page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// `303 See Other` to `location` (a path on this service).
pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Text for a URL's query or path segment: everything but unreserved
/// characters percent-encoded.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A time as the console shows it: UTC, to the second.
pub fn time(text: &str) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => text.to_string(),
    }
}
