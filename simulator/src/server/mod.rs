//! The in-process simulator, in the style of wiremock: build, start on
//! `127.0.0.1:0`, read the URLs, and drop to shut down.
//!
//! ```no_run
//! # async fn demo() -> Result<(), simulator::server::StartError> {
//! let sim = simulator::Simulator::builder().start().await?;
//! println!("FHIR base: {}", sim.fhir_base_url());
//! # Ok(()) }
//! ```

mod http;
mod journal_layer;
mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use axum::Router;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use http::HttpLimits;
pub(crate) use journal_layer::journaled;
pub use journal_layer::{ExchangeNote, NoteSlot, redact_query};
pub use state::{AppState, StateInner, Urls};

use crate::clients::ClientRegistry;
use crate::journal::{self, Journal, Surface};
use crate::practice::PracticeConfig;
use crate::profile::{Profile, ProfileError, ProfileLoader};

/// Entry point: `Simulator::builder()`.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// A builder with embedded defaults: profile `nge-5.9.2`, loopback, port 0.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The profile could not be loaded.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A listener could not be bound.
    #[error("cannot bind {what} on {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A non-loopback address was requested without `allow_remote`.
    #[error(
        "refusing to listen on {0}: ngsim serves synthetic data with deliberately weak modes; \
         pass --allow-remote to listen beyond loopback"
    )]
    RemoteRefused(SocketAddr),
    /// The MLLPS TLS configuration could not be built.
    #[error("MLLPS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The journal file could not be created.
    #[error("cannot create journal file {path}: {source}")]
    Journal {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// The default profile name.
pub const DEFAULT_PROFILE: &str = "nge-5.9.2";

/// Configures and starts a simulator.
#[derive(Debug)]
pub struct SimulatorBuilder {
    profile: Option<Profile>,
    practice: PracticeConfig,
    clients: ClientRegistry,
    http_addr: SocketAddr,
    journal_capacity: usize,
    journal_file: Option<PathBuf>,
    control_token: Option<String>,
    allow_remote: bool,
    http_limits: HttpLimits,
    mllp_addr: Option<SocketAddr>,
    mllps: Option<(SocketAddr, crate::tls::TlsSettings)>,
    mllp_destinations: Vec<crate::mllp::Destination>,
    mllp_limits: crate::mllp::MllpLimits,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        SimulatorBuilder {
            profile: None,
            practice: PracticeConfig::default(),
            clients: ClientRegistry::default(),
            http_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            journal_capacity: journal::DEFAULT_CAPACITY,
            journal_file: None,
            control_token: None,
            allow_remote: false,
            http_limits: HttpLimits::default(),
            mllp_addr: None,
            mllps: None,
            mllp_destinations: Vec::new(),
            mllp_limits: crate::mllp::MllpLimits::default(),
        }
    }
}

impl SimulatorBuilder {
    /// Use this resolved profile.
    pub fn profile(mut self, p: Profile) -> Self {
        self.profile = Some(p);
        self
    }

    /// Use a built-in profile by name, or a profile file by path.
    pub fn profile_named(self, name_or_path: &str) -> Result<Self, ProfileError> {
        let p = ProfileLoader::default().load(name_or_path)?;
        Ok(self.profile(p))
    }

    /// Seed of the synthetic practice (default 42). The same seed gives the same practice.
    pub fn seed(mut self, seed: u64) -> Self {
        self.practice.seed = seed;
        self
    }

    /// Number of generated patients (default 1000).
    pub fn patients(mut self, n: u32) -> Self {
        self.practice.patients = n;
        self
    }

    /// The practice's "today" (default 2026-07-01); generated dates are relative to it.
    pub fn as_of(mut self, date: time::Date) -> Self {
        self.practice.as_of = date;
        self
    }

    /// Registered clients (demo clients are added to these).
    pub fn clients(mut self, clients: ClientRegistry) -> Self {
        self.clients = clients;
        self
    }

    /// HTTP listen address (default `127.0.0.1:0`).
    pub fn http_addr(mut self, addr: SocketAddr) -> Self {
        self.http_addr = addr;
        self
    }

