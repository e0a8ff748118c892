//! The service's one error answer: `{"error": {"message", "code", "help",
//! "element", "file", "line", "column"}}` with a 4xx (or, for a store that
//! fails, 500; for a store that cannot be reached, 503 with `Retry-After`)
//! status. Built from the layers' typed errors; never a stack trace or a
//! panic message.

use crate::api;
use crate::runtime::engine::{ExecError, InputError};
use crate::runtime::instance::ErrorInfo;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub code: Option<String>,
    pub help: Option<String>,
    /// For a process that failed: where.
    pub info: Option<Box<ErrorInfo>>,
    /// Sent as `Retry-After` (whole seconds): when trying again makes sense.
    pub retry_after: Option<std::time::Duration>,
}

/// What a client is told to wait before trying again when the store cannot
/// be reached: long enough for a database restart to get under way, short
/// enough that a client retrying at once after it sees little of the outage.
pub const STORE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), code: None, help: None, info: None, retry_after: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The store cannot be reached (see [`StoreError::is_unavailable`]):
    /// 503 with `Retry-After`. The message names no database host; the
    /// service's log has the store's own error (at most one line every 10 s:
    /// an outage under load would fill it otherwise).
    pub fn unavailable(e: &StoreError) -> ApiError {
        static LAST_SAID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let last = LAST_SAID.load(std::sync::atomic::Ordering::Relaxed);
        if now >= last + 10
            && LAST_SAID
                .compare_exchange(last, now, std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed)
                .is_ok()
        {
            eprintln!("procdsl serve: answering 503: {e}");
        }
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the store cannot be reached (the database is down, restarting or out of connections); try again shortly".to_string(),
            code: Some("procdsl::store::unavailable".to_string()),
            help: Some(
                "this node recovers by itself when the database is back; a request sent again with the same \
                 `Idempotency-Key` is carried out at most once"
                    .to_string(),
            ),
            info: None,
            retry_after: Some(STORE_RETRY_AFTER),
        }
    }

    pub fn with_code(mut self, code: &str) -> ApiError {
        self.code = Some(code.to_string());
        self
    }

    fn from_diagnostic(status: StatusCode, error: &dyn miette::Diagnostic) -> ApiError {
        ApiError {
            status,
            message: error.to_string(),
            code: error.code().map(|c| c.to_string()),
            help: error.help().map(|h| h.to_string()),
            info: None,
            retry_after: None,
        }
    }

    /// A process that ran and failed.
    pub fn failed(info: &ErrorInfo) -> ApiError {
        let mut info = info.clone();
        info.file = info.file.as_deref().map(public_file);
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("process failed: {}", info.message),
            code: Some("procdsl::run::failed".to_string()),
            help: None,
            info: Some(Box::new(info)),
            retry_after: None,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let info = self.info.as_ref();
        serde_json::json!({ "error": {
            "message": self.message,
            "code": self.code,
            "help": self.help,
            "element": info.and_then(|i| i.element.clone()),
            "file": info.and_then(|i| i.file.clone()),
            "line": info.and_then(|i| i.line),
            "column": info.and_then(|i| i.column),
        }})
    }
}

/// A source file as an answer may name it: relative to the service's
/// working directory, or only its name; never an absolute server path.
pub fn public_file(file: &str) -> String {
    let path = std::path::Path::new(file);
    if !path.is_absolute() {
        return file.to_string();
    }
    if let Some(relative) =
        std::env::current_dir().ok().and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.to_path_buf()))
    {
        return relative.display().to_string();
    }
    path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Every `"file"` string in an answer (a descriptor's error, a log's
/// place) made public with [`public_file`].
pub fn scrub_files(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    serde_json::Value::String(s) if k == "file" => *s = public_file(s),
                    other => scrub_files(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_files),
        _ => {}
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.max(1).into());
        }
        response
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> ApiError {
        let status = match e {
            InputError::UnknownProcess { .. } => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::from_diagnostic(status, &e)
    }
}

impl From<ExecError> for ApiError {
    fn from(e: ExecError) -> ApiError {
        let status = match e {
            ExecError::UnknownUid { .. } => StatusCode::NOT_FOUND,
            ExecError::Finished { .. }
            | ExecError::NotExecutable { .. }
            | ExecError::CancelledByDeadline { .. }
            | ExecError::ItemCancelled { .. } => StatusCode::CONFLICT,
            ExecError::BadField { .. } => StatusCode::BAD_REQUEST,
            ExecError::NotAssigned(_) => StatusCode::FORBIDDEN,
        };
        ApiError::from_diagnostic(status, &e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if e.is_unavailable() {
            return ApiError::unavailable(&e);
        }
        match e {
            StoreError::Input(e) => e.into(),
            StoreError::Exec(e) => e.into(),
            StoreError::UnknownInstance { .. } => ApiError::from_diagnostic(StatusCode::NOT_FOUND, &e),
            StoreError::Finished { .. } => ApiError::from_diagnostic(StatusCode::CONFLICT, &e),
            StoreError::SignalLoop { .. } => ApiError::from_diagnostic(StatusCode::UNPROCESSABLE_ENTITY, &e),
            _ => ApiError::from_diagnostic(StatusCode::INTERNAL_SERVER_ERROR, &e),
        }
    }
}

impl From<api::Error> for ApiError {
    fn from(e: api::Error) -> ApiError {
        match e {
            api::Error::Input(e) => e.into(),
            api::Error::Exec(e) => e.into(),
            api::Error::Failed(info) => ApiError::failed(&info),
            // Well-formed, but the process's outputs rule it out: a conflict
            // with the process, not a malformed request.
            e @ api::Error::BackgroundWithOutputs { .. } => ApiError::from_diagnostic(StatusCode::CONFLICT, &e),
            other => ApiError::from_diagnostic(StatusCode::BAD_REQUEST, &other),
        }
    }
}

/// The one path parameter of a route, or a JSON 400 (axum's own rejection
/// would answer plain text).
pub struct Segment(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(s)| Segment(s))
            .map_err(|e| ApiError::bad_request(format!("the path is not valid: {}", e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::access;

    #[test]
    fn a_store_out_of_reach_is_503_with_retry_after_never_500() {
        let e = ApiError::from(StoreError::Unavailable {
            target: "postgres://app@db.internal/procdsl".into(),
            message: "timed out waiting for connection".into(),
        });
        assert_eq!(
            (e.status, e.code.as_deref()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("procdsl::store::unavailable"))
        );
        assert!(!e.message.contains("db.internal"), "no host in the answer: {}", e.message);
        let response = e.into_response();
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
        let other = ApiError::from(StoreError::Conflict { id: uuid::Uuid::nil() });
        assert_eq!(other.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(other.retry_after.is_none());
    }

    #[test]
    fn an_exec_by_someone_not_assigned_is_403_and_says_who_may() {
        let refused = access::may_execute("Approve", &["managers".to_string()], "bob", &[]).unwrap_err();
        let e = ApiError::from(StoreError::Exec(ExecError::NotAssigned(refused)));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.message, "`Approve` is assigned to managers");
        assert_eq!(e.code.as_deref(), Some("procdsl::exec::not_assigned"));
        assert!(e.help.is_some_and(|h| h.contains("`bob`")));
    }
}
