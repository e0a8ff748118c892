//! A small read-only OData 4 surface under `/0/odata/`, so that Creatio
//! clients can probe their session (`GET /0/odata/Account/$count`) and read
//! what procdsl holds: `SysProcessLog` (the stored instances) and
//! `VwProcessLib` (the processes served). `Account` and `Contact`, which
//! every Creatio has and clients probe, are empty sets; any other entity set
//! is a 404. Only `$top`, `$skip` and `$count` are understood; other query
//! options are refused (400) rather than ignored.

use super::access;
use super::caller::Caller;
use super::error::{scrub_files, ApiError, Segment};
use super::{blocking, AppState};
use crate::store::ListFilter;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The most entities in one answer.
pub const MAX_TOP: usize = 1000;
/// The most entities `$skip` may pass over.
pub const MAX_SKIP: usize = 10_000;
/// Entity sets every Creatio has that procdsl holds nothing of.
pub const EMPTY_SETS: [&str; 2] = ["Account", "Contact"];

enum Set {
    Instances,
    Processes,
    Empty(&'static str),
}

impl Set {
    fn name(&self) -> &'static str {
        match self {
            Set::Instances => "SysProcessLog",
            Set::Processes => "VwProcessLib",
            Set::Empty(name) => name,
        }
    }
}

/// An entity set and an optional key: `SysProcessLog` or `SysProcessLog(…)`.
fn parse_segment(segment: &str) -> Result<(Set, Option<Uuid>), ApiError> {
    let (name, key) = match segment.split_once('(') {
        Some((name, rest)) => {
            let key = rest.strip_suffix(')').ok_or_else(|| not_found(segment))?;
            let key = key.trim_matches('\'');
            let key = key
                .parse::<Uuid>()
                .map_err(|_| ApiError::bad_request(format!("`{key}` is not a valid key of `{name}` (a UUID)")))?;
            (name, Some(key))
        }
        None => (segment, None),
    };
    let set = if name.eq_ignore_ascii_case("SysProcessLog") {
        Set::Instances
    } else if name.eq_ignore_ascii_case("VwProcessLib") {
        Set::Processes
    } else if let Some(empty) = EMPTY_SETS.iter().find(|s| s.eq_ignore_ascii_case(name)) {
        Set::Empty(empty)
    } else {
        return Err(not_found(name));
    };
    Ok((set, key))
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "no entity set `{name}`: procdsl's OData holds SysProcessLog (instances) and VwProcessLib (processes)"
    ))
}

struct Options {
    top: usize,
    skip: usize,
    count: bool,
}

fn options(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Result<Options, ApiError> {
    let pairs =
        query.map_err(|e| ApiError::bad_request(format!("the query string is not valid: {}", e.body_text())))?.0;
    let mut o = Options { top: 100, skip: 0, count: false };
    for (k, v) in pairs {
        let number = |max: usize| {
            v.parse::<usize>().ok().filter(|n| *n <= max).ok_or_else(|| {
                ApiError::bad_request(format!("`{k}` must be a whole number from 0 to {max}, not `{v}`"))
            })
        };
        match k.as_str() {
            "$top" => o.top = number(MAX_TOP)?,
            "$skip" => o.skip = number(MAX_SKIP)?,
            "$count" => {
                o.count = match v.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(ApiError::bad_request(format!("`$count` must be true or false, not `{v}`"))),
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "the query option `{other}` is not supported: procdsl's OData understands $top, $skip and $count"
                )))
            }
        }
    }
    Ok(o)
}

fn instance_entity(s: &crate::store::InstanceSummary) -> Value {
    json!({
        "Id": s.id, "Name": s.process, "Status": s.status, "Waiting": s.waiting,
        "Version": s.version, "CreatedOn": s.created, "ModifiedOn": s.updated,
    })
}

fn process_entity(p: &crate::check::spec::ProcessSpec) -> Value {
    json!({ "Id": p.uid, "Name": &*p.code, "Caption": p.caption.as_deref() })
}

fn context(headers: &HeaderMap, fragment: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}/0/odata/$metadata#{fragment}")
}