    /// In-memory journal bound (default [`journal::DEFAULT_CAPACITY`]).
    pub fn journal_capacity(mut self, n: usize) -> Self {
        self.journal_capacity = n;
        self
    }

    /// Also write the journal to this file as JSON lines.
    pub fn journal_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal_file = Some(path.into());
        self
    }

    /// Let non-loopback peers use the control API when they present this token.
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.control_token = Some(token.into());
        self
    }

    /// Connection, header and body limits of the HTTP listener.
    pub fn http_limits(mut self, limits: HttpLimits) -> Self {
        self.http_limits = limits;
        self
    }

    /// Allow listening on non-loopback addresses.
    pub fn allow_remote(mut self, yes: bool) -> Self {
        self.allow_remote = yes;
        self
    }

    /// Run the MLLP listener on this address (`127.0.0.1:0` in tests).
    pub fn mllp_addr(mut self, addr: SocketAddr) -> Self {
        self.mllp_addr = Some(addr);
        self
    }

    /// Run an MLLPS (TLS) listener on this address.
    pub fn mllps(mut self, addr: SocketAddr, tls: crate::tls::TlsSettings) -> Self {
        self.mllps = Some((addr, tls));
        self
    }

    /// Outbound HL7 destinations (NextGen sends feeds to them).
    pub fn mllp_destinations(
        mut self,
        destinations: impl IntoIterator<Item = crate::mllp::Destination>,
    ) -> Self {
        self.mllp_destinations.extend(destinations);
        self
    }

    /// Socket limits of the MLLP listeners (connection cap, idle and write timeouts).
    pub fn mllp_limits(mut self, limits: crate::mllp::MllpLimits) -> Self {
        self.mllp_limits = limits;
        self
    }

    /// Bind the listeners and start serving.
    pub async fn start(self) -> Result<RunningSimulator, StartError> {
        let profile = match self.profile {
            Some(p) => p,
            None => ProfileLoader::default().load(DEFAULT_PROFILE)?,
        };
        let mllps_addr = self.mllps.as_ref().map(|m| m.0);
        for addr in [Some(self.http_addr), self.mllp_addr, mllps_addr]
            .into_iter()
            .flatten()
        {
            if !self.allow_remote && !addr.ip().is_loopback() {
                return Err(StartError::RemoteRefused(addr));
            }
        }
        let journal = match &self.journal_file {
            Some(path) => Journal::with_file(self.journal_capacity, path).map_err(|source| {
                StartError::Journal {
                    path: path.clone(),
                    source,
                }
            })?,
            None => Journal::new(self.journal_capacity),
        };
        let http = tokio::net::TcpListener::bind(self.http_addr)
            .await
            .map_err(|source| StartError::Bind {
                what: "HTTP",
                addr: self.http_addr,
                source,
            })?;
        let http_addr = http.local_addr().map_err(|source| StartError::Bind {
            what: "HTTP",
            addr: self.http_addr,
            source,
        })?;
        let mllp = match self.mllp_addr {
            Some(addr) => Some(bind_tcp("MLLP", addr).await?),
            None => None,
        };
        let mllps = match &self.mllps {
            Some((addr, settings)) => Some((
                bind_tcp("MLLPS", *addr).await?,
                crate::tls::server_config(settings)?,
            )),
            None => None,
        };
        let local = |l: &tokio::net::TcpListener| l.local_addr().ok();
        let urls = Urls {
            http_addr,
            http_base: format!("http://{http_addr}"),
            mllp_addr: mllp.as_ref().and_then(local),
            mllps_addr: mllps.as_ref().and_then(|m| local(&m.0)),
        };
        let clients = self.clients.with_demo_clients();
        let state = AppState::new(
            profile,
            self.practice,
            clients,
            journal,
            urls,
            self.control_token,
        );

        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        tasks.spawn(http::serve(
            http,
            router(state.clone()),
            state.clone(),
            self.http_limits,
            shutdown.clone(),
            tasks.clone(),
        ));
        if let Some(tcp) = mllp {
            crate::mllp::Listener::new(state.clone(), self.mllp_limits, None).spawn(
                tcp,
                &tasks,
                shutdown.clone(),
            );
        }
        let mllps_material = mllps.map(|(tcp, material)| {
            let acceptor = tokio_rustls::TlsAcceptor::from(material.server.clone());
            crate::mllp::Listener::new(state.clone(), self.mllp_limits, Some(acceptor)).spawn(
                tcp,
                &tasks,
                shutdown.clone(),
            );
            material
        });
        state
            .mllp
            .outbound
            .start(&state, self.mllp_destinations, &tasks, shutdown.clone());
        tasks.close();
        tracing::info!(addr = %http_addr, profile = %state.profile().name, "simulator started");
        Ok(RunningSimulator {
            state,
            shutdown,
            tasks,
            mllps_material,
        })
    }
}

