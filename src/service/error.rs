//! The service's one error answer: `{"error": {"message", "code", "help",
//! "element", "file", "line", "column"}}` with a 4xx (or, for a store that
//! fails, 500) status. Built from the layers' typed errors; never a stack
//! trace or a panic message.

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
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), code: None, help: None, info: None }
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
        (self.status, Json(self.body())).into_response()
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
            ExecError::Finished { .. } | ExecError::NotExecutable { .. } => StatusCode::CONFLICT,
            ExecError::BadField { .. } => StatusCode::BAD_REQUEST,
            ExecError::NotAssigned(_) => StatusCode::FORBIDDEN,
        };
        ApiError::from_diagnostic(status, &e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Input(e) => e.into(),
            StoreError::Exec(e) => e.into(),
            StoreError::UnknownInstance { .. } => ApiError::from_diagnostic(StatusCode::NOT_FOUND, &e),
            StoreError::Finished { .. } => ApiError::from_diagnostic(StatusCode::CONFLICT, &e),
            StoreError::SignalLoop { .. } => ApiError::from_diagnostic(StatusCode::UNPROCESSABLE_ENTITY, &e),
            // The database is gone for now: the client may try again.
            ref e if e.is_unavailable() => ApiError::from_diagnostic(StatusCode::SERVICE_UNAVAILABLE, e),
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
    fn an_exec_by_someone_not_assigned_is_403_and_says_who_may() {
        let refused = access::may_execute("Approve", &["managers".to_string()], "bob", &[]).unwrap_err();
        let e = ApiError::from(StoreError::Exec(ExecError::NotAssigned(refused)));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.message, "`Approve` is assigned to managers");
        assert_eq!(e.code.as_deref(), Some("procdsl::exec::not_assigned"));
        assert!(e.help.is_some_and(|h| h.contains("`bob`")));
    }
}
