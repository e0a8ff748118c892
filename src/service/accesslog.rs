//! The access log (`serve --access-log FILE|-`): one JSON line per request
//! with the time, the caller's name, the method, the route *pattern*, the
//! status, the duration and the instance id when there is one. Never a
//! path value, query, body, header, cookie, password or token: the route
//! pattern stands for the path, so no parameter value can reach the log.
//! Lines are written by a thread of their own, off the request's path.

use super::caller::Caller;
use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::io::Write;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Instant;

/// Where access-log lines go.
pub struct AccessLog {
    lines: Mutex<mpsc::Sender<String>>,
}

impl AccessLog {
    /// `-` for stderr, else a file appended to (created mode 0600).
    pub fn open(target: &str) -> Result<AccessLog, String> {
        let mut out: Box<dyn Write + Send> = if target == "-" {
            Box::new(std::io::stderr())
        } else {
            let file = crate::store::private_file(std::path::Path::new(target))
                .map_err(|e| format!("--access-log `{target}`: {e}"))?;
            Box::new(std::io::LineWriter::new(file))
        };
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("procdsl-access-log".into())
            .spawn(move || {
                let mut failing = false;
                for line in rx {
                    match writeln!(out, "{line}").and_then(|()| out.flush()) {
                        Err(e) if !failing => {
                            failing = true;
                            eprintln!("procdsl serve: access log: {e}");
                        }
                        Err(_) => {}
                        Ok(()) => failing = false,
                    }
                }
            })
            .map_err(|e| format!("cannot start the access-log thread: {e}"))?;
        Ok(AccessLog { lines: Mutex::new(tx) })
    }

    fn write(&self, line: String) {
        let _ = self.lines.lock().unwrap_or_else(|e| e.into_inner()).send(line);
    }
}

/// Logs the request once it is answered (sign-in put the caller on the answer).
pub(crate) async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(log) = state.access_log.clone() else {
        return next.run(request).await;
    };
    let started = Instant::now();
    let time = jiff::Timestamp::now();
    let method = request.method().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    // The one path value logged: an instance id, and only when it is one.
    let path_instance = match route.as_deref() {
        Some("/api/instances/{id}") => {
            request.uri().path().rsplit('/').next().and_then(|s| s.parse::<uuid::Uuid>().ok())
        }
        _ => None,
    };
    let response = next.run(request).await;
    let instance = response
        .headers()
        .get(super::creatio::INSTANCE_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<uuid::Uuid>().ok())
        .or(path_instance);
    let caller = response.extensions().get::<Caller>().map(|c| c.name.clone());
    let line = serde_json::json!({
        "time": time.to_string(),
        "caller": caller,
        "method": method,
        "route": route.unwrap_or_else(|| "unmatched".to_string()),
        "status": response.status().as_u16(),
        "ms": (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        "instance": instance,
    });
    log.write(line.to_string());
    response
}
