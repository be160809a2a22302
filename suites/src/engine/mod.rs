//! The scenario engine: run a scenario's steps against the SUT, gather the
//! evidence, judge the checks, and draw the timeline from the journal.

pub(crate) mod downstream;
mod emit;
mod evidence;
pub mod hooks;
mod settle;
mod sim;

use std::time::Duration;

use reports::{ScenarioResult, TimelineEvent, Verdict as TimelineVerdict};
use simulator::journal::{Detail, Entry, Surface};
use simulator::profile::Profile;

pub use downstream::{BACKEND_CEILING, SyncEvidence};
pub use emit::EmitTarget;
pub use evidence::{AckExchange, Evidence, ReceivedAck};
pub use sim::{RemoteSim, Sim};

use crate::checks;
use crate::manifest::SutManifest;
use crate::scenario::{Scenario, Step};

/// What a scenario runs against.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The simulator: embedded, or a running one driven over HTTP.
    pub sim: Sim,
    /// The system under test.
    pub manifest: SutManifest,
    /// Seed for generated content.
    pub seed: u64,
}

/// Told before each step runs: the step's index (from 0), the number of
/// steps, and the step's action name.
pub type OnStep<'a> = &'a (dyn Fn(usize, usize, &str) + Sync);

/// Run one scenario and judge its checks.
pub async fn run_scenario(scenario: &Scenario, ctx: &RunContext) -> ScenarioResult {
    run_scenario_with(scenario, ctx, &|_, _, _| {}).await
}

/// As [`run_scenario`], reporting each step as it starts (live progress).
pub async fn run_scenario_with(
    scenario: &Scenario,
    ctx: &RunContext,
    on_step: OnStep<'_>,
) -> ScenarioResult {
    let mut ev = Evidence::default();
    let (first_seq, original_profile) = match start(ctx).await {
        Ok(x) => x,
        Err(e) => {
            ev.errors.push(e);
            (u64::MAX, None)
        }
    };
    if let Some(p) = &original_profile {
        ev.bulk_retry_after_secs = p.bulk.retry_after_secs;
    }
    let mut next_id = 0u64;
    if ev.errors.is_empty() {
        if let Err(e) = downstream::prepare(ctx).await {
            ev.errors.push(e);
        }
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        if !ev.errors.is_empty() {
            break;
        }
        on_step(i, scenario.steps.len(), step_name(step));
        if let Err(e) = run_step(i, step, ctx, &mut ev, &mut next_id).await {
            ev.errors
                .push(format!("step {} ({}): {e}", i + 1, step_name(step)));
            break;
        }
    }
    if ev.errors.is_empty() {
        if let Some(hook) = ctx.manifest.hooks.get("processed") {
            match hooks::call("processed", hook, &ctx.manifest.base_dir).await {
                Ok(body) => match hooks::parse_processed(&body) {
                    Ok(list) => ev.processed = Some(list),
                    Err(e) => ev.errors.push(e),
                },
                Err(e) => ev.errors.push(e),
            }
        }
    }
    if let Some(original) = original_profile.as_ref().filter(|_| {
        scenario
            .steps
            .iter()
            .any(|s| matches!(s, Step::MoveSmartEndpoints { .. }))
    }) {
        // Faults were cleared by the move; the profile's own come back with it.
        if let Err(e) = ctx.sim.set_profile(original).await {
            ev.errors.push(format!("restoring the profile: {e}"));
        }
    }
    if original_profile.is_some() {
        settle::delayed_acks(scenario, ctx, first_seq).await;
        match ctx.sim.entries(first_seq).await {
            Ok(entries) => {
                ev.journal = entries.iter().take(100_000).cloned().collect();
                match downstream::gather(ctx, first_seq, entries).await {
                    Ok(sync) => ev.sync = sync,
                    Err(e) => ev.errors.push(e),
                }
            }
            Err(e) => ev.errors.push(e),
        }
    }
    let profile = original_profile
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut result = ScenarioResult::new(&scenario.id, &scenario.title, profile);
    for id in &scenario.checks {
        result.checks.push(checks::evaluate(checks::def(id), &ev));
    }
    let shown = &ev.journal[..ev.journal.len().min(5000)];
    result.timeline = timeline(shown, &result);
    result
}

/// Where the scenario's journal starts, and the profile it starts on.
async fn start(ctx: &RunContext) -> Result<(u64, Option<std::sync::Arc<Profile>>), String> {
    Ok((ctx.sim.next_seq().await?, Some(ctx.sim.profile().await?)))
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::EmitHl7 { .. } => "emit-hl7",
        Step::Hook { .. } => "hook",
        Step::Fault { .. } => "fault",
        Step::ClearFaults => "clear-faults",
        Step::Wait { .. } => "wait",
        Step::Consent { .. } => "consent",
        Step::ListenerFault { .. } => "listener-fault",
        Step::MoveSmartEndpoints { .. } => "move-smart-endpoints",
    }
}

