//! Creatio's routes: `AuthService.svc/Login` and `ProcessEngineService.svc`
//! (`{Code}/Execute`, `ExecProcElByUId/{uid}`, `RunProcess`,
//! `CancelExecution`). Results come in Creatio's form — the value as text
//! (JSON for lists and objects) inside `<string xmlns="…Serialization/">` —
//! or as JSON when the client accepts `application/json`.

use super::caller::{Caller, Via};
use super::error::{ApiError, Segment};
use super::worker::Step;
use super::{auth, blocking, runs, AppState, Deadline};
use crate::runtime::engine::{self, ExecOutcome, Run, RunOptions};
use crate::runtime::instance::{Instance, Status};
use crate::runtime::{convert, descriptor::Descriptor};
use crate::store;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value as Json_};
use std::sync::atomic::Ordering;
use std::time::Instant;
use uuid::Uuid;

const SERIALIZATION_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/";

/// Does the client accept JSON?
fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// A value in Creatio's form, or as JSON.
pub fn respond(headers: &HeaderMap, value: Json_) -> Response {
    if accepts_json(headers) {
        return Json(value).into_response();
    }
    let (body, replaced) = match value {
        Json_::Null => (
            format!(
                r#"<string i:nil="true" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="{SERIALIZATION_NS}"/>"#
            ),
            0,
        ),
        other => {
            let text = match other {
                Json_::String(s) => s,
                other => other.to_string(),
            };
            let (escaped, replaced) = xml_escape(&text);
            (format!(r#"<string xmlns="{SERIALIZATION_NS}">{escaped}</string>"#), replaced)
        }
    };
    let mut response = ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response();
    if replaced > 0 {
        response.headers_mut().insert(XML_REPLACED, HeaderValue::from(replaced));
    }
    response
}

/// Set on an XML answer whose text had characters XML 1.0 cannot carry:
/// how many were replaced by U+FFFD.
pub const XML_REPLACED: &str = "x-procdsl-xml-replaced";

/// Text as XML character data: markup escaped, `\r` as `&#xD;` (a raw one
/// would be read back as `\n`), and each character XML cannot carry (C0
/// controls but tab and newline, U+FFFE, U+FFFF) replaced by U+FFFD; the
/// second value counts those.
pub fn xml_escape(s: &str) -> (String, usize) {
    let mut out = String::with_capacity(s.len());
    let mut replaced = 0;
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c if crate::xml::is_char(c) => out.push(c),
            _ => {
                out.push('\u{FFFD}');
                replaced += 1;
            }
        }
    }
    (out, replaced)
}

/// The headers that tell a client which instance an Execute or RunProcess
/// answer is about and where it stands (Creatio's body alone cannot: a
/// result of `false` looks the same for a rejection and a waiting run).
pub const INSTANCE_ID: &str = "x-procdsl-instance-id";
pub const INSTANCE_STATUS: &str = "x-procdsl-status";

fn with_instance(mut response: Response, id: Uuid, status: Status) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
        headers.insert(INSTANCE_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&status.to_string()) {
        headers.insert(INSTANCE_STATUS, v);
    }
    response
}

/// The body, or a clear 4xx (413 for one over the limit).
pub fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "the request body is too large")
        } else {
            ApiError::new(status, format!("cannot read the request body: {}", e.body_text()))
        }
    })
}

