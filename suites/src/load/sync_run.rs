//! `ngsim load --sut sut.toml --sync-hook NAME`: a scripted clinic day on an
//! embedded simulator, then the SUT's sync hook, timed to completion and
//! judged from the journal ([`super::sync`]).

use std::time::Instant;

use simulator::Simulator;
use simulator::profile::Profile;

use super::error::{Result, infra, invalid};
use super::sync::{self, SyncFigures};
use crate::engine::{RunContext, downstream, hooks};
use crate::manifest::SutManifest;

/// What one measured sync did.
#[derive(Debug, Clone)]
pub struct SyncRun {
    /// The SUT's requests, with `wall_time_ms` the hook's time to complete.
    pub figures: SyncFigures,
    /// Practice changes the clinic day published before the sync.
    pub clinic_changes: usize,
    /// The client ids whose requests were counted.
    pub clients: Vec<String>,
}

/// Starts a simulator, registers the SUT's clients and sinks, publishes a
/// clinic day of `clinic_day` new patients, calls the hook, and analyses the
/// SUT's requests made while it ran.
pub async fn run(
    manifest: &SutManifest,
    profile: Profile,
    seed: u64,
    clinic_day: u32,
    hook_name: &str,
) -> Result<SyncRun> {
    let hook = manifest.hooks.get(hook_name).ok_or_else(|| {
        invalid(format!(
            "the SUT manifest has no hook `{hook_name}` (it has: {})",
            manifest
                .hooks
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let mut clients: Vec<String> = Vec::new();
    clients.extend(manifest.smart.as_ref().map(|s| s.id.clone()));
    clients.extend(
        manifest
            .enterprise
            .as_ref()
            .and_then(|e| e.gsa_client_id.clone()),
    );
    if clients.is_empty() {
        return Err(invalid(
            "the SUT manifest names no client ([smart] id or [enterprise] gsa-client-id) to judge",
        ));
    }
    let sim = Simulator::builder()
        .profile(profile)
        .seed(seed)
        .start()
        .await
        .map_err(|e| infra(format!("cannot start the simulator: {e}")))?;
    let ctx = RunContext {
        sim: sim.state().clone().into(),
        manifest: manifest.clone(),
        seed,
    };
    downstream::prepare(&ctx).await.map_err(invalid)?;
    let changes = simulator::mllp::script::clinic_day(sim.state(), clinic_day);
    let first_seq = sim.state().journal.stats().next_seq;
    let started = Instant::now();
    let called = hooks::call_for(
        hook_name,
        hook,
        &manifest.base_dir,
        Some(sim.state().urls.http_base.as_str()),
    )
    .await;
    let hook_ms = started.elapsed().as_secs_f64() * 1000.0;
    let entries = sim.state().journal.entries(first_seq, usize::MAX, |_| true);
    sim.shutdown().await;
    called.map_err(infra)?;
    let ids: Vec<&str> = clients.iter().map(String::as_str).collect();
    let mut figures = sync::analyse_clients(entries.iter().map(|e| &**e), &ids);
    figures.wall_time_ms = hook_ms;
    figures.request_rate = if hook_ms > 0.0 {
        figures.requests as f64 / (hook_ms / 1000.0)
    } else {
        0.0
    };
    Ok(SyncRun {
        figures,
        clinic_changes: changes.len(),
        clients,
    })
}
