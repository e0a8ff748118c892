//! The web console: server-rendered pages under `/` for people — the
//! processes with their start forms, the tasklist, the instances with an
//! instance page. Pages sign in, keep sessions and check CSRF as the API
//! does (the same middleware), roles come from the one matrix
//! ([`super::access::MATRIX`]), and starting or executing goes through the
//! code the API uses. docs/CONSOLE.md describes pages, hooks and choices.

mod form;
mod page;
mod picture;

use super::access::{self, Permission};
use super::caller::{Caller, Via};
use super::creatio::{self, SignIn};
use super::error::{ApiError, Segment};
use super::{auth, blocking, runs, AppState, Deadline};
use crate::check::spec::ProcessSpec;
use crate::runtime::convert;
use crate::runtime::engine::ExecOutcome;
use crate::runtime::instance::{Instance, Status, Wait, Waiting};
use crate::store::{Cursor, InstanceSummary, ListFilter, Versioned};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use form::Field;
use maud::{html, Markup};
use page::{Frame, Message, Viewer};
use std::collections::HashMap;
use uuid::Uuid;

/// Every console route, `(method, path)`.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/signin"),
    ("post", "/signin"),
    ("post", "/signout"),
    ("get", "/processes"),
    ("get", "/processes/{code}"),
    ("post", "/processes/{code}"),
    ("get", "/tasks"),
    ("get", "/tasks/{uid}"),
    ("post", "/tasks/{uid}"),
    ("get", "/instances"),
    ("get", "/instances/{id}"),
    ("get", "/instances/{id}/version"),
    ("post", "/instances/{id}/cancel"),
    ("post", "/instances/{id}/signal"),
    ("get", "/console/{file}"),
];

/// Rows in one page of the tasklist and of the instance list.
const PAGE_ROWS: usize = 50;

/// Stored instances read for one page of the tasklist (each is loaded to
/// find its tasks); past it the page ends short, with a link to go on.
/// It bounds the page's time when few of many waiting instances have a
/// task for the viewer (docs/BENCHMARKS.md, "Console").
const MAX_TASK_SCAN: usize = 500;

/// Stored instances read at once for the instance list of a caller who
/// sees only some (a `user`): fewer trips to the store than pages of 50.
const USER_LIST_BATCH: usize = 1000;

/// Stored instances read for one page of the instance list of such a
/// caller; past it the page ends short, with a link to go on (the API
/// reads up to 100,000; a page for a person must stay quick).
const MAX_LIST_SCAN: usize = 2000;

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/processes", get(processes))
        .route("/processes/{code}", get(process).post(start))
        .route("/tasks", get(tasks))
        .route("/tasks/{uid}", get(task).post(execute))
        .route("/instances", get(instances))
        .route("/instances/{id}", get(instance))
        .route("/instances/{id}/version", get(version))
        .route("/instances/{id}/cancel", post(cancel))
        .route("/instances/{id}/signal", post(signal))
        .route("/console/{file}", get(asset))
}

/// Is this path one of the console's (its pages answer in HTML)?
pub fn is_console_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    matches!(first, "" | "signin" | "signout" | "processes" | "tasks" | "instances" | "console")
}

/// Console paths that need no sign-in: the sign-in page and the embedded files.
pub fn is_public(path: &str) -> bool {
    path == "/signin" || path.starts_with("/console/")
}

/// Does this request send a console form (an urlencoded body, whose
/// `BPMCSRF` field stands for the header an API client sends)?
pub fn is_form_post(method: &axum::http::Method, path: &str, headers: &HeaderMap) -> bool {
    let urlencoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    method == axum::http::Method::POST && urlencoded && is_console_path(path) && !path.starts_with("/console/")
}

/// The answer to a console request without a (live) session: the sign-in
/// page, which comes back here afterwards.
pub fn to_signin(uri: &Uri) -> Response {
    let back = uri.path_and_query().map_or("/", |p| p.as_str());
    page::redirect(&format!("/signin?back={}", page::encode(back)))
}

/// Turns the JSON error of a console request (from sign-in, the matrix,
/// CSRF, a bad id) into an HTML page with the same status and message.
pub async fn html_errors(request: Request, next: Next) -> Response {
    if !is_console_path(request.uri().path()) || request.uri().path().starts_with("/console/") {
        return next.run(request).await;
    }
    let csrf = csrf_of(request.headers());
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(response.status().is_client_error() || response.status().is_server_error()) || !json {
        return response;
    }
    let caller = response.extensions().get::<Caller>().cloned();
    let status = response.status();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 10).await.unwrap_or_default();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let message = value["error"]["message"].as_str().unwrap_or("the request failed").to_string();
    let viewer = Viewer { caller: caller.clone(), csrf: csrf.unwrap_or_default() };
    let mut out = error_page(&viewer, status, &message);
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE, header::ALLOW] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    if let Some(caller) = caller {
        out.extensions_mut().insert(caller);
    }
    out
}