/// The body as JSON; an empty body is `None`.
pub fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Option<Json_>, ApiError> {
    let bytes = body_bytes(body)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

fn query_pairs(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Result<Vec<(String, String)>, ApiError> {
    query.map(|q| q.0).map_err(|e| ApiError::bad_request(format!("the query string is not valid: {}", e.body_text())))
}

/// A JSON value as the text an input takes (`-p` form): strings as they
/// are, lists and objects as JSON; `null` leaves the parameter out.
fn input_text(value: &Json_) -> Option<String> {
    match value {
        Json_::Null => None,
        Json_::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The pairs of a JSON object body.
fn object_pairs(body: Option<Json_>, what: &str) -> Result<Vec<(String, String)>, ApiError> {
    match body {
        None => Ok(Vec::new()),
        Some(Json_::Object(map)) => Ok(map.iter().filter_map(|(k, v)| input_text(v).map(|t| (k.clone(), t))).collect()),
        Some(other) => Err(ApiError::bad_request(format!(
            "the request body must be a JSON object of {what}, not {}",
            json_kind(&other)
        ))),
    }
}

fn json_kind(v: &Json_) -> &'static str {
    match v {
        Json_::Null => "null",
        Json_::Bool(_) => "a boolean",
        Json_::Number(_) => "a number",
        Json_::String(_) => "a string",
        Json_::Array(_) => "an array",
        Json_::Object(_) => "an object",
    }
}

fn parse_uuid(text: &str, what: &str) -> Result<Uuid, ApiError> {
    text.parse().map_err(|_| ApiError::bad_request(format!("`{text}` is not a valid {what} (a UUID)")))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoginBody {
    user_name: String,
    user_password: String,
}

/// The largest Login body, in bytes.
const MAX_LOGIN_BODY: usize = 16 << 10;

/// Creatio's Login answer. A failure carries an `Exception` object with
/// the `Message`, as Creatio's does: clients test `Exception`, not `Code`.
fn login_answer(status: StatusCode, failure: Option<&str>) -> Response {
    let body = match failure {
        None => json!({
            "Code": 0, "Message": "", "Exception": null, "PasswordChangeUrl": null, "RedirectUrl": null,
        }),
        Some(message) => json!({
            "Code": 1,
            "Message": message,
            "Exception": {
                "HelpLink": null,
                "InnerException": null,
                "Message": message,
                "StackTrace": null,
                "Type": "System.Security.Authentication.AuthenticationException",
            },
            "PasswordChangeUrl": null,
            "RedirectUrl": null,
        }),
    };
    (status, Json(body)).into_response()
}

fn retry_after(mut response: Response, wait: std::time::Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

/// `AuthService.svc/Login`: `{"Code":0}` and the session cookies, or
/// `{"Code":1,"Message","Exception":{"Message",…}}` and no session. The body
/// must arrive within `login_body_timeout`; the password check runs on the
/// sign-in pool (503 when it stays busy); repeated failures wait (429).
pub async fn login(State(state): State<AppState>, request: axum::extract::Request) -> Result<Response, ApiError> {
    let address = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let limit = state.limits.login_body_timeout;
    let body = match tokio::time::timeout(limit, axum::body::to_bytes(request.into_body(), MAX_LOGIN_BODY)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the Login body is too large or broken (at most {MAX_LOGIN_BODY} bytes)"),
            ))
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!("the Login body did not arrive within {} s", limit.as_secs_f64()),
            ))
        }
    };
    let json = json_body(Ok(body))?
        .ok_or_else(|| ApiError::bad_request("the request body must be {\"UserName\", \"UserPassword\"}"))?;
    let login: LoginBody = serde_json::from_value(json).map_err(|e| {
        ApiError::bad_request(format!("the request body must be {{\"UserName\", \"UserPassword\"}}: {e}"))
    })?;
    Ok(match sign_in(&state, login.user_name, &login.user_password, address).await? {
        SignIn::Session { cookies, caller } => {
            let mut response = login_answer(StatusCode::OK, None);
            // For the access log: who signed in (a failed sign-in names no one, so
            // that a password typed as a user name never reaches the log).
            response.extensions_mut().insert(caller);
            for c in cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        SignIn::Refused { status, message, wait } => {
            let answer = login_answer(status, Some(&message));
            match wait {
                Some(wait) => retry_after(answer, wait),
                None => answer,
            }
        }
    })
}

/// What a sign-in came to.
pub(super) enum SignIn {
    /// A new session: the `Set-Cookie` values of its cookies, and who it is.
    Session { cookies: Vec<String>, caller: Caller },
    /// Refused: the status to answer, why, and how long to wait first (429, 503).
    Refused { status: StatusCode, message: String, wait: Option<std::time::Duration> },
}

/// Checks a user name and password and opens a session: the one sign-in
/// of Login and of the console's sign-in page. The password check runs on
/// the sign-in pool (503 when it stays busy); repeated failures wait (429).
pub(super) async fn sign_in(
    state: &AppState,
    name: String,
    password: &str,
    address: Option<std::net::IpAddr>,
) -> Result<SignIn, ApiError> {
    if let Some(users) = &state.users {
        if let Some(wait) = state.throttle.wait(&name, address) {
            let message = format!(
                "too many failed sign-ins for this user or from this address; try again in {} s",
                wait.as_secs().max(1)
            );
            return Ok(SignIn::Refused { status: StatusCode::TOO_MANY_REQUESTS, message, wait: Some(wait) });
        }
        let (stored, known) = users.hash_for(&name);
        let ok = match state.password_checks.check(&stored, password).await {
            Some(ok) => ok && known,
            None => {
                return Ok(SignIn::Refused {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: "too many sign-ins at once; try again shortly".into(),
                    wait: Some(std::time::Duration::from_secs(1)),
                })
            }
        };
        if !ok {
            state.throttle.failed(&name, address);
            return Ok(SignIn::Refused {
                status: StatusCode::OK,
                message: "Either user name or password is specified incorrectly or the user is not active.".into(),
                wait: None,
            });
        }
        state.throttle.succeeded(&name);
    }
    let (key, csrf, session) = auth::new_session(&name, state.limits.session_ttl, jiff::Timestamp::now());
    let s = state.clone();
    blocking(move || {
        s.store.call(move |st| st.save_session(&session, auth::MAX_SESSIONS_PER_USER, auth::MAX_SESSIONS))
    })
    .await?;
    let roles = state.users.as_ref().and_then(|u| u.roles_of(&name)).unwrap_or_default();
    // Session cookies (no Max-Age), as Creatio's: they end with the browser.
    let secure = if state.limits.secure_cookies { "; Secure" } else { "" };
    let cookies = vec![
        format!(".ASPXAUTH={key}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        format!("BPMCSRF={csrf}; Path=/; SameSite=Lax{secure}"),
        format!("BPMSESSIONID={}; Path=/; HttpOnly; SameSite=Lax{secure}", auth::random_token()),
    ];
    Ok(SignIn::Session { cookies, caller: Caller { name, roles, via: Via::Session } })
}

/// `AuthService.svc/Logout`: ends the session of the `.ASPXAUTH` cookie
/// (sign-in checked its `BPMCSRF` header, as for every POST) and clears
/// the cookies.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let cleared = sign_out(&state, &headers).await?;
    let mut response = Json(json!({ "Code": 0, "Message": "" })).into_response();
    for v in cleared {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Ends the session of the `.ASPXAUTH` cookie: the one sign-out of Logout
/// and of the console. Answers the `Set-Cookie` values that clear the cookies.
pub(super) async fn sign_out(state: &AppState, headers: &HeaderMap) -> Result<Vec<HeaderValue>, ApiError> {
    let Some(key) = auth::cookie(headers, ".ASPXAUTH") else {
        return Err(ApiError::bad_request("there is no session to end (a bearer token has none)"));
    };
    let key = auth::session_key(key);
    let s = state.clone();
    blocking(move || s.store.call(move |st| st.end_session(&key))).await?;
    Ok([".ASPXAUTH", "BPMCSRF", "BPMSESSIONID"]
        .iter()
        .filter_map(|name| HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0")).ok())
        .collect())
}

/// Runs a new instance until it waits or ends, stopped at the deadline
/// (then nothing is committed: 503). Commits it when it waits or when it
/// threw signals (a run that ends in this request is not kept).
fn run_foreground(
    state: &AppState,
    mut instance: Instance,
    caller: &Caller,
    deadline: Deadline,
) -> Result<(Instance, Run), ApiError> {
    let mut run = state.run_until(caller, deadline);
    let began = Instant::now();
    store::run_on(&mut instance, &mut run);
    state.ran(&instance.spec().code, None, began.elapsed());
    if run.timed_out() {
        return Err(runs::stopped(state));
    }
    state.metrics.started.fetch_add(1, Ordering::Relaxed);
    Ok((instance, run))
}

/// Whether a run that ended in its request is kept.
fn kept(instance: &Instance, run: &Run) -> bool {
    !instance.status.is_finished() || !run.emitted.is_empty()
}

/// Saves a moved instance; the signals it threw reach their waiters
/// before the answer, as far as the deadline allows.
fn save(
    state: &AppState,
    instance: Instance,
    run: &Run,
    key: Option<(String, String)>,
    deadline: Deadline,
) -> Result<Instance, ApiError> {
    let emitted = !run.emitted.is_empty();
    let save = store::Save { instance, emitted: run.emitted.clone(), expected: None, key };
    let saved = match state.store.try_write(store::Write::Save(Box::new(save)))? {
        Ok(store::Written::Saved(instance)) => *instance,
        Ok(_) => return Err(ApiError::internal("the store answered a save with something else")),
        Err(e) => return Err(e.into()),
    };
    if emitted {
        runs::deliver_thrown(state, saved.id, &run.options, deadline)?;
    }
    Ok(saved)
}

/// Starts `code` with `inputs` as `caller` and runs it until it waits or
/// ends, as RunProcess does, and keeps it whatever its end (the console
/// shows the new instance's page, so a finished one must be there too).
pub(super) fn start_and_keep(
    state: &AppState,
    code: &str,
    inputs: &[(String, String)],
    caller: &Caller,
    deadline: Deadline,
) -> Result<Instance, ApiError> {
    let instance = new_instance(state, code, inputs)?;
    let (instance, run) = run_foreground(state, instance, caller, deadline)?;
    let saved = save(state, instance, &run, None, deadline)?;
    state.metrics.outcome(&saved.descriptor(Some(&[])), run.elements_executed);
    Ok(saved)
}

fn new_instance(state: &AppState, code: &str, inputs: &[(String, String)]) -> Result<Instance, ApiError> {
    let program = state.program()?.clone();
    let process = engine::find_process(&program, code)?;
    let mut instance = Instance::new(program, process, jiff::Timestamp::now());
    instance.set_inputs(inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(instance)
}

/// `{Code}/Execute`: with `ResultParameterName`, runs and returns that
/// value (`null` when the process has no such parameter); without it,
/// starts the instance in the background and returns its id at once.
pub async fn execute(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(deadline): Extension<Deadline>,
    Segment(code): Segment,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut result = None;
    let mut inputs = Vec::new();
    for (k, v) in query_pairs(query)? {
        if k.eq_ignore_ascii_case("ResultParameterName") {
            result = Some(v);
        } else {
            inputs.push((k, v));
        }
    }
    inputs.extend(object_pairs(json_body(body)?, "parameter values")?);
    let s = state.clone();
    let options = state.options_for(&caller);
    match result {
        Some(result) => {
            let (id, status, value) = blocking(move || {
                let instance = new_instance(&s, &code, &inputs)?;
                let (mut instance, run) = run_foreground(&s, instance, &caller, deadline)?;
                if kept(&instance, &run) {
                    instance = save(&s, instance, &run, None, deadline)?;
                }
                let d = instance.descriptor(Some(&[]));
                s.metrics.outcome(&d, run.elements_executed);
                let value = match (instance.status, &instance.error) {
                    (Status::Failed, Some(err)) => Err(ApiError::failed(err)),
                    _ => Ok(instance.param(&result).map_or(Json_::Null, convert::to_json)),
                };
                Ok((instance.id, instance.status, value))
            })
            .await?;
            let response = match value {
                Ok(value) => respond(&headers, value),
                Err(e) => e.into_response(),
            };
            Ok(with_instance(response, id, status))
        }
        None => {
            let id = blocking(move || {
                let program = s.program()?.clone();
                let process = engine::find_process(&program, &code)?;
                crate::api::may_run_in_background(program.process(process))?;
                let mut instance = new_instance(&s, &code, &inputs)?;
                // Its starter's from the accept on, also when a restart resumes it.
                instance.mark_started(caller.name.as_str().into(), jiff::Timestamp::now());
                s.enter_backlog()?;
                let id = instance.id;
                if let Err(e) = runs::hold_background(&s, id) {
                    s.backlog.fetch_sub(1, Ordering::SeqCst);
                    return Err(e);
                }
                // Committed as accepted before the answer: a restart (or
                // another node, should this one die) resumes it.
                match s.save_run(instance, Run::new(s.options())) {
                    Ok(instance) => {
                        s.metrics.started.fetch_add(1, Ordering::Relaxed);
                        Ok(instance.id)
                    }
                    Err(e) => {
                        runs::release_background(&s, id);
                        s.backlog.fetch_sub(1, Ordering::SeqCst);
                        Err(e)
                    }
                }
            })
            .await?;
            runs::spawn_background(state, id, options);
            // Accepted and committed; a worker runs it from here.
            Ok(with_instance(respond(&headers, Json_::String(id.to_string())), id, Status::Running))
        }
    }
}

/// `ExecProcElByUId/{uid}`: executes a waiting element-instance with field
/// values from the query or a JSON object body, and runs on.
pub async fn exec_by_uid(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(deadline): Extension<Deadline>,
    Segment(uid): Segment,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let uid = parse_uuid(&uid, "element-instance UId")?;
    let mut fields = query_pairs(query)?;
    fields.extend(object_pairs(json_body(body)?, "field values")?);
    let (outcome, descriptor, elements) = runs::exec_by_uid_unit(&state, uid, fields, caller, deadline).await?;
    if outcome == ExecOutcome::AlreadyExecuted {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("element-instance {uid} was already executed; nothing was done"),
        )
        .with_code("procdsl::exec::already_executed"));
    }
    state.metrics.outcome(&descriptor, elements);
    let (id, status) = (descriptor.process_id, descriptor.status);
    Ok(with_instance(respond(&headers, descriptor_json(&descriptor)), id, status))
}

fn descriptor_json(d: &Descriptor) -> Json_ {
    let mut value = serde_json::to_value(d).unwrap_or(Json_::Null);
    super::error::scrub_files(&mut value);
    value
}

/// Other fields a Creatio client sends are ignored.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunProcessBody {
    schema_name: Option<String>,
    #[serde(rename = "schemaUId", alias = "schemaUid")]
    schema_uid: Option<String>,
    #[serde(default)]
    parameter_values: Option<Json_>,
    #[serde(default)]
    result_parameter_names: Option<Vec<String>>,
}

/// Creatio's `parameterValues`: `{"Code": value}` or `[{"name","value"}]`.
fn parameter_values(values: Option<Json_>) -> Result<Vec<(String, String)>, ApiError> {
    match values {
        None | Some(Json_::Null) => Ok(Vec::new()),
        Some(Json_::Array(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let name = item.get("name").and_then(Json_::as_str).ok_or_else(|| {
                    ApiError::bad_request(format!("parameterValues[{i}] must be an object with \"name\" and \"value\""))
                })?;
                if let Some(text) = item.get("value").and_then(input_text) {
                    out.push((name.to_string(), text));
                }
            }
            Ok(out)
        }
        other => object_pairs(other, "parameter values").map_err(|_| {
            ApiError::bad_request("parameterValues must be an object or an array of {\"name\", \"value\"}")
        }),
    }
}

/// `RunProcess`: runs a process by name or schema UId and answers the
/// descriptor plus Creatio's `processStatus`, `success` and `errorInfo`.
pub async fn run_process(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(deadline): Extension<Deadline>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    if let Some(key) = key.clone() {
        let s = state.clone();
        if let Some(answer) = blocking(move || s.store.call(move |st| st.remembered(&key))).await? {
            return Ok(replay(&headers, &answer.1));
        }
    }
    let json = json_body(body)?.ok_or_else(|| {
        ApiError::bad_request("the request body must be a JSON object with \"schemaName\" or \"schemaUId\"")
    })?;
    let body: RunProcessBody = serde_json::from_value(json)
        .map_err(|e| ApiError::bad_request(format!("the RunProcess body is not valid: {e}")))?;
    let inputs = parameter_values(body.parameter_values)?;
    let code = process_code(&state, &body.schema_name, &body.schema_uid)?;
    let names = body.result_parameter_names;
    let value = move |instance: &Instance| {
        let d = instance.descriptor(names.as_deref());
        let mut value = descriptor_json(&d);
        if let Json_::Object(map) = &mut value {
            map.insert("processStatus".into(), json!(d.status.creatio_code()));
            map.insert("success".into(), json!(d.status != Status::Failed));
            // The error as `descriptor_json` wrote it (no server paths).
            let error = map.get("error").cloned().unwrap_or(Json_::Null);
            map.insert("errorInfo".into(), error);
        }
        (d, value)
    };
    if key.is_none() {
        if let Some((instance, elements)) = start_unit(&state, &code, &inputs, &caller, deadline).await? {
            let (d, answer) = value(&instance);
            state.metrics.outcome(&d, elements);
            return Ok(with_instance(respond(&headers, answer), instance.id, instance.status));
        }
    }
    let s = state.clone();
    let value = blocking(move || {
        let instance = new_instance(&s, &code, &inputs)?;
        let (instance, run) = run_foreground(&s, instance, &caller, deadline)?;
        let (d, answer) = value(&instance);
        // With a key, the instance and its answer are kept together, so that
        // a retry gets this answer, however this request ends.
        let instance = match key {
            Some(key) => match save(&s, instance, &run, Some((key.clone(), answer.to_string())), deadline) {
                Err(e) if e.code.as_deref() == Some("procdsl::store::key_used") => {
                    let kept = s.store.call(move |st| st.remembered(&key))?;
                    return Ok(Err(kept.map(|(_, answer)| answer).unwrap_or_default()));
                }
                saved => saved?,
            },
            None if kept(&instance, &run) => save(&s, instance, &run, None, deadline)?,
            None => instance,
        };
        s.metrics.outcome(&d, run.elements_executed);
        Ok(Ok((instance.id, instance.status, value(&instance).1)))
    })
    .await?;
    match value {
        Ok((id, status, value)) => Ok(with_instance(respond(&headers, value), id, status)),
        Err(answer) => Ok(replay(&headers, &answer)),
    }
}

/// The Code of the process a RunProcess body names.
fn process_code(state: &AppState, name: &Option<String>, uid: &Option<String>) -> Result<String, ApiError> {
    let program = state.program()?;
    match (name, uid) {
        (Some(name), _) => Ok(name.clone()),
        (None, Some(uid)) => {
            let uid = parse_uuid(uid, "schemaUId")?;
            let process = program
                .find_by_uid(uid)
                .ok_or_else(|| ApiError::not_found(format!("no process has the schema UId {uid}")))?;
            Ok(program.process(process).code.to_string())
        }
        (None, None) => Err(ApiError::bad_request("the body names no process: give \"schemaName\" or \"schemaUId\"")),
    }
}

/// How a start on a store thread ended.
enum Started {
    /// Kept (if it is to be) and answered; with the elements it executed.
    Done(Instance, u64),
    /// Saved; the signals it threw are still to be delivered.
    Thrown(Instance, u64, RunOptions),
    /// Its run outgrew the unit's budget: the long way.
    TooLong,
}

/// Starts `code` as one unit of work on a store thread
/// ([`super::worker::StoreHandle::unit`]): the new instance, its run and its save
/// (if it is kept). `None` when its run outgrew the unit's budget: nothing
/// was kept, and the caller starts it the long way, on the blocking pool.
async fn start_unit(
    state: &AppState,
    code: &str,
    inputs: &[(String, String)],
    caller: &Caller,
    deadline: Deadline,
) -> Result<Option<(Instance, u64)>, ApiError> {
    if state.runs_long(code, None) {
        return Ok(None);
    }
    let (s, code, inputs) = (state.clone(), code.to_string(), inputs.to_vec());
    let options = state.options_for(caller);
    let started = state
        .store
        .unit(move |_| {
            let mut instance = match new_instance(&s, &code, &inputs) {
                Ok(instance) => instance,
                Err(e) => return Step::Answer(Err(e)),
            };
            let until = s.unit_until(deadline);
            let mut run = Run::new(options).until(until);
            let began = Instant::now();
            store::run_on(&mut instance, &mut run);
            s.ran(&code, None, began.elapsed());
            if run.timed_out() {
                return Step::Answer(Ok(Started::TooLong));
            }
            s.metrics.started.fetch_add(1, Ordering::Relaxed);
            let elements = run.elements_executed;
            if !kept(&instance, &run) {
                return Step::Answer(Ok(Started::Done(instance, elements)));
            }
            let emitted = !run.emitted.is_empty();
            let options = run.options;
            let save = store::Save { instance, emitted: run.emitted, expected: None, key: None };
            Step::Commit(
                store::Write::Save(Box::new(save)),
                Box::new(move |written| match written {
                    Ok(store::Written::Saved(instance)) if emitted => Ok(Started::Thrown(*instance, elements, options)),
                    Ok(store::Written::Saved(instance)) => Ok(Started::Done(*instance, elements)),
                    Ok(_) => Err(ApiError::internal("the store answered a save with something else")),
                    Err(e) => Err(e.into()),
                }),
            )
        })
        .await??;
    match started {
        Started::Done(instance, elements) => Ok(Some((instance, elements))),
        Started::Thrown(instance, elements, options) => {
            let (s, id) = (state.clone(), instance.id);
            blocking(move || runs::deliver_thrown(&s, id, &options, deadline)).await?;
            Ok(Some((instance, elements)))
        }
        Started::TooLong => {
            state.metrics.runs_rerun.fetch_add(1, Ordering::Relaxed);
            Ok(None)
        }
    }
}

/// Longest `Idempotency-Key`.
const MAX_KEY: usize = 255;

/// The `Idempotency-Key` header: visible ASCII, at most 255 characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key =
        value.to_str().ok().filter(|k| !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|k| Some(k.to_string())).ok_or_else(|| {
        ApiError::bad_request(format!("the Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"))
    })
}

/// The answer kept under an idempotency key, sent again (`Idempotent-Replayed: true`).
fn replay(headers: &HeaderMap, answer: &str) -> Response {
    let value: Json_ = serde_json::from_str(answer).unwrap_or(Json_::Null);
    let id = value.get("processId").and_then(Json_::as_str).and_then(|id| id.parse().ok());
    let status = value.get("status").and_then(Json_::as_str).and_then(|s| s.parse().ok());
    let mut response = respond(headers, value);
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    match (id, status) {
        (Some(id), Some(status)) => with_instance(response, id, status),
        _ => response,
    }
}

/// Most instance ids in one `CancelExecution`.
pub const MAX_CANCEL: usize = 1000;

/// `CancelExecution`: body a JSON array of instance ids (at most
/// [`MAX_CANCEL`]), all cancelled in one transaction; answers one entry
/// per id: its status, or why it could not be cancelled.
pub async fn cancel_execution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ids = match json_body(body)? {
        Some(Json_::Array(items)) => items,
        Some(Json_::String(one)) => vec![Json_::String(one)],
        _ => return Err(ApiError::bad_request("the request body must be a JSON array of instance ids")),
    };
    let ids: Vec<Uuid> = ids
        .iter()
        .map(|v| match v {
            Json_::String(s) => parse_uuid(s, "instance id"),
            other => Err(ApiError::bad_request(format!("an instance id must be a string, not {}", json_kind(other)))),
        })
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_CANCEL {
        return Err(ApiError::bad_request(format!(
            "CancelExecution takes at most {MAX_CANCEL} instance ids at once, not {}",
            ids.len()
        )));
    }
    let s = state.clone();
    let results = blocking(move || {
        s.store.call(move |st| {
            let results = st.cancel_many(&ids, &caller.name)?;
            let out = ids
                .iter()
                .zip(results)
                .map(|(id, result)| match result {
                    Ok((_, d)) => json!({ "processId": id, "status": d.status }),
                    Err(e) => json!({ "processId": id, "error": ApiError::from(e).body()["error"] }),
                })
                .collect();
            Ok(Json_::Array(out))
        })
    })
    .await?;
    Ok(respond(&headers, results))
}
