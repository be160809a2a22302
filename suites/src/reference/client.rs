//! The reference integration's client side: a process that talks TO the
//! simulator (as a real integration does), driven by hooks. Its hook server
//! answers `POST /send-hl7` by delivering its HL7 feed to the simulator's MLLP
//! listener and returning when the feed is done, and `POST /read-fhir` by
//! reading every Patient page by page, and `POST /bulk-export` and
//! `POST /bulk-abandon` by running a Bulk export to its end or abandoning one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::ClientDefect;
use super::bulk_client::{self, BulkRun};
use super::reader::{self, ReaderConfig};
use super::sender::{self, SenderConfig};
use super::smart_app;

/// Where the simulator is, as the client is configured to reach it.
#[derive(Debug, Clone)]
pub struct ClientTargets {
    /// The simulator's MLLP listener (for the HL7 sender).
    pub mllp: Option<SocketAddr>,
    /// The simulator's FHIR base and a registered backend client (for the
    /// FHIR reader).
    pub fhir: Option<FhirTarget>,
}

/// A FHIR server and the backend registration used against it.
#[derive(Debug, Clone)]
pub struct FhirTarget {
    /// FHIR base URL.
    pub base: String,
    /// Backend client id.
    pub client_id: String,
    /// Its signing key (its public half registered with the server).
    pub key: simulator::auth::ClientKey,
}

#[derive(Debug)]
struct Shared {
    sender: Option<SenderConfig>,
    reader: Option<ReaderConfig>,
    runs: AtomicU64,
    seed: u64,
}

/// A running reference client. Dropping it stops it.
#[derive(Debug)]
pub struct ReferenceClient {
    /// Its hook server.
    pub hooks_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

/// The HL7 sender's ACK timeout (declared in the manifest).
pub const SENDER_ACK_TIMEOUT: Duration = Duration::from_millis(300);
/// The HL7 sender's first retry wait.
pub const SENDER_BACKOFF: Duration = Duration::from_millis(150);

impl ReferenceClient {
    /// A `sut.toml` describing this client.
    pub fn manifest_toml(&self) -> String {
        let mut out = format!(
            "name = \"ngsim reference integration (client)\"\nversion = \"{}\"\n",
            env!("CARGO_PKG_VERSION")
        );
        if let Some(s) = &self.shared.sender {
            out.push_str(&format!(
                "\n[mllp-sender]\nsimulator-listen = \"{}\"\nack-timeout = \"{}ms\"\n",
                s.target,
                s.ack_timeout.as_millis()
            ));
            out.push_str(&format!(
                "\n[hooks.send-hl7]\nhttp = {{ method = \"POST\", url = \"http://{}/send-hl7\" }}\ntimeout = \"60s\"\n",
                self.hooks_addr
            ));
        }
        if self.shared.reader.is_some() {
            for hook in [
                "read-fhir",
                "bulk-export",
                "bulk-abandon",
                "smart-launch",
                "smart-backend",
            ] {
                out.push_str(&format!(
                    "\n[hooks.{hook}]\nhttp = {{ method = \"POST\", url = \"http://{}/{hook}\" }}\ntimeout = \"60s\"\n",
                    self.hooks_addr
                ));
            }
        }
        out
    }
}

impl Drop for ReferenceClient {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Start the reference client against `targets`, optionally with a defect.
pub async fn start_client(
    defect: Option<ClientDefect>,
    targets: ClientTargets,
) -> std::io::Result<ReferenceClient> {
    let sender = targets.mllp.map(|target| SenderConfig {
        target,
        ack_timeout: SENDER_ACK_TIMEOUT,
        backoff: SENDER_BACKOFF,
        max_attempts: 4,
        defect,
    });
    let reader = targets.fhir.map(|f| ReaderConfig {
        fhir_base: f.base,
        client_id: f.client_id,
        key: f.key,
        backoff: SENDER_BACKOFF,
        defect,
    });
    let shared = Arc::new(Shared {
        sender,
        reader,
        runs: AtomicU64::new(0),
        seed: 11,
    });
    let stop = CancellationToken::new();
    let hooks = TcpListener::bind("127.0.0.1:0").await?;
    let hooks_addr = hooks.local_addr()?;
    let s = shared.clone();
    let router = axum::Router::new()
        .route(
            "/bulk-export",
            reader_hook(shared.clone(), |c| async move {
                bulk_client::export(&c, BulkRun::Complete).await
            }),
        )
        .route(
            "/bulk-abandon",
            reader_hook(shared.clone(), |c| async move {
                bulk_client::export(&c, BulkRun::Abandon).await
            }),
        )
        .route(
            "/smart-launch",
            reader_hook(
                shared.clone(),
                |c| async move { smart_app::launch(&c).await },
            ),
        )
        .route(
            "/smart-backend",
            reader_hook(
                shared.clone(),
                |c| async move { smart_app::backend(&c).await },
            ),
        )
        .route(
            "/read-fhir",
            reader_hook(shared.clone(), |c| async move {
                reader::read_all(&c)
                    .await
                    .map(|n| serde_json::json!({ "read": n }))
            }),
        )
        .route(
            "/send-hl7",
            axum::routing::post(move || {
                let s = s.clone();
                async move {
                    let Some(cfg) = &s.sender else {
                        return Err((
                            axum::http::StatusCode::CONFLICT,
                            "no MLLP target configured".to_owned(),
                        ));
                    };
                    let run = s.runs.fetch_add(1, Ordering::Relaxed);
                    let report = sender::deliver(cfg, run, s.seed).await;
                    Ok(axum::Json(serde_json::json!({
                        "delivered": report.delivered,
                        "rejected": report.rejected,
                    })))
                }
            }),
        );
    let st = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(hooks, router)
            .with_graceful_shutdown(st.cancelled_owned())
            .await;
    });
    Ok(ReferenceClient {
        hooks_addr,
        shared,
        stop,
    })
}

/// A hook that acts with the FHIR-side configuration (409 without one; the
/// action's error as 502).
fn reader_hook<F, Fut>(s: Arc<Shared>, act: F) -> axum::routing::MethodRouter
where
    F: Fn(ReaderConfig) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<serde_json::Value, String>> + Send + 'static,
{
    axum::routing::post(move || {
        let (s, act) = (s.clone(), act.clone());
        async move {
            let Some(cfg) = s.reader.clone() else {
                return Err((
                    axum::http::StatusCode::CONFLICT,
                    "no FHIR server configured".to_owned(),
                ));
            };
            act(cfg)
                .await
                .map(axum::Json)
                .map_err(|e| (axum::http::StatusCode::BAD_GATEWAY, e))
        }
    })
}