async fn bind_tcp(
    what: &'static str,
    addr: SocketAddr,
) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { what, addr, source })
}

/// The whole HTTP surface: every surface's router with its journal layer.
pub fn router(state: AppState) -> Router {
    let control = with_journal(
        crate::control::router(state.clone()),
        &state,
        Surface::Control,
    );
    Router::new()
        .merge(control)
        .merge(crate::sinks::router(state.clone()))
        // Enterprise, SMART and FHIR paths come from the active profile, so
        // they are matched per request behind every fixed route: the
        // Enterprise API first, then Bulk interactions under the bulk base,
        // the rest to FHIR.
        //
        // A plain FHIR read or search (under the FHIR base, and neither a
        // SMART, Bulk nor Enterprise path) skips that chain of routers and
        // goes straight to the FHIR handler in the same journaling: each hop
        // costs a route lookup, a boxed future and moves of the request,
        // which was a large share of a read's CPU time.
        .fallback({
            let chain = crate::enterprise::surfaces(
                state.clone(),
                crate::bulk::surfaces(state.clone(), crate::fhir::surfaces(state.clone())),
            );
            move |req: axum::extract::Request| {
                let (state, chain) = (state.clone(), chain.clone());
                async move {
                    if crate::fhir::is_plain_fhir(&state, req.uri().path()) {
                        return crate::fhir::serve(&state, req).await;
                    }
                    match tower::ServiceExt::oneshot(chain, req).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    }
                }
            }
        })
        .with_state(())
}

/// Wrap a surface's router in the journaling middleware for that surface.
pub fn with_journal(r: Router, state: &AppState, surface: Surface) -> Router {
    r.layer(axum::middleware::from_fn_with_state(
        (state.clone(), surface),
        journal_layer::record,
    ))
}

pub(crate) async fn unmatched(
    uri: axum::http::Uri,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({ "message": format!("No route matches {}", uri.path()) })),
    )
}

/// A running simulator. Dropping it shuts the listeners down.
#[derive(Debug)]
pub struct RunningSimulator {
    state: AppState,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    mllps_material: Option<crate::tls::TlsMaterial>,
}

impl RunningSimulator {
    /// Shared state (profile, journal, faults, URLs).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The synthetic practice.
    pub fn practice(&self) -> &crate::practice::Practice {
        &self.state.practice
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.state.journal
    }

    /// HTTP listener address.
    pub fn http_addr(&self) -> SocketAddr {
        self.state.urls.http_addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.state.urls.http_base
    }

    /// Absolute FHIR base URL of the active profile.
    pub fn fhir_base_url(&self) -> String {
        self.state.urls.http(&self.state.profile().fhir.base_path)
    }

    /// Absolute Enterprise API base URL of the active profile.
    pub fn enterprise_base_url(&self) -> String {
        self.state
            .urls
            .http(&self.state.profile().enterprise.api_base)
    }

    /// MLLP listener address, when one runs.
    pub fn mllp_addr(&self) -> Option<SocketAddr> {
        self.state.urls.mllp_addr
    }

    /// MLLPS listener address, when one runs.
    pub fn mllps_addr(&self) -> Option<SocketAddr> {
        self.state.urls.mllps_addr
    }

    /// The MLLPS TLS material (the generated CA and client certificate a
    /// peer needs), when an MLLPS listener runs.
    pub fn mllps_tls(&self) -> Option<&crate::tls::TlsMaterial> {
        self.mllps_material.as_ref()
    }

    /// A token that is cancelled when the simulator stops.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stop accepting, let in-flight exchanges finish, and flush the journal.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tasks.wait().await;
        self.state.journal.flush();
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