fn error_page(viewer: &Viewer, status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::UNAUTHORIZED => "Sign in first",
        s if s.is_server_error() => "The service could not answer",
        _ => "The request was refused",
    };
    let frame = Frame { title, page: "error", viewer, message: Message::error(message), live: None };
    let body = html! { p { a href="/tasks" { "Back to the tasks" } } };
    page::page(status, page::render(frame, body))
}

/// The `BPMCSRF` cookie: the token a signed-in page puts in its forms.
fn csrf_of(headers: &HeaderMap) -> Option<String> {
    auth::cookie(headers, "BPMCSRF").map(str::to_string)
}

/// Who looks: the caller sign-in put on the request, and the token for its forms.
fn viewer(caller: &Caller, headers: &HeaderMap) -> Viewer {
    let csrf = match caller.via {
        // No users file: no session, no token; the loopback rules stand in.
        Via::Local => "local".to_string(),
        _ => csrf_of(headers).unwrap_or_default(),
    };
    Viewer { caller: Some(caller.clone()), csrf }
}

/// A form body's pairs; a body that is not a form is an empty one.
fn pairs(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// A page's query, or a 400 that says what was wrong with it.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q).map_err(|e| ApiError::bad_request(format!("the query string is not valid: {}", e.body_text())))
}

fn uuid_of(text: &str, what: &str) -> Result<Uuid, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(format!("`{text}` is not {what} (a UUID)")))
}

async fn home() -> Response {
    page::redirect("/tasks")
}

async fn asset(Segment(file): Segment) -> Response {
    match page::asset(&file) {
        Some((kind, text)) => {
            let mut response = text.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            response
        }
        None => ApiError::not_found(format!("no file `{file}`")).into_response(),
    }
}

// ---------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// Where to go after signing in: a path on this service, never another site.
fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') && !b.starts_with("/signin") => {
            b.to_string()
        }
        _ => "/tasks".to_string(),
    }
}

fn signin_form(back: &str, name: &str, error: Option<&str>, status: StatusCode) -> Response {
    let viewer = Viewer::default();
    let frame = Frame { title: "Sign in", page: "signin", viewer: &viewer, message: None, live: None };
    let body = html! {
        form #signin.stack method="post" action="/signin" {
            input type="hidden" name="back" value=(back);
            p #signin-error.field-error role="alert" { @if let Some(e) = error { (e) } }
            div.field {
                label for="UserName" { "User name" }
                input #UserName type="text" name="UserName" value=(name) autocomplete="username" required autofocus;
            }
            div.field {
                label for="UserPassword" { "Password" }
                input #UserPassword type="password" name="UserPassword" autocomplete="current-password" required;
            }
            div { button #signin-submit type="submit" { "Sign in" } }
        }
    };
    page::page(status, page::render(frame, body))
}

async fn signin_page(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    q: Result<Query<Back>, QueryRejection>,
) -> Response {
    let back = safe_back(q.ok().and_then(|Query(q)| q.back).as_deref());
    if state.users.is_none() || caller.is_some() {
        return page::redirect(&back);
    }
    signin_form(&back, "", None, StatusCode::OK)
}

async fn signin(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let address = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let body = axum::body::to_bytes(request.into_body(), state.limits.max_body)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the sign-in form is too large"))?;
    let sent = form::sent(&pairs(&body));
    let back = safe_back(sent.get("back").map(String::as_str));
    if state.users.is_none() {
        return Ok(page::redirect(&back));
    }
    let name = sent.get("UserName").cloned().unwrap_or_default();
    let password = sent.get("UserPassword").cloned().unwrap_or_default();
    if name.is_empty() {
        return Ok(signin_form(&back, "", Some("Give a user name."), StatusCode::UNPROCESSABLE_ENTITY));
    }
    match creatio::sign_in(&state, name.clone(), &password, address).await? {
        SignIn::Session { cookies, caller } => {
            let mut response = page::redirect(&back);
            for c in cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response.extensions_mut().insert(caller);
            Ok(response)
        }
        SignIn::Refused { status, message, wait } => {
            let status = if status == StatusCode::OK { StatusCode::UNAUTHORIZED } else { status };
            let mut response = signin_form(&back, &name, Some(&message), status);
            if let Some(wait) = wait {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
            }
            Ok(response)
        }
    }
}