/// Every entity of a set (the sets are small, or bounded by `MAX_SKIP + MAX_TOP`).
/// A `user` gets only the instances it may see ([`access::visible_to`]).
async fn entities(state: &AppState, set: &Set, wanted: usize, caller: &Caller) -> Result<Vec<Value>, ApiError> {
    Ok(match set {
        Set::Instances => {
            let s = state.clone();
            let filter = ListFilter { limit: Some(wanted), ..ListFilter::default() };
            let list = blocking(move || s.store.call(move |st| st.list(&filter, None))).await?;
            list.iter().filter(|i| access::visible_to(*i, caller)).map(instance_entity).collect()
        }
        Set::Processes => {
            state.program.as_ref().map_or_else(Vec::new, |p| p.processes.iter().map(process_entity).collect())
        }
        Set::Empty(_) => Vec::new(),
    })
}

async fn count(state: &AppState, set: &Set, caller: &Caller) -> Result<u64, ApiError> {
    Ok(match set {
        Set::Instances if !access::sees_every_instance(caller) => {
            entities(state, set, MAX_SKIP + MAX_TOP, caller).await?.len() as u64
        }
        Set::Instances => {
            let s = state.clone();
            let counts = blocking(move || s.store.call(|st| st.count_by_status())).await?;
            counts.iter().map(|(_, n)| n).sum()
        }
        Set::Processes => state.program.as_ref().map_or(0, |p| p.processes.len() as u64),
        Set::Empty(_) => 0,
    })
}

/// `GET /0/odata/{set}` and `GET /0/odata/{set}({id})`.
pub async fn collection(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Segment(segment): Segment,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (set, key) = parse_segment(&segment)?;
    let o = options(query)?;
    if let Some(key) = key {
        let entity = match set {
            Set::Instances => {
                let s = state.clone();
                let who = caller.clone();
                let found = blocking(move || {
                    s.store.call(move |st| match st.load(key) {
                        Ok(i) if !access::visible_to(&i, &who) => Ok(None),
                        Ok(i) => Ok(Some(json!({
                            "Id": i.id, "Name": &*i.spec().code, "Status": i.status, "Waiting": i.waiting.len(),
                        }))),
                        Err(crate::store::StoreError::UnknownInstance { .. }) => Ok(None),
                        Err(e) => Err(e),
                    })
                })
                .await?;
                found
            }
            Set::Processes => {
                state.program.as_ref().and_then(|p| p.processes.iter().find(|p| p.uid == key)).map(process_entity)
            }
            Set::Empty(_) => None,
        };
        let Some(mut entity) = entity else {
            return Err(ApiError::not_found(format!("no `{}` with the key {key}", set.name())));
        };
        if let Value::Object(map) = &mut entity {
            map.insert("@odata.context".into(), json!(context(&headers, &format!("{}/$entity", set.name()))));
        }
        return Ok(Json(entity).into_response());
    }
    let all = entities(&state, &set, o.skip + o.top, &caller).await?;
    let value: Vec<Value> = all.into_iter().skip(o.skip).take(o.top).collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context(&headers, set.name())));
    if o.count {
        body.insert("@odata.count".into(), json!(count(&state, &set, &caller).await?));
    }
    body.insert("value".into(), Value::Array(value));
    let mut body = Value::Object(body);
    scrub_files(&mut body);
    Ok(Json(body).into_response())
}

/// `GET /0/odata/{set}/$count`: the number as plain text, as OData answers.
pub async fn count_of(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Segment(segment): Segment,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (set, key) = parse_segment(&segment)?;
    if key.is_some() {
        return Err(ApiError::bad_request("`$count` counts an entity set, not one entity"));
    }
    options(query)?;
    let n = count(&state, &set, &caller).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], n.to_string()).into_response())
}

/// Where a stale session is sent, as Creatio sends it: clients follow the
/// redirect and take the login page as "signed out".
pub const LOGIN_PAGE: &str = "/Login/NuiLogin.aspx";

/// `GET /Login/NuiLogin.aspx`: a page that says how to sign in.
pub async fn login_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html>\n<html><head><title>procdsl: sign in</title></head><body>\
         <p>Sign in with <code>POST /ServiceModel/AuthService.svc/Login</code> \
         and <code>{\"UserName\", \"UserPassword\"}</code>.</p></body></html>\n",
    )
        .into_response()
}
