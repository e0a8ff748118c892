//! The accept loop (instead of `axum::serve`, which has no connection cap
//! and no time-outs): at most `max_connections` open connections (more are
//! answered 503 and closed); a request head must arrive within
//! `header_timeout` of its first byte; a connection with no request in
//! progress closes after `idle_timeout` without a byte. Each connection is
//! HTTP/1.1 on hyper, its requests carry the client's address
//! ([`ConnectInfo`]) for the sign-in throttle.

use super::Limits;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// What a connection is doing, for its watchdog.
struct Activity {
    /// Requests being answered.
    in_flight: usize,
    /// When the first byte of a request head arrived (none: not reading one).
    head_started: Option<Instant>,
    /// The last byte read or written, or the last answer finished.
    last: Instant,
}

type Shared = Arc<Mutex<Activity>>;

fn lock(a: &Shared) -> std::sync::MutexGuard<'_, Activity> {
    a.lock().unwrap_or_else(|e| e.into_inner())
}

/// A TCP stream that tells its [`Activity`] about every byte.
struct Watched {
    inner: TcpStream,
    activity: Shared,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let now = Instant::now();
            let mut a = lock(&this.activity);
            a.last = now;
            if a.in_flight == 0 && a.head_started.is_none() {
                a.head_started = Some(now);
            }
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            lock(&this.activity).last = Instant::now();
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Why a connection's watchdog closes it, if it should now.
fn overdue(activity: &Shared, limits: &Limits) -> bool {
    let a = lock(activity);
    if a.in_flight > 0 {
        return false;
    }
    match a.head_started {
        Some(started) => started.elapsed() >= limits.header_timeout,
        None => a.last.elapsed() >= limits.idle_timeout,
    }
}

/// Accepts connections until `shutdown`, then lets those open finish their
/// requests (at most the request timeout and a little more).
pub async fn accept_loop(
    app: Router,
    listener: TcpListener,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(cap));
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                eprintln!("procdsl serve: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, cap));
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(app.clone(), stream, peer, limits.clone(), stopped.clone(), slot));
    }
    let _ = stop.send(true);
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(limits.request_timeout + Duration::from_secs(2), slots.acquire_many(all)).await;
    Ok(())
}

/// The answer past the connection cap, written without reading the request.
async fn refuse(mut stream: TcpStream, cap: usize) {
    let body = format!(
        r#"{{"error":{{"message":"the service has {cap} connections open, its most; try again later","code":null,"help":null,"element":null,"file":null,"line":null,"column":null}}}}"#
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
        // Read what the client sent before closing: a close with unread
        // bytes is a reset, and the client might lose the answer.
        let mut sink = [0u8; 4096];
        let mut left = 64 << 10;
        while left > 0 {
            match tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left -= n.min(left),
            }
        }
    })
    .await;
}

async fn connection(
    app: Router,
    stream: TcpStream,
    peer: SocketAddr,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let activity: Shared = Arc::new(Mutex::new(Activity { in_flight: 0, head_started: None, last: Instant::now() }));
    let io = TokioIo::new(Watched { inner: stream, activity: activity.clone() });
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        {
            let mut a = lock(&requests);
            a.in_flight += 1;
            a.head_started = None;
        }
        let done = requests.clone();
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(axum::body::Body::new)).await;
            let mut a = lock(&done);
            a.in_flight -= 1;
            a.last = Instant::now();
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let shortest = limits.header_timeout.min(limits.idle_timeout);
    let mut watch = tokio::time::interval((shortest / 4).clamp(Duration::from_millis(20), Duration::from_secs(1)));
    watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stopped.changed() => break,
            _ = watch.tick() => {
                // Nothing is in progress: dropping the connection loses nothing.
                if overdue(&activity, &limits) {
                    return;
                }
            }
        }
    }
    // Shutting down: finish the request in progress, then close.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.request_timeout + Duration::from_secs(1), conn).await;
}
