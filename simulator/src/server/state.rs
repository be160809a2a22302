//! Shared simulator state handed to every surface's router.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::clients::ClientRegistry;
use crate::events::Events;
use crate::faults::Faults;
use crate::journal::Journal;
use crate::practice::{Practice, PracticeConfig};
use crate::profile::Profile;

/// Absolute URLs of the running simulator (known once the listeners are bound).
#[derive(Debug, Clone)]
pub struct Urls {
    /// HTTP listener address.
    pub http_addr: SocketAddr,
    /// `http://host:port`, no trailing slash.
    pub http_base: String,
    /// MLLP listener address, when one is running.
    pub mllp_addr: Option<SocketAddr>,
    /// MLLPS (TLS) listener address, when one is running.
    pub mllps_addr: Option<SocketAddr>,
}

impl Urls {
    /// An absolute URL for `path` on the HTTP listener.
    pub fn http(&self, path: &str) -> String {
        format!("{}{}", self.http_base, path)
    }
}

/// Everything the surfaces share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

/// The shared state behind [`AppState`].
#[derive(Debug)]
pub struct StateInner {
    profile: RwLock<Arc<Profile>>,
    clients: RwLock<Arc<ClientRegistry>>,
    /// The journal.
    pub journal: Journal,
    /// The synthetic practice every surface renders.
    pub practice: Practice,
    /// Active faults.
    pub faults: Faults,
    /// Practice-change events.
    pub events: Events,
    /// MLLP peer state: duplicate memory, outbound queues.
    pub mllp: crate::mllp::MllpState,
    /// Listener URLs.
    pub urls: Urls,
    /// When set, the control API also answers non-loopback peers presenting it.
    pub control_token: Option<String>,
    /// SMART authorization server: token table, codes, keys.
    pub auth: crate::auth::AuthState,
    /// Bulk Data export jobs.
    pub bulk: crate::bulk::BulkState,
    /// Enterprise API state (tokens, Enterprise-only chart writes).
    pub enterprise: crate::enterprise::EnterpriseState,
    /// Recipient sinks standing in for the SUT's downstream systems.
    pub sinks: crate::sinks::Sinks,
}

impl AppState {
    pub(crate) fn new(
        profile: Profile,
        practice: PracticeConfig,
        clients: ClientRegistry,
        journal: Journal,
        urls: Urls,
        control_token: Option<String>,
    ) -> AppState {
        let faults = Faults::new(profile.faults.clone());
        let practice = Practice::new(practice);
        let auth = crate::auth::AuthState::with_practice(practice.clone());
        let clients = auth.add_demo_clients(clients);
        AppState {
            inner: Arc::new(StateInner {
                profile: RwLock::new(Arc::new(profile)),
                clients: RwLock::new(Arc::new(clients)),
                journal,
                practice,
                faults,
                events: Events::default(),
                mllp: crate::mllp::MllpState::default(),
                urls,
                control_token,
                auth,
                bulk: crate::bulk::BulkState::default(),
                enterprise: crate::enterprise::EnterpriseState::default(),
                sinks: crate::sinks::Sinks::default(),
            }),
        }
    }

    /// A state for unit tests of single routers: default profile, no listener.
    #[cfg(test)]
    pub(crate) fn for_tests(control_token: Option<String>) -> AppState {
        let profile = crate::profile::ProfileLoader::default()
            .load(crate::server::DEFAULT_PROFILE)
            .expect("built-in profile");
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], 9).into();
        let urls = Urls {
            http_addr: addr,
            http_base: format!("http://{addr}"),
            mllp_addr: None,
            mllps_addr: None,
        };
        AppState::new(
            profile,
            PracticeConfig {
                patients: 50,
                ..PracticeConfig::default()
            },
            ClientRegistry::default(),
            Journal::new(1000),
            urls,
            control_token,
        )
    }

    /// The active profile. Handlers take it once per request, so a runtime swap
    /// never shows a request two different profiles.
    pub fn profile(&self) -> Arc<Profile> {
        self.inner.profile.read().clone()
    }

    /// The client registry.
    pub fn clients(&self) -> Arc<ClientRegistry> {
        self.inner.clients.read().clone()
    }

    /// Change the client registry (e.g. the runner registering a SUT).
    pub fn update_clients(&self, f: impl FnOnce(&mut ClientRegistry)) {
        let mut guard = self.inner.clients.write();
        let mut reg = (**guard).clone();
        f(&mut reg);
        *guard = Arc::new(reg);
    }

    /// Swap the active profile atomically; the fault set is re-armed from it.
    pub fn set_profile(&self, profile: Profile) {
        self.inner.faults.replace(profile.faults.clone());
        *self.inner.profile.write() = Arc::new(profile);
    }
}

impl Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.inner
    }
}
