//! The service's own JSON API: processes, instances, signals, health,
//! metrics and the OpenAPI document.

use super::access;
use super::caller::Caller;
use super::error::{ApiError, Segment};
use super::{blocking, runs, AppState, Deadline};
use crate::check::spec::ProcessSpec;
use crate::runtime::convert;
use crate::runtime::instance::Status;
use crate::store::{Cursor, InstanceSummary, ListFilter};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value as JsonValue};

fn summary(p: &ProcessSpec) -> JsonValue {
    json!({
        "code": &*p.code,
        "uid": p.uid,
        "caption": p.caption.as_deref(),
        "parameters": p.params.iter().map(|param| json!({
            "code": &*param.code,
            "direction": param.direction.keyword(),
            "type": param.ty.to_string(),
            "default": convert::to_json(&param.default),
        })).collect::<Vec<_>>(),
    })
}

pub async fn processes(State(state): State<AppState>) -> Json<JsonValue> {
    let list = state.program.as_ref().map_or_else(Vec::new, |p| p.processes.iter().map(summary).collect());
    Json(JsonValue::Array(list))
}

pub async fn process(State(state): State<AppState>, Segment(code): Segment) -> Result<Json<JsonValue>, ApiError> {
    let program = state.program()?;
    let id = crate::runtime::engine::find_process(program, &code)?;
    let spec = program.process(id);
    let mut value = summary(spec);
    value["elements"] = spec
        .elements
        .iter()
        .map(|e| json!({ "name": &*e.name, "uid": e.uid, "kind": e.kind_name(), "caption": e.caption.as_deref() }))
        .collect();
    Ok(Json(value))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancesQuery {
    status: Option<String>,
    process: Option<String>,
    limit: Option<usize>,
    /// The `Next-Cursor` of the page before.
    after: Option<String>,
}

/// At most this many instances in one list.
const MAX_LIST: usize = 10_000;

/// A page of the stored instances, oldest first. A full page says where
/// the next one starts: the `Next-Cursor` header (its `after`), and a
/// `Link` header with `rel="next"`.
pub async fn instances(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    query: Result<Query<InstancesQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::bad_request(format!("the query string is not valid: {}", e.body_text())))?;
    if let Some(limit) = q.limit.filter(|l| !(1..=MAX_LIST).contains(l)) {
        return Err(ApiError::bad_request(format!("`limit` must be from 1 to {MAX_LIST}, not {limit}")));
    }
    let status = q.status.map(|s| s.parse::<Status>()).transpose().map_err(ApiError::bad_request)?;
    let after = match q.after.as_deref() {
        None => None,
        Some(text) => Some(Cursor::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!("`{text}` is not a cursor: give the `Next-Cursor` of the page before"))
        })?),
    };
    let limit = q.limit.unwrap_or(1000).min(MAX_LIST);
    let filter = ListFilter { status, process: q.process, limit: Some(limit) };
    let s = state.clone();
    let who = caller.clone();
    let (list, next) = blocking(move || visible_page(&s, &who, filter, after, limit, MAX_SCANNED)).await?;
    let next = next.map(|c| c.text());
    let mut response = Json(serde_json::to_value(list).unwrap_or(JsonValue::Null)).into_response();
    if let Some(next) = next {
        let mut pairs: Vec<String> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("after="))
            .map(str::to_string)
            .collect();
        pairs.push(format!("after={next}"));
        let link = format!("<{}?{}>; rel=\"next\"", uri.path(), pairs.join("&"));
        for (name, value) in [("next-cursor", next), ("link", link)] {
            if let Ok(v) = header::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, v);
            }
        }
    }
    Ok(response)
}

/// At most this many stored instances are read for one page of a caller
/// who sees only some of them; past it the page ends short, with a cursor.
pub(super) const MAX_SCANNED: usize = 10 * MAX_LIST;

/// Up to `limit` instances the caller may see, after `after`, and where the
/// next page starts (none: nothing follows). The store is read in pages of
/// `filter.limit` (default `limit`). Visibility is decided here, not
/// in the store, so the store's pages are read until `limit` visible ones
/// are found: a `user` gets full pages, not pages thinned by what others
/// started. Only past `max_scanned` rows read ([`MAX_SCANNED`] for the
/// API) does a page end short.
pub(super) fn visible_page(
    state: &AppState,
    caller: &Caller,
    filter: ListFilter,
    mut after: Option<Cursor>,
    limit: usize,
    max_scanned: usize,
) -> Result<(Vec<InstanceSummary>, Option<Cursor>), ApiError> {
    let mut visible = Vec::new();
    let mut scanned = 0;
    loop {
        let (f, from) = (filter.clone(), after.clone());
        let page = state.store.call(move |st| st.list(&f, from.as_ref()))?;
        let full = page.len() == filter.limit.unwrap_or(limit);
        scanned += page.len();
        for summary in page {
            let cursor = Cursor { created: summary.created.clone(), id: summary.id };
            after = Some(cursor);
            if access::visible_to(&summary, caller) {
                visible.push(summary);
                if visible.len() == limit {
                    return Ok((visible, after));
                }
            }
        }
        if !full {
            return Ok((visible, None));
        }
        if scanned >= max_scanned {
            return Ok((visible, after));
        }
    }
}

pub async fn instance(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Segment(id): Segment,
) -> Result<Json<JsonValue>, ApiError> {
    let id: uuid::Uuid =
        id.parse().map_err(|_| ApiError::bad_request(format!("`{id}` is not a valid instance id (a UUID)")))?;
    let s = state.clone();
    let d = blocking(move || {
        s.store.call(move |st| {
            let instance = st.load(id)?;
            // Not visible is answered as not there: a `user` learns nothing of others' instances.
            if !access::visible_to(&instance, &caller) {
                return Err(crate::store::StoreError::UnknownInstance { id: id.to_string() });
            }
            Ok(instance.descriptor_with_history(None))
        })
    })
    .await?;
    let mut value = serde_json::to_value(d).unwrap_or(JsonValue::Null);
    super::error::scrub_files(&mut value);
    Ok(Json(value))
}

/// Throws a signal: this request delivers it, page by page, until every
/// waiter has it or the deadline comes (then the deliverer goes on:
/// `"complete": false`). `woken` lists the first 1,000 instances it woke,
/// `wokenCount` counts them all.
pub async fn signal(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(deadline): Extension<Deadline>,
    Segment(name): Segment,
) -> Result<Json<JsonValue>, ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("a signal needs a name"));
    }
    let s = state.clone();
    let signal = name.clone();
    let (woken, count, complete) = blocking(move || runs::throw(&s, signal, &caller, deadline)).await?;
    let mut value = json!({ "signal": name, "woken": woken, "wokenCount": count, "complete": complete });
    super::error::scrub_files(&mut value);
    Ok(Json(value))
}

pub async fn health() -> Json<JsonValue> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let s = state.clone();
    let counts = blocking(move || s.store.call(|st| st.count_by_status())).await?;
    let text = state.metrics.render(&counts, state.backlog.load(std::sync::atomic::Ordering::SeqCst));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

pub async fn openapi() -> Json<JsonValue> {
    Json(super::openapi::document())
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route `{}`; GET /api/openapi.json lists them", uri.path()))
}

pub async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, format!("`{}` does not take this method", uri.path()))
}