async fn signout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut response = page::redirect("/signin");
    if state.users.is_some() && auth::cookie(&headers, ".ASPXAUTH").is_some() {
        for v in creatio::sign_out(&state, &headers).await? {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

fn params_text(spec: &ProcessSpec) -> String {
    spec.params.iter().map(|p| format!("{} {}: {}", p.direction.keyword(), p.code, p.ty)).collect::<Vec<_>>().join(", ")
}

async fn processes(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Response {
    let viewer = viewer(&caller, &headers);
    let list: &[ProcessSpec] = state.program.as_ref().map_or(&[], |p| &p.processes);
    let body = html! {
        @if list.is_empty() {
            p { "The service was started without .proc files: there is nothing to start." }
        } @else {
            div.table-wrap {
                table.responsive {
                    caption.muted { (list.len()) " processes" }
                    thead { tr { th scope="col" { "Code" } th scope="col" { "Caption" } th scope="col" { "Parameters" } } }
                    tbody {
                        @for p in list {
                            tr.process data-code=(&*p.code) {
                                td data-label="Code" { a.process-link href={ "/processes/" (page::encode(&p.code)) } { (&*p.code) } }
                                td data-label="Caption" { @if let Some(c) = &p.caption { (c) } }
                                td data-label="Parameters" { (params_text(p)) }
                            }
                        }
                    }
                }
            }
        }
    };
    let frame = Frame { title: "Processes", page: "processes", viewer: &viewer, message: None, live: None };
    page::page(StatusCode::OK, page::render(frame, body))
}

/// The start form's fields: the `in` and `inout` parameters.
fn start_fields(spec: &ProcessSpec) -> Vec<Field> {
    use crate::syntax::ast::Direction;
    spec.params
        .iter()
        .filter(|p| matches!(p.direction, Direction::In | Direction::InOut))
        .map(|p| Field::new(&p.code, &p.ty, Some(&p.default), false))
        .collect()
}

fn find_spec<'a>(state: &'a AppState, code: &str) -> Result<&'a ProcessSpec, ApiError> {
    let program = state.program()?;
    let id = crate::runtime::engine::find_process(program, code)?;
    Ok(program.process(id))
}

#[allow(clippy::too_many_arguments)]
fn process_page(
    viewer: &Viewer,
    program: &crate::check::spec::Program,
    spec: &ProcessSpec,
    typed: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    message: Option<Message>,
    status: StatusCode,
) -> Response {
    let may_start = viewer.caller.as_ref().is_some_and(|c| access::allows(c, Permission::Start));
    let fields = start_fields(spec);
    let body = html! {
        @if let Some(c) = &spec.caption { p.lead { (c) } }
        h2 { "Picture" }
        figure #picture { (picture::of_process(program, spec)) }
        h2 { "Start" }
        @if !may_start {
            p.muted { "Your roles do not allow starting processes." }
        } @else {
            form #start.stack method="post" action={ "/processes/" (page::encode(&spec.code)) } novalidate {
                (page::csrf_field(&viewer.csrf))
                @if fields.is_empty() { p.muted { "This process takes no parameters." } }
                @for f in &fields {
                    (form::input(f, typed.get(&f.name).map(String::as_str), errors.get(&f.name).map(String::as_str), ""))
                }
                div { button #start-submit type="submit" { "Start " (&*spec.code) } }
            }
        }
    };
    let title = format!("Process {}", spec.code);
    let frame = Frame { title: &title, page: "process", viewer, message, live: None };
    page::page(status, page::render(frame, body))
}

async fn process(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Segment(code): Segment,
) -> Result<Response, ApiError> {
    let spec = find_spec(&state, &code)?;
    Ok(process_page(
        &viewer(&caller, &headers),
        state.program()?,
        spec,
        &HashMap::new(),
        &HashMap::new(),
        None,
        StatusCode::OK,
    ))
}

async fn start(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(deadline): Extension<Deadline>,
    headers: HeaderMap,
    Segment(code): Segment,
    body: Bytes,
) -> Result<Response, ApiError> {
    let viewer = viewer(&caller, &headers);
    let spec = find_spec(&state, &code)?;
    let sent = form::sent(&pairs(&body));
    let (values, errors) = form::read(&start_fields(spec), &sent);
    if !errors.is_empty() {
        let message = Message::error("Some values are not valid; see the fields below.");
        return Ok(process_page(
            &viewer,
            state.program()?,
            spec,
            &sent,
            &errors,
            message,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let s = state.clone();
    let started = blocking(move || creatio::start_and_keep(&s, &code, &values, &caller, deadline)).await;
    match started {
        Ok(instance) => Ok(page::redirect(&format!("/instances/{}?started=1", instance.id))),
        Err(e) if e.status.is_client_error() => Ok(process_page(
            &viewer,
            state.program()?,
            spec,
            &sent,
            &HashMap::new(),
            Message::error(e.message),
            e.status,
        )),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------

/// A waiting user task, as the tasklist shows it.
struct TaskRow {
    uid: Uuid,
    instance: Uuid,
    process: String,
    element: String,
    caption: Option<String>,
    since: String,
    deadline: Option<jiff::Timestamp>,
    to: Vec<String>,
}

/// The user tasks an instance waits at, also those of its sub-processes,
/// each with the instance that holds it.
fn user_tasks<'a>(instance: &'a Instance, out: &mut Vec<(&'a Instance, &'a Waiting)>) {
    for w in &instance.waiting {
        match &w.wait {
            Wait::User { .. } => out.push((instance, w)),
            Wait::Call { child } => user_tasks(child, out),
            _ => {}
        }
    }
}

fn assignees(w: &Waiting) -> &[String] {
    match &w.wait {
        Wait::User { to: Some(to) } => to,
        _ => &[],
    }
}

/// May this caller see this task in the tasklist? Who sees every instance
/// sees every task; a `user` sees those it may execute.
fn shows_task(caller: &Caller, w: &Waiting, element: &str) -> bool {
    access::sees_every_instance(caller)
        || crate::runtime::access::may_execute(element, assignees(w), &caller.name, &caller.roles).is_ok()
}

#[derive(serde::Deserialize)]
struct TaskQuery {
    process: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

fn cursor(text: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Cursor::parse(t)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("`{t}` is not a cursor: follow the page's own links"))),
    }
}

/// Up to [`PAGE_ROWS`] tasks the caller sees, read from the waiting
/// instances after `after`, and where the next page starts.
fn task_page(
    state: &AppState,
    caller: &Caller,
    process: Option<String>,
    text: Option<String>,
    mut after: Option<Cursor>,
) -> Result<(Vec<TaskRow>, Option<Cursor>), ApiError> {
    const BATCH: usize = 100;
    let needle = text.map(|t| t.to_lowercase()).filter(|t| !t.trim().is_empty());
    let mut rows = Vec::new();
    let mut scanned = 0;
    loop {
        let filter = ListFilter { status: Some(Status::Waiting), process: process.clone(), limit: Some(BATCH) };
        let from = after.clone();
        let loaded: Vec<(InstanceSummary, Option<Instance>)> = state.store.call(move |st| {
            let page = st.list(&filter, from.as_ref())?;
            Ok(page
                .into_iter()
                .map(|s| {
                    let i = st.load(s.id).ok();
                    (s, i)
                })
                .collect())
        })?;
        let full = loaded.len() == BATCH;
        for (summary, instance) in loaded {
            scanned += 1;
            after = Some(Cursor { created: summary.created.clone(), id: summary.id });
            let Some(instance) = instance else { continue };
            if !access::visible_to(&instance, caller) {
                continue;
            }
            let mut found = Vec::new();
            user_tasks(&instance, &mut found);
            for (holder, w) in found {
                let spec = holder.program.process(holder.process);
                let element = spec.element(w.element);
                if !shows_task(caller, w, &element.name) {
                    continue;
                }
                let row = TaskRow {
                    uid: w.uid,
                    instance: instance.id,
                    process: spec.code.to_string(),
                    element: element.name.to_string(),
                    caption: element.caption.as_deref().map(str::to_string),
                    since: summary.updated.clone(),
                    deadline: w.deadline,
                    to: assignees(w).to_vec(),
                };
                if let Some(n) = &needle {
                    let hay = format!("{} {} {}", row.process, row.element, row.caption.as_deref().unwrap_or(""));
                    if !hay.to_lowercase().contains(n.as_str()) {
                        continue;
                    }
                }
                rows.push(row);
            }
            if rows.len() >= PAGE_ROWS {
                return Ok((rows, after));
            }
        }
        if !full {
            return Ok((rows, None));
        }
        if scanned >= MAX_TASK_SCAN {
            return Ok((rows, after));
        }
    }
}

async fn tasks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    q: Result<Query<TaskQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let viewer = viewer(&caller, &headers);
    let after = cursor(q.after.as_deref())?;
    let process = q.process.clone().filter(|p| !p.is_empty());
    let (s, who, text) = (state.clone(), caller.clone(), q.q.clone());
    let p = process.clone();
    let (rows, next) = blocking(move || task_page(&s, &who, p, text, after)).await?;
    let codes: Vec<String> = state.program.as_ref().map_or_else(Vec::new, |p| p.codes().map(str::to_string).collect());
    let next_link = next.map(|c| {
        let mut link = format!("/tasks?after={}", page::encode(&c.text()));
        if let Some(p) = &process {
            link.push_str(&format!("&process={}", page::encode(p)));
        }
        if let Some(t) = q.q.as_deref().filter(|t| !t.is_empty()) {
            link.push_str(&format!("&q={}", page::encode(t)));
        }
        link
    });
    let body = html! {
        form #task-filter.inline method="get" action="/tasks" role="search" {
            label { "Process"
                select name="process" {
                    option value="" { "Any" }
                    @for c in &codes { option value=(c) selected[process.as_deref() == Some(c.as_str())] { (c) } }
                }
            }
            label { "Text" input type="text" name="q" value=(q.q.as_deref().unwrap_or("")); }
            button #task-filter-submit type="submit" { "Filter" }
        }
        @if rows.is_empty() {
            p #no-tasks { "No task waits" @if process.is_some() || q.q.as_deref().is_some_and(|t| !t.is_empty()) { " that matches" } "." }
        } @else {
            div.table-wrap {
                table.responsive {
                    caption.muted { "Waiting user tasks" }
                    thead { tr {
                        th scope="col" { "Task" } th scope="col" { "Process" } th scope="col" { "Assigned to" }
                        th scope="col" { "Waiting since" } th scope="col" { "Deadline" }
                    } }
                    tbody {
                        @for r in &rows {
                            tr.task data-uid=(r.uid) data-process=(r.process) data-instance=(r.instance) {
                                td data-label="Task" {
                                    a.task-link href={ "/tasks/" (r.uid) } { (r.caption.as_deref().unwrap_or(&r.element)) }
                                    @if r.caption.is_some() { " " span.muted { "(" (r.element) ")" } }
                                }
                                td data-label="Process" { a href={ "/instances/" (r.instance) } { (r.process) } }
                                td data-label="Assigned to" { @if r.to.is_empty() { span.muted { "anyone" } } @else { (r.to.join(", ")) } }
                                td data-label="Waiting since" { (page::time(&r.since)) }
                                td data-label="Deadline" { @if let Some(d) = r.deadline { (page::time(&d.to_string())) } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(link) = &next_link { p { a #next-page href=(link) { "More tasks" } } }
    };
    let frame = Frame { title: "Tasks", page: "tasks", viewer: &viewer, message: None, live: None };
    Ok(page::page(StatusCode::OK, page::render(frame, body)))
}

/// The fields of a user task's form.
fn task_fields(instance: &Instance, w: &Waiting) -> Vec<Field> {
    let spec = instance.program.process(instance.process);
    match &spec.element(w.element).kind {
        crate::check::spec::ElementKind::User { fields, .. } => {
            fields.iter().map(|f| Field::new(&f.name, &f.ty, f.default.as_ref(), f.default.is_none())).collect()
        }
        _ => Vec::new(),
    }
}

/// A task's form (`form#task-<UId>`); `suffix` keeps ids unique on a page
/// with several.
fn task_form(
    viewer: &Viewer,
    holder: &Instance,
    w: &Waiting,
    typed: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    suffix: &str,
) -> Markup {
    let submit = if suffix.is_empty() { "task-submit".to_string() } else { format!("task-submit{suffix}") };
    let fields = task_fields(holder, w);
    html! {
        form.stack id={ "task-" (w.uid) } method="post" action={ "/tasks/" (w.uid) } novalidate {
            (page::csrf_field(&viewer.csrf))
            @for f in &fields {
                (form::input(f, typed.get(&f.name).map(String::as_str), errors.get(&f.name).map(String::as_str), suffix))
            }
            div { button id=(submit) type="submit" { "Complete" } }
        }
    }
}

/// Finds a waiting element-instance by UId in an instance or its sub-processes.
fn find_waiting(instance: &Instance, uid: Uuid) -> Option<(&Instance, &Waiting)> {
    for w in &instance.waiting {
        if w.uid == uid {
            return Some((instance, w));
        }
        if let Wait::Call { child } = &w.wait {
            if let Some(found) = find_waiting(child, uid) {
                return Some(found);
            }
        }
    }
    None
}

/// The instance that holds element-instance `uid`, if the caller may see it.
async fn load_task(state: &AppState, caller: &Caller, uid: Uuid) -> Result<Instance, ApiError> {
    let s = state.clone();
    let who = caller.clone();
    blocking(move || {
        let Versioned { instance, .. } = s.store.call(move |st| st.load_by_uid(uid))?;
        if !access::visible_to(&instance, &who) {
            return Err(ApiError::not_found(format!("no task {uid}")));
        }
        Ok(instance)
    })
    .await
    .map_err(|e| if e.status == StatusCode::BAD_REQUEST { ApiError::not_found(e.message) } else { e })
}

fn task_page_of(
    viewer: &Viewer,
    instance: &Instance,
    uid: Uuid,
    typed: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    message: Option<Message>,
    status: StatusCode,
) -> Response {
    let caller = viewer.caller.as_ref();
    let found = find_waiting(instance, uid).filter(|(_, w)| matches!(w.wait, Wait::User { .. }));
    let (title, body) = match found {
        Some((holder, w)) => {
            let spec = holder.program.process(holder.process);
            let element = spec.element(w.element);
            let may = caller.is_some_and(|c| {
                access::allows(c, Permission::Exec)
                    && (c.has_role("admin")
                        || c.has_role("operator")
                        || crate::runtime::access::may_execute(&element.name, assignees(w), &c.name, &c.roles).is_ok())
            });
            let title = element.caption.as_deref().unwrap_or(&element.name).to_string();
            let body = html! {
                dl.facts {
                    dt { "Task" } dd { (&*element.name) }
                    dt { "Process" } dd { (&*spec.code) }
                    dt { "Instance" } dd { a href={ "/instances/" (instance.id) } { (instance.id) } }
                    dt { "Assigned to" } dd { @if assignees(w).is_empty() { "anyone" } @else { (assignees(w).join(", ")) } }
                    @if let Some(d) = w.deadline { dt { "Deadline" } dd { (page::time(&d.to_string())) } }
                }
                @if may {
                    (task_form(viewer, holder, w, typed, errors, ""))
                } @else {
                    p.muted { "You may not execute this task." }
                }
            };
            (title, body)
        }
        None => {
            let body = html! {
                p { "This task waits no more: it was executed (or its instance moved on)." }
                p { a href={ "/instances/" (instance.id) } { "See its instance" } }
            };
            ("Task".to_string(), body)
        }
    };
    let message =
        message.or_else(|| if found.is_none() { Message::info("This task was already executed.") } else { None });
    let frame = Frame { title: &title, page: "task", viewer, message, live: None };
    page::page(status, page::render(frame, body))
}

async fn task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Segment(uid): Segment,
) -> Result<Response, ApiError> {
    let uid = uuid_of(&uid, "a task's UId")?;
    let instance = load_task(&state, &caller, uid).await?;
    let viewer = viewer(&caller, &headers);
    Ok(task_page_of(&viewer, &instance, uid, &HashMap::new(), &HashMap::new(), None, StatusCode::OK))
}

async fn execute(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(deadline): Extension<Deadline>,
    headers: HeaderMap,
    Segment(uid): Segment,
    body: Bytes,
) -> Result<Response, ApiError> {
    let uid = uuid_of(&uid, "a task's UId")?;
    let viewer = viewer(&caller, &headers);
    let instance = load_task(&state, &caller, uid).await?;
    let sent = form::sent(&pairs(&body));
    let Some((holder, w)) = find_waiting(&instance, uid) else {
        let message = Message::error("This task was already executed; nothing was done.");
        return Ok(task_page_of(&viewer, &instance, uid, &sent, &HashMap::new(), message, StatusCode::CONFLICT));
    };
    let (values, errors) = form::read(&task_fields(holder, w), &sent);
    if !errors.is_empty() {
        let message = Message::error("Some values are not valid; see the fields below.");
        return Ok(task_page_of(&viewer, &instance, uid, &sent, &errors, message, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let done = runs::exec_by_uid_unit(&state, uid, values, caller.clone(), deadline).await;
    match done {
        Ok((ExecOutcome::Executed, d, elements)) => {
            state.metrics.outcome(&d, elements);
            Ok(page::redirect(&format!("/instances/{}?executed=1", instance.id)))
        }
        Ok((_, _, _)) => {
            let message = Message::error("This task was already executed; nothing was done.");
            Ok(task_page_of(&viewer, &instance, uid, &sent, &HashMap::new(), message, StatusCode::CONFLICT))
        }
        Err(e) if e.status.is_client_error() => {
            let already = e.code.as_deref() == Some("procdsl::exec::already_executed");
            let text =
                if already { "This task was already executed; nothing was done.".to_string() } else { e.message };
            Ok(task_page_of(&viewer, &instance, uid, &sent, &HashMap::new(), Message::error(text), e.status))
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------
// Instances
// ---------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct InstanceQuery {
    status: Option<String>,
    process: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
}

/// `YYYY-MM-DD`, as a date picker sends it.
fn date(text: Option<&str>, what: &str) -> Result<Option<jiff::civil::Date>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("`{what}` must be a date (YYYY-MM-DD), not `{t}`"))),
    }
}

async fn instances(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    q: Result<Query<InstanceQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let viewer = viewer(&caller, &headers);
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<Status>().map_err(ApiError::bad_request)?),
    };
    let process = q.process.clone().filter(|p| !p.is_empty());
    let from = date(q.from.as_deref(), "from")?;
    let to = date(q.to.as_deref(), "to")?;
    let mut after = cursor(q.after.as_deref())?;
    if after.is_none() {
        // The list is ordered by creation: a page from a date starts just before it.
        if let Some(from) = from {
            after = Some(Cursor { created: from.to_string(), id: Uuid::nil() });
        }
    }
    let batch = if access::sees_every_instance(&caller) { PAGE_ROWS } else { USER_LIST_BATCH };
    let filter = ListFilter { status, process: process.clone(), limit: Some(batch) };
    let (s, who) = (state.clone(), caller.clone());
    let (mut list, mut next) =
        blocking(move || super::rest::visible_page(&s, &who, filter, after, PAGE_ROWS, MAX_LIST_SCAN)).await?;
    if let Some(to) = to {
        let end = to.tomorrow().map(|d| d.to_string()).unwrap_or_default();
        if list.iter().any(|i| i.created >= end) || next.as_ref().is_some_and(|c| c.created >= end) {
            list.retain(|i| i.created < end);
            next = None;
        }
    }
    let codes: Vec<String> = state.program.as_ref().map_or_else(Vec::new, |p| p.codes().map(str::to_string).collect());
    let next_link = next.map(|c| {
        let mut link = format!("/instances?after={}", page::encode(&c.text()));
        for (k, v) in [("status", &q.status), ("process", &q.process), ("from", &q.from), ("to", &q.to)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                link.push_str(&format!("&{k}={}", page::encode(v)));
            }
        }
        link
    });
    let statuses = ["Running", "Waiting", "Completed", "Failed", "Cancelled"];
    let body = html! {
        form #instance-filter.inline method="get" action="/instances" role="search" {
            label { "Status"
                select name="status" {
                    option value="" { "Any" }
                    @for st in statuses { option value=(st) selected[status.map(Status::as_str) == Some(st)] { (st) } }
                }
            }
            label { "Process"
                select name="process" {
                    option value="" { "Any" }
                    @for c in &codes { option value=(c) selected[process.as_deref() == Some(c.as_str())] { (c) } }
                }
            }
            label { "Created from" input type="date" name="from" value=(q.from.as_deref().unwrap_or("")); }
            label { "to" input type="date" name="to" value=(q.to.as_deref().unwrap_or("")); }
            button #instance-filter-submit type="submit" { "Filter" }
        }
        @if list.is_empty() {
            p #no-instances { "No instance matches." }
        } @else {
            div.table-wrap {
                table.responsive {
                    caption.muted { "Instances, oldest first" }
                    thead { tr {
                        th scope="col" { "Instance" } th scope="col" { "Process" } th scope="col" { "Status" }
                        th scope="col" { "Waiting" } th scope="col" { "Created" } th scope="col" { "Started by" }
                    } }
                    tbody {
                        @for i in &list {
                            tr.instance data-id=(i.id) data-status=(i.status.as_str()) {
                                td data-label="Instance" { a href={ "/instances/" (i.id) } { (i.id) } }
                                td data-label="Process" { (i.process) }
                                td data-label="Status" { span class={ "status status-" (i.status.as_str()) } { (i.status.as_str()) } }
                                td data-label="Waiting" { (i.waiting) }
                                td data-label="Created" { (page::time(&i.created)) }
                                td data-label="Started by" { (i.started_by.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(link) = &next_link { p { a #next-page href=(link) { "Next page" } } }
    };
    let frame = Frame { title: "Instances", page: "instances", viewer: &viewer, message: None, live: None };
    Ok(page::page(StatusCode::OK, page::render(frame, body)))
}

/// An instance the caller may see, with its stored version; otherwise 404.
async fn load_visible(state: &AppState, caller: &Caller, id: &str) -> Result<Versioned, ApiError> {
    let id = uuid_of(id, "an instance id")?;
    let s = state.clone();
    let who = caller.clone();
    blocking(move || {
        let loaded = s.store.call(move |st| st.load_versioned(id))?;
        if !access::visible_to(&loaded.instance, &who) {
            return Err(ApiError::not_found(format!("no instance {id}")));
        }
        Ok(loaded)
    })
    .await
}

fn value_text(value: &crate::runtime::value::Value) -> String {
    match convert::to_json(value) {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[derive(serde::Deserialize)]
struct Flash {
    started: Option<String>,
    executed: Option<String>,
    cancelled: Option<String>,
    woken: Option<usize>,
}

async fn instance(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Segment(id): Segment,
    flash: Result<Query<Flash>, QueryRejection>,
) -> Result<Response, ApiError> {
    let flash = query(flash)?;
    let Versioned { instance, version } = load_visible(&state, &caller, &id).await?;
    let viewer = viewer(&caller, &headers);
    let message = if flash.started.is_some() {
        Message::info("The instance was started.")
    } else if flash.executed.is_some() {
        Message::info("The task was executed.")
    } else if flash.cancelled.is_some() {
        Message::info("The instance was cancelled.")
    } else {
        flash.woken.and_then(|n| Message::info(format!("The signal woke {n} instance(s).")))
    };
    let spec = instance.program.process(instance.process);
    let may_cancel = access::allows(&caller, Permission::Cancel) && !instance.status.is_finished();
    let may_signal = access::allows(&caller, Permission::Signal);
    let may_exec = access::allows(&caller, Permission::Exec);
    let mut waiting = Vec::new();
    fn all_waiting<'a>(i: &'a Instance, out: &mut Vec<(&'a Instance, &'a Waiting)>) {
        for w in &i.waiting {
            out.push((i, w));
            if let Wait::Call { child } = &w.wait {
                all_waiting(child, out);
            }
        }
    }
    all_waiting(&instance, &mut waiting);
    let log = instance.log.to_lines();
    let none = HashMap::new();
    let body = html! {
        dl.facts {
            dt { "Status" } dd { span #status class={ "status status-" (instance.status.as_str()) } { (instance.status.as_str()) } }
            dt { "Process" } dd { a href={ "/processes/" (page::encode(&spec.code)) } { (&*spec.code) } @if let Some(c) = &spec.caption { " · " (c) } }
            dt { "Started by" } dd { (instance.started_by.as_deref().unwrap_or("")) }
            dt { "Version" } dd { (version) }
        }
        p { a #refresh href={ "/instances/" (instance.id) } { "Refresh" } span.muted { " (the page also refreshes itself when the instance changes)" } }
        @if let Some(e) = &instance.error {
            div #failure.card.error-box role="alert" { strong { "Failed: " } (e.to_string()) }
        }
        h2 { "Picture and path" }
        figure #picture { (picture::of_instance(&instance)) }
        h2 #waiting-heading { "Waiting" }
        div #waiting aria-labelledby="waiting-heading" {
            @if waiting.is_empty() { p.muted { "Nothing waits." } }
            @for (holder, w) in &waiting {
                @let hspec = holder.program.process(holder.process);
                @let element = hspec.element(w.element);
                div.card.waiting-element data-uid=(w.uid) data-element=(&*element.name) {
                    h3 { (element.caption.as_deref().unwrap_or(&element.name)) " " span.muted { "(" (element.kind_name()) " " (&*element.name) ")" } }
                    @match &w.wait {
                        Wait::User { .. } => {
                            p { "Assigned to " @if assignees(w).is_empty() { "anyone" } @else { (assignees(w).join(", ")) }
                                @if let Some(d) = w.deadline { "; deadline " (page::time(&d.to_string())) } }
                            @if may_exec && shows_task(&caller, w, &element.name) {
                                (task_form(&viewer, holder, w, &none, &none, &format!("-{}", w.uid)))
                            }
                        }
                        Wait::Timer { due } => p { "Due " (page::time(&due.to_string())) },
                        Wait::Signal { name } => p { "Waits for the signal " code { (name) } },
                        Wait::Call { child } => p { "Runs the sub-process " (&*child.program.process(child.process).code) },
                    }
                }
            }
        }
        h2 { "Parameters" }
        div.table-wrap {
            table #parameters {
                thead { tr { th scope="col" { "Parameter" } th scope="col" { "Type" } th scope="col" { "Value" } } }
                tbody {
                    @for (p, v) in spec.params.iter().zip(&instance.params) {
                        tr data-param=(&*p.code) {
                            th scope="row" { (&*p.code) " " span.muted { (p.direction.keyword()) } }
                            td { (p.ty) }
                            td.value { (value_text(v)) }
                        }
                    }
                }
            }
        }
        h2 { "History" }
        div.table-wrap {
            table #history {
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } } }
                tbody {
                    @for h in &instance.history {
                        tr.step data-action=(h.action.as_str()) {
                            td { (page::time(&h.at.to_string())) }
                            td { (h.who) }
                            td { (h.action.as_str()) @if let Some(e) = &h.element { " " (e) } @if let Some(s) = &h.signal { " " (s) } }
                        }
                    }
                }
            }
        }
        h2 { "Log" }
        pre #log.log { @for line in &log { (line) "\n" } }
        @if may_cancel || may_signal {
            h2 { "Actions" }
            div.actions {
                @if may_cancel {
                    form #cancel method="post" action={ "/instances/" (instance.id) "/cancel" } {
                        (page::csrf_field(&viewer.csrf))
                        button #cancel-submit.danger type="submit" { "Cancel this instance" }
                    }
                }
                @if may_signal {
                    form #signal.inline method="post" action={ "/instances/" (instance.id) "/signal" } {
                        (page::csrf_field(&viewer.csrf))
                        label { "Signal" input type="text" name="Signal" required; }
                        button #signal-submit type="submit" { "Throw" }
                    }
                }
            }
        }
    };
    let title = format!("Instance of {}", spec.code);
    let live = (!instance.status.is_finished()).then(|| (format!("/instances/{}/version", instance.id), version));
    let frame = Frame { title: &title, page: "instance", viewer: &viewer, message, live };
    Ok(page::page(StatusCode::OK, page::render(frame, body)))
}

async fn version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Segment(id): Segment,
) -> Result<Response, ApiError> {
    let Versioned { version, .. } = load_visible(&state, &caller, &id).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], version.to_string()).into_response())
}

async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Segment(id): Segment,
) -> Result<Response, ApiError> {
    let Versioned { instance, .. } = load_visible(&state, &caller, &id).await?;
    let id = instance.id;
    let s = state.clone();
    let name = caller.name.clone();
    let mut results = blocking(move || s.store.call(move |st| st.cancel_many(&[id], &name))).await?;
    match results.pop() {
        Some(Ok(_)) => Ok(page::redirect(&format!("/instances/{id}?cancelled=1"))),
        Some(Err(e)) => Err(e.into()),
        None => Err(ApiError::internal("the store answered a cancellation with nothing")),
    }
}

async fn signal(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(deadline): Extension<Deadline>,
    Segment(id): Segment,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Versioned { instance, .. } = load_visible(&state, &caller, &id).await?;
    let sent = form::sent(&pairs(&body));
    let name = sent.get("Signal").map(|s| s.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::bad_request("a signal needs a name"));
    }
    let s = state.clone();
    let (_, count, _) = blocking(move || runs::throw(&s, name, &caller, deadline)).await?;
    Ok(page::redirect(&format!("/instances/{}?woken={count}", instance.id)))
}
