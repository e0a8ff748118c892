//! The service's own JSON API: processes, instances, signals, health,
//! metrics and the OpenAPI document.

use super::access;
use super::caller::Caller;
use super::error::{ApiError, Segment};
use super::{blocking, AppState};
use crate::check::spec::ProcessSpec;
use crate::runtime::convert;
use crate::runtime::instance::Status;
use crate::store::ListFilter;
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
}

/// At most this many instances in one list.
const MAX_LIST: usize = 10_000;

pub async fn instances(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<InstancesQuery>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::bad_request(format!("the query string is not valid: {}", e.body_text())))?;
    if let Some(limit) = q.limit.filter(|l| !(1..=MAX_LIST).contains(l)) {
        return Err(ApiError::bad_request(format!("`limit` must be from 1 to {MAX_LIST}, not {limit}")));
    }
    let status = q.status.map(|s| s.parse::<Status>()).transpose().map_err(ApiError::bad_request)?;
    let filter = ListFilter { status, process: q.process, limit: Some(q.limit.unwrap_or(1000)) };
    let s = state.clone();
    let mut list = blocking(move || s.store.call(move |st| st.list(&filter))).await?;
    list.retain(|i| access::visible_to(i, &caller));
    Ok(Json(serde_json::to_value(list).unwrap_or(JsonValue::Null)))
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
            Ok(instance.descriptor(None))
        })
    })
    .await?;
    let mut value = serde_json::to_value(d).unwrap_or(JsonValue::Null);
    super::error::scrub_files(&mut value);
    Ok(Json(value))
}

pub async fn signal(State(state): State<AppState>, Segment(name): Segment) -> Result<Json<JsonValue>, ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("a signal needs a name"));
    }
    let s = state.clone();
    let signal = name.clone();
    let woken = blocking(move || {
        let options = s.options();
        let woken = s.store.call(move |st| st.signal(&signal, options))?;
        for d in &woken {
            s.metrics.outcome(d, 0);
        }
        Ok(woken)
    })
    .await?;
    let mut value = json!({ "signal": name, "woken": woken });
    super::error::scrub_files(&mut value);
    Ok(Json(value))
}

pub async fn health() -> Json<JsonValue> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let s = state.clone();
    let counts = blocking(move || s.store.call(|st| st.count_by_status())).await?;
    let text = state.metrics.render(&counts);
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