async fn run_step(
    i: usize,
    step: &Step,
    ctx: &RunContext,
    ev: &mut Evidence,
    next_id: &mut u64,
) -> Result<(), String> {
    match step {
        Step::EmitHl7 {
            message,
            count,
            variant,
        } => {
            let mllp = ctx.manifest.mllp.as_ref().ok_or(
                "this step sends HL7 to the SUT, but the SUT manifest has no [mllp] listen address",
            )?;
            let target = EmitTarget {
                addr: mllp.listen,
                ack_timeout: mllp.ack_timeout,
                sim: ctx.sim.clone(),
                seed: ctx.seed,
            };
            let exchanges = emit::emit(&target, i, message, *count, *variant, next_id).await;
            if let Some(err) = exchanges.iter().find_map(|x| x.transport_error.clone()) {
                if exchanges.iter().all(|x| x.acks.is_empty()) {
                    return Err(err);
                }
            }
            ev.acks.extend(exchanges);
            Ok(())
        }
        Step::Hook { name } => {
            let hook = ctx
                .manifest
                .hooks
                .get(name)
                .ok_or_else(|| format!("the SUT manifest has no hook `{name}`"))?;
            let sim = ctx.sim.http_base();
            hooks::call_for(name, hook, &ctx.manifest.base_dir, Some(&sim))
                .await
                .map(|_| ())
        }
        Step::Fault { rule } => {
            ctx.sim.add_fault(rule).await?;
            ev.faults.push(rule.clone());
            Ok(())
        }
        Step::ListenerFault {
            fault,
            message,
            times,
        } => {
            let sender = ctx.manifest.mllp_sender.as_ref().ok_or(
                "this step makes the simulator's MLLP listener misbehave towards the SUT, but the SUT manifest has no [mllp-sender]",
            )?;
            ctx.sim
                .add_fault(&fault.rule(message, *times, sender.ack_timeout))
                .await
        }
        Step::MoveSmartEndpoints { prefix } => {
            let mut p = (*ctx.sim.profile().await?).clone();
            let prefix = prefix.trim_end_matches('/');
            p.smart.authorize_path = format!("{prefix}/authorize");
            p.smart.token_path = format!("{prefix}/token");
            // Keep the faults the scenario set so far (set_profile resets them).
            let faults = ctx.sim.faults().await?;
            ctx.sim.set_profile(&p).await?;
            ctx.sim.replace_faults(faults).await
        }
        Step::ClearFaults => ctx.sim.replace_faults(Vec::new()).await,
        Step::Consent {
            state,
            patients,
            all,
        } => set_consent(ctx, state.as_str(), patients, *all).await,
        Step::Wait {
            surface,
            route_contains,
            timeout,
        } => {
            let s =
                Surface::parse(surface).ok_or_else(|| format!("unknown surface `{surface}`"))?;
            let since = ctx.sim.next_seq().await?;
            let hit = ctx
                .sim
                .wait_for(since, s, *timeout, |e| {
                    route_contains.as_deref().is_none_or(|r| {
                        e.http()
                            .is_some_and(|h| h.route.contains(r) || h.path.contains(r))
                    })
                })
                .await?;
            hit.map(|_| ())
                .ok_or_else(|| format!("no `{surface}` exchange within {}", fmt_duration(*timeout)))
        }
    }
}

/// Grant or revoke Part 2 consent through the simulator's control API.
async fn set_consent(
    ctx: &RunContext,
    state: &str,
    patients: &[String],
    all: bool,
) -> Result<(), String> {
    let body = if all {
        serde_json::json!({ "state": state, "all": true })
    } else {
        serde_json::json!({ "state": state, "patients": patients })
    };
    ctx.sim.consent(&body).await
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn timeline(entries: &[std::sync::Arc<Entry>], result: &ScenarioResult) -> Vec<TimelineEvent> {
    let origin = entries.first().map_or(0, |e| e.t_us);
    entries
        .iter()
        .map(|e| {
            let check_ids: Vec<String> = result
                .checks
                .iter()
                .filter(|c| c.evidence.iter().any(|ev| ev.journal_seq == Some(e.seq)))
                .map(|c| c.id.clone())
                .collect();
            let verdict = if check_ids.is_empty() {
                None
            } else {
                Some(TimelineVerdict::Fail)
            };
            TimelineEvent {
                seq: e.seq,
                at_ms: (e.t_us - origin) / 1000,
                surface: surface_of(e.surface),
                summary: summary(e),
                check_ids,
                verdict,
            }
        })
        .collect()
}

fn surface_of(s: Surface) -> reports::Surface {
    match s {
        Surface::Fhir => reports::Surface::Fhir,
        Surface::Oauth => reports::Surface::Oauth,
        Surface::Enterprise => reports::Surface::Enterprise,
        Surface::Bulk => reports::Surface::Bulk,
        Surface::MllpIn => reports::Surface::MllpIn,
        Surface::MllpOut => reports::Surface::MllpOut,
        Surface::Sink => reports::Surface::Sink,
        Surface::Control => reports::Surface::Control,
    }
}

fn summary(e: &Entry) -> String {
    match &e.detail {
        Detail::Http(h) => format!("{} {} → {}", h.method, h.route, h.status),
        Detail::Mllp(m) => format!(
            "{} {} → {} (MSA-2 {})",
            m.msh9.as_deref().unwrap_or("?"),
            m.msh10.as_deref().unwrap_or("?"),
            m.ack_code.as_deref().unwrap_or(&m.outcome),
            m.ack_control_id.as_deref().unwrap_or("-")
        ),
        Detail::Event { name, .. } => name.clone(),
    }
}
