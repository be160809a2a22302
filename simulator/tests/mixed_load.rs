//! Mixed-surface load: FHIR reads and searches, Enterprise calls and MLLP
//! traffic at once against one simulator, with faults injected on each
//! surface. Every error seen must be an injected one (and exactly as many as
//! the fault rules fire), nothing may deadlock (one overall timeout), and the
//! in-memory journal stays within its capacity while it evicts.
//!
//! The load is bounded by count, not time: `WORKERS` tasks per surface, each
//! doing `ROUNDS` exchanges (a few seconds in a debug build).

#[path = "mllp_support.rs"]
mod mllp;
#[path = "enterprise_support/mod.rs"]
mod nge;

use std::sync::Arc;
use std::time::Duration;

use simulator::faults::{FaultKind, FaultRule};
use simulator::journal::Surface;
use simulator::practice::PatientIndex;
use tokio::io::AsyncWriteExt;

const WORKERS: usize = 4;
const ROUNDS: usize = 40;
const JOURNAL_CAPACITY: usize = 300;
const FHIR_EVERY: u32 = 5;
const ENTERPRISE_EVERY: u32 = 4;
const MLLP_EVERY: u32 = 6;

fn rule(surface: Surface, matching: &str, kind: FaultKind, every: u32) -> FaultRule {
    FaultRule {
        name: Some(format!("injected-{surface}")),
        surface,
        matching: Some(matching.into()),
        kind,
        after: 0,
        every,
        times: None,
    }
}

/// Injected faults fire on the 1st, (every+1)th, … matching exchange.
fn fires(matching: usize, every: u32) -> usize {
    matching.div_ceil(every as usize)
}

#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    injected: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fhir_enterprise_and_mllp_under_load_with_faults() {
    let sim = simulator::Simulator::builder()
        .profile_named("nge-5.9.2")
        .unwrap()
        .clients(nge::registry())
        .patients(30)
        .journal_capacity(JOURNAL_CAPACITY)
        .mllp_addr(mllp::LOOPBACK.parse().unwrap())
        .start()
        .await
        .unwrap();
    let state = sim.state().clone();
    for r in [
        rule(
            Surface::Fhir,
            "Observation",
            FaultKind::Status {
                status: 503,
                transient: true,
            },
            FHIR_EVERY,
        ),
        rule(
            Surface::Enterprise,
            "persons",
            FaultKind::Status {
                status: 502,
                transient: false,
            },
            ENTERPRISE_EVERY,
        ),
        rule(
            Surface::MllpIn,
            "ORU^R01",
            FaultKind::Nak { code: "AE".into() },
            MLLP_EVERY,
        ),
    ] {
        state.faults.add(r);
    }
    let n = Arc::new(nge::Nge::wrap(sim));
    let fhir_token = simulator::auth::mint_backend_token(n.sim.state(), "system/*.rs").unwrap();
    let (gsa_token, session) = n.login().await;
    let ids: Arc<Vec<(String, String, String)>> = Arc::new(
        (0..30)
            .map(|i| {
                let p = n.practice().patient(PatientIndex(i)).unwrap();
                (p.id.to_string(), p.mrn.clone(), n.person(i))
            })
            .collect(),
    );

    let mut fhir = Vec::new();
    let mut enterprise = Vec::new();
    let mut hl7 = Vec::new();
    for w in 0..WORKERS {
        let (n2, ids2, tok) = (n.clone(), ids.clone(), fhir_token.clone());
        fhir.push(tokio::spawn(async move {
            let base = n2.sim.fhir_base_url();
            let mut t = Tally::default();
            for r in 0..ROUNDS {
                let (id, _, _) = &ids2[(w * ROUNDS + r) % ids2.len()];
                let read = n2
                    .http
                    .get(format!("{base}/Patient/{id}"))
                    .bearer_auth(&tok)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(read.status(), 200, "FHIR read");
                let search = n2
                    .http
                    .get(format!("{base}/Observation?patient={id}"))
                    .bearer_auth(&tok)
                    .send()
                    .await
                    .unwrap();
                match search.status().as_u16() {
                    200 => t.ok += 1,
                    503 => t.injected += 1,
                    s => panic!("FHIR search answered {s}"),
                }
            }
            t
        }));
        let (n2, ids2, tok, ses) = (n.clone(), ids.clone(), gsa_token.clone(), session.clone());
        enterprise.push(tokio::spawn(async move {
            let mut t = Tally::default();
            for r in 0..ROUNDS {
                let (_, _, person) = &ids2[(w + r * WORKERS) % ids2.len()];
                let resp = n2.get(&format!("/persons/{person}"), &tok, &ses).await;
                match resp.status().as_u16() {
                    200 => t.ok += 1,
                    502 => t.injected += 1,
                    s => panic!(
                        "Enterprise persons answered {s}: {}",
                        resp.text().await.unwrap_or_default()
                    ),
                }
            }
            t
        }));
        let (n2, ids2) = (n.clone(), ids.clone());
        hl7.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(n2.sim.mllp_addr().unwrap())
                .await
                .unwrap();
            let mut t = Tally::default();
            for r in 0..ROUNDS {
                let (_, mrn, _) = &ids2[(w * 7 + r) % ids2.len()];
                let id = format!("MIX{w}-{r}");
                let acks = mllp::exchange(&mut s, &mllp::oru(mrn, &id), 1).await;
                let (code, msa2, err) = mllp::msa(&acks[0]);
                assert_eq!(msa2, id);
                match code.as_str() {
                    "AA" => t.ok += 1,
                    "AE" if err == "207" => t.injected += 1,
                    other => panic!("MLLP {id} answered {other} {err}"),
                }
            }
            s.shutdown().await.unwrap();
            t
        }));
    }
    let all = async {
        let mut sums = [(0, 0), (0, 0), (0, 0)];
        for (k, set) in [fhir, enterprise, hl7].into_iter().enumerate() {
            for h in set {
                let t = h.await.unwrap();
                sums[k].0 += t.ok;
                sums[k].1 += t.injected;
            }
        }
        sums
    };
    let sums = tokio::time::timeout(Duration::from_secs(300), all)
        .await
        .expect("no deadlock");
    let total = WORKERS * ROUNDS;
    for ((name, (ok, injected)), every) in ["fhir", "enterprise", "mllp"]
        .into_iter()
        .zip(sums)
        .zip([FHIR_EVERY, ENTERPRISE_EVERY, MLLP_EVERY])
    {
        assert_eq!(ok + injected, total, "{name}");
        assert_eq!(
            injected,
            fires(total, every),
            "{name}: errors beyond the injected ones"
        );
    }
    let js = n.sim.journal().stats();
    assert!(
        js.evicted > 0,
        "the load is larger than the journal's capacity"
    );
    assert!(
        js.next_seq - js.first_seq <= JOURNAL_CAPACITY as u64,
        "journal within its bound: {js:?}"
    );
    assert_eq!(n.sim.journal().snapshot().len(), JOURNAL_CAPACITY);
}
