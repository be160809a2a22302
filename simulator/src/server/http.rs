//! The HTTP accept loop, with the limits `axum::serve` cannot set: a connection
//! cap, a header-read timeout (slowloris), a header-size limit and a body cap.
//!
//! | limit | what a client sees |
//! |---|---|
//! | connections over `max_connections` | `429 Too Many Requests` with `Retry-After: 1`, then close |
//! | request head not complete within `header_read_timeout` (also idle keep-alive) | connection closed |
//! | request head over `max_header_bytes` | `431 Request Header Fields Too Large` |
//! | body over `max_body_bytes` | `413 Payload Too Large` (surfaces may set lower, protocol-shaped limits) |

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;

use super::AppState;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Limits on the HTTP listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Concurrent connections; more are answered 429 and closed.
    pub max_connections: usize,
    /// Time allowed to send a complete request head (and to start the next one
    /// on a keep-alive connection).
    pub header_read_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// Largest request body anywhere, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

const OVER_CAPACITY: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\n\
Content-Length: 55\r\nConnection: close\r\n\r\n{\"message\":\"too many connections to the ngsim listener\"}";

/// A GET that [`router`](super::router) would hand to the FHIR API through
/// its fallback: served without the route-table miss first (about a tenth
/// of a read's instructions). The fixed routes all live under `/_ngsim/` and
/// `/sinks/`, so excluding those keeps the answer the same. GET only: a body
/// is never read on this path, so the body limit has nothing to guard.
fn is_plain_fhir_read(state: &AppState, req: &hyper::Request<Incoming>) -> bool {
    let path = req.uri().path();
    req.method() == hyper::Method::GET
        && !path.starts_with("/_ngsim/")
        && !path.starts_with("/sinks/")
        && crate::fhir::is_plain_fhir(state, path)
}

/// Serve `app` on `listener` until `stop` is cancelled; in-flight exchanges
/// finish (graceful shutdown), tracked by `tasks`.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    state: AppState,
    limits: HttpLimits,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    let app = app.layer(tower_http::limit::RequestBodyLimitLayer::new(
        limits.max_body_bytes,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        // Head and body in one buffer, written with one `send`: the bodies
        // we serve are small (a 1 KB resource, a page of a Bundle), so the
        // copy is cheaper than the `writev` hyper would use otherwise.
        .writev(false)
        .keep_alive(true);
    loop {
        let (mut tcp, peer) = tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly
                    // instead of spinning, and keep serving.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tasks.spawn(async move {
                let _ = tcp.write_all(OVER_CAPACITY).await;
                let _ = tcp.shutdown().await;
            });
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let peer_text = super::journal_layer::PeerText(peer.to_string().into());
        let (app, state) = (app.clone(), state.clone());
        let svc = tower::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req.extensions_mut().insert(peer_text.clone());
            let (app, state) = (app.clone(), state.clone());
            async move {
                if is_plain_fhir_read(&state, &req) {
                    return Ok(crate::fhir::serve(&state, req.map(axum::body::Body::new)).await);
                }
                app.oneshot(req).await
            }
        });
        let conn = builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(svc));
        let stop = stop.clone();
        tasks.spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => { let _: Result<(), hyper::Error> = r; }
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}
