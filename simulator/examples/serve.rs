//! A simulator for load scripts (`.ci/perf/wrk-fhir`): starts with a profile
//! (first argument, default `nge-5.9.2`), prints its URLs, a Patient id, a
//! backend access token and the demo backend key, then waits for Ctrl-C.
//!
//! Output lines are `KEY=value` so scripts can `grep`/`cut` them.

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let profile = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "nge-5.9.2".into());
    let sim = simulator::Simulator::builder()
        .profile_named(&profile)?
        .start()
        .await?;
    let state = sim.state();
    let token = simulator::auth::mint_backend_token(state, "system/*.rs")?;
    let patient = sim
        .practice()
        .patient(simulator::practice::PatientIndex(0))
        .map(|p| p.id.to_string())
        .unwrap_or_default();
    println!("PROFILE={profile}");
    println!("BASE_URL={}", sim.base_url());
    println!("FHIR_BASE={}", sim.fhir_base_url());
    println!("PATIENT={patient}");
    println!("TOKEN={token}");
    let pem = state.auth.demo_backend_key_pem().replace('\n', "\\n");
    println!("DEMO_BACKEND_KEY_PEM={pem}");
    println!("READY=1");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
