//! Authenticated FHIR reads through the whole router in-process (tower
//! `oneshot`): `GET Patient/{id}` and `Observation?patient=&category=`.
//! Each request passes the journal layer, the bearer lookup, scopes, Part 2
//! checks and the render cache, as it would over the wire. The dated search
//! is the same search with a `date` criterion, which the chart's search memo
//! never keeps, so it measures the scan a first-time search pays.

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use criterion::Criterion;
use tower::ServiceExt;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let sim = rt.block_on(async {
        simulator::Simulator::builder()
            .start()
            .await
            .expect("simulator starts")
    });
    let token = simulator::auth::mint_backend_token(sim.state(), "system/*.rs").unwrap();
    let patient = sim
        .practice()
        .patient(simulator::practice::PatientIndex(0))
        .unwrap()
        .id
        .to_string();
    let state = sim.state().clone();
    let base = state.profile().fhir.base_path.clone();
    let router = simulator::server::router(state);
    let auth = format!("Bearer {token}");
    let get = |path: String| {
        let router = router.clone();
        let auth = auth.clone();
        rt.block_on(async move {
            let req = Request::get(path)
                .header("authorization", auth)
                .body(Body::empty())
                .unwrap();
            let resp = router.oneshot(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap()
        })
    };
    let read = format!("{base}/Patient/{patient}");
    let search = format!(
        "{base}/Observation?patient={patient}&category=http://terminology.hl7.org/CodeSystem/observation-category%7Cvital-signs"
    );
    // A date criterion is judged against the clock, so this search is never
    // memoised: it shows the cost of scanning a chart, not of the memo.
    let search_dated = format!("{search}&date=ge2000-01-01");
    // Warm the render cache once, as a running server would be.
    get(read.clone());
    get(search.clone());
    get(search_dated.clone());

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("fhir_read_patient", |b| {
        b.iter(|| black_box(get(read.clone())))
    });
    c.bench_function("fhir_search_observation_patient_category", |b| {
        b.iter(|| black_box(get(search.clone())))
    });
    c.bench_function("fhir_search_observation_patient_category_date", |b| {
        b.iter(|| black_box(get(search_dated.clone())))
    });
    c.final_summary();
    drop(sim);
}
