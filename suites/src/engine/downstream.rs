//! The SUT's side of a sync: before a scenario, register its clients with the
//! simulator and create its recipient sinks; afterwards, gather what the
//! part2, write-back-scopes and enterprise-pre-beta checks judge.

use std::sync::Arc;

use simulator::clients::{ClientKind, GsaClient};
use simulator::journal::{Entry, Surface};
use simulator::profile::Profile;
use simulator::sinks::Delivery;

use super::RunContext;

/// The registration ceiling given to a backend SUT. It is wide on purpose:
/// the simulator narrows a request to the registration, so a wide ceiling
/// makes the grant equal the request, and `scopes.least-privilege` can judge
/// what the SUT asked for against what its manifest declares.
pub const BACKEND_CEILING: &str = "system/*.cruds";

/// Evidence for the checks that judge the SUT's own requests and deliveries.
#[derive(Debug, Clone, Default)]
pub struct SyncEvidence {
    /// Journal entries recorded while the scenario ran.
    pub entries: Vec<Arc<Entry>>,
    /// What reached the recipient sinks while the scenario ran.
    pub deliveries: Vec<Arc<Delivery>>,
    /// The SUT's SMART client id, if it has one.
    pub smart_client: Option<String>,
    /// The scopes its manifest declares it needs.
    pub declared_scopes: Vec<String>,
    /// Its GSA client id, if it uses the Enterprise API.
    pub gsa_client: Option<String>,
    /// Its declared Enterprise route list (`None`: none declared).
    pub declared_routes: Option<Vec<String>>,
    /// The active profile when the scenario ended.
    pub profile: Option<Arc<Profile>>,
}

impl SyncEvidence {
    /// Entries made by the SUT (its SMART or GSA client).
    pub fn by_sut(&self) -> impl Iterator<Item = &Arc<Entry>> + '_ {
        self.entries.iter().filter(move |e| {
            let c = e.client_id();
            c.is_some() && (c == self.smart_client.as_deref() || c == self.gsa_client.as_deref())
        })
    }

    /// The SUT's entries on one surface.
    pub fn sut_on(&self, surface: Surface) -> impl Iterator<Item = &Arc<Entry>> + '_ {
        self.by_sut().filter(move |e| e.surface == surface)
    }
}

/// Register the SUT's clients and create its sinks.
pub(crate) async fn prepare(ctx: &RunContext) -> Result<(), String> {
    let m = &ctx.manifest;
    let smart = m.smart.as_ref().map(|smart| {
        let mut reg = smart.clone();
        if reg.kind == ClientKind::Backend {
            reg.scopes = vec![BACKEND_CEILING.to_owned()];
        }
        reg
    });
    let gsa = m.enterprise.as_ref().and_then(|e| {
        let (id, secret) = (e.gsa_client_id.as_ref()?, e.gsa_client_secret.as_ref()?);
        Some(GsaClient {
            client_id: id.clone(),
            client_secret: secret.clone(),
            site_id: e
                .site_id
                .clone()
                .unwrap_or_else(|| simulator::clients::DEFAULT_SITE_ID.to_owned()),
            name: Some(m.name.clone()),
            part2_consent: false,
        })
    });
    ctx.sim.register(smart, gsa).await?;
    for spec in &m.downstream {
        ctx.sim
            .create_sink(spec)
            .await
            .map_err(|e| format!("downstream `{}`: {e}", spec.name))?;
    }
    Ok(())
}

/// The declared Enterprise routes: the inline list, else the `routes` file.
fn declared_routes(ctx: &RunContext, api_base: &str) -> Result<Option<Vec<String>>, String> {
    let Some(e) = &ctx.manifest.enterprise else {
        return Ok(None);
    };
    let text = if !e.route_list.is_empty() {
        e.route_list.join("\n")
    } else if let Some(path) = &e.routes {
        let path = ctx.manifest.base_dir.join(path);
        std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?
    } else {
        return Ok(None);
    };
    simulator::enterprise::routes::parse_declared(&text, api_base)
        .map(Some)
        .map_err(|err| format!("declared Enterprise routes: {err}"))
}

/// Gather the evidence recorded since `first_seq`.
pub(super) async fn gather(
    ctx: &RunContext,
    first_seq: u64,
    entries: Vec<Arc<Entry>>,
) -> Result<SyncEvidence, String> {
    let profile = ctx.sim.profile().await?;
    Ok(SyncEvidence {
        entries,
        deliveries: ctx.sim.deliveries(first_seq).await?,
        smart_client: ctx.manifest.smart.as_ref().map(|s| s.id.clone()),
        declared_scopes: ctx
            .manifest
            .smart
            .as_ref()
            .map(|s| s.scopes.clone())
            .unwrap_or_default(),
        gsa_client: ctx
            .manifest
            .enterprise
            .as_ref()
            .and_then(|e| e.gsa_client_id.clone()),
        declared_routes: declared_routes(ctx, &profile.enterprise.api_base)?,
        profile: Some(profile),
    })
}
