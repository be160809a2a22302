//! The route-use report, on a recorded journal (`fixtures/enterprise/sample-journal.jsonl`)
//! with a declared route list (`fixtures/enterprise/routes.txt`), and live.
//!
//! Re-record the journal with `NGSIM_RECORD_ENTERPRISE_JOURNAL=1 cargo test -p simulator
//! --test enterprise_report record_sample_journal`.

mod enterprise_support;

use enterprise_support::{Nge, SECRET};
use reqwest::Method;
use serde_json::json;
use simulator::clients::GsaClient;
use simulator::enterprise::routes::{RouteClass, RouteUseReport, parse_declared, read_journal};
use simulator::profile::ProfileLoader;

const JOURNAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/enterprise/sample-journal.jsonl"
);
const DECLARED: &str = include_str!("../../fixtures/enterprise/routes.txt");

async fn scenario(journal: Option<&str>) -> Nge {
    let mut reg = enterprise_support::registry();
    reg.gsa.push(GsaClient {
        client_id: "reporting-gsa".into(),
        client_secret: "reporting-secret".into(),
        site_id: enterprise_support::SITE.into(),
        name: None,
        part2_consent: false,
    });
    let mut b = simulator::Simulator::builder()
        .profile_named("nge-5.9.2")
        .unwrap()
        .clients(reg);
    if let Some(path) = journal {
        b = b.journal_file(path);
    }
    let n = Nge::wrap(b.start().await.unwrap());
    let (t, s) = n.login().await;
    let pid = n.person(4);
    let pr = n.practice();
    let _ = n
        .call(Method::GET, "/master/practices", Some((&t, None)), None)
        .await;
    let _ = n.get(&format!("/persons/{pid}"), &t, &s).await;
    let _ = n.get(&format!("/persons/{pid}"), &t, &s).await;
    let _ = n
        .get(&format!("/persons/{pid}/chart/allergies"), &t, &s)
        .await;
    let _ = n
        .get(&format!("/persons/{pid}/chart/lab/results"), &t, &s)
        .await;
    let _ = n
        .get(
            "/appointments?$filter=appointmentDate ge datetime'2026-07-01'",
            &t,
            &s,
        )
        .await;
    let _ = n
        .call(
            Method::GET,
            &format!("/persons/{pid}/chart/allergies"),
            Some((&t, None)),
            None,
        )
        .await;
    let body = json!({"PersonId": pid, "EventId": pr.events()[0].id, "LocationId": pr.locations()[0].id,
        "ResourceIds": [pr.practitioners()[0].id], "AppointmentDate": "2026-07-02T10:00:00"});
    let _ = n
        .call(
            Method::POST,
            "/appointments",
            Some((&t, Some(&s))),
            Some(body),
        )
        .await;
    let enc = json!({"EncounterDate": "2026-07-01", "LocationId": pr.locations()[0].id, "RenderingProviderId": pr.practitioners()[0].id});
    let _ = n
        .call(
            Method::POST,
            &format!("/persons/{pid}/chart/encounters"),
            Some((&t, Some(&s))),
            Some(enc),
        )
        .await;
    let _ = n.get("/no/such/route", &t, &s).await;
    // A second account that only reads master files.
    let r = n
        .http
        .post(format!("{}/token", n.oauth))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "reporting-gsa"),
            ("client_secret", "reporting-secret"),
            ("site_id", enterprise_support::SITE),
        ])
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    let t2 = v["access_token"].as_str().unwrap().to_owned();
    let s2 = n.session(&t2).await;
    let _ = n.get("/master/locations", &t2, &s2).await;
    let _ = SECRET;
    n
}

#[tokio::test]
async fn record_sample_journal() {
    if std::env::var_os("NGSIM_RECORD_ENTERPRISE_JOURNAL").is_none() {
        return;
    }
    let n = scenario(Some(JOURNAL)).await;
    n.sim.shutdown().await;
}

#[test]
fn report_on_the_recorded_journal() {
    let profile = ProfileLoader::default().load("nge-5.9.2").unwrap();
    let text = std::fs::read_to_string(JOURNAL).expect("recorded journal");
    let entries = read_journal(&text).expect("valid JSONL");
    let declared = parse_declared(DECLARED, &profile.enterprise.api_base).unwrap();
    let report = RouteUseReport::from_journal(&entries, Some(&declared), &profile);

    let acme = report
        .clients
        .iter()
        .find(|c| c.client_id == enterprise_support::CLIENT_ID)
        .unwrap();
    assert_eq!(
        acme.prohibited_used,
        ["POST /persons/{personId}/chart/encounters"]
    );
    assert!(
        acme.declared_unused
            .contains(&"GET /persons/{personId}/chart/medications".to_owned())
    );
    assert!(
        acme.undeclared_used
            .contains(&"GET /persons/{personId}/chart/lab/results".to_owned())
    );
    let person = acme
        .routes
        .iter()
        .find(|r| r.route == "GET /persons/{personId}")
        .unwrap();
    assert_eq!((person.count, person.class), (2, RouteClass::UscdiGet));
    let allergies = acme
        .routes
        .iter()
        .find(|r| r.route == "GET /persons/{personId}/chart/allergies")
        .unwrap();
    assert_eq!(allergies.without_session_header, 1);
    assert!(report.has_findings());

    insta::assert_json_snapshot!("report_json", report);
    insta::assert_snapshot!("report_markdown", report.to_markdown());
}

#[tokio::test]
async fn live_journal_report_without_declared_routes() {
    let n = scenario(None).await;
    let entries: Vec<_> = n
        .sim
        .journal()
        .snapshot()
        .iter()
        .map(|e| (**e).clone())
        .collect();
    let profile = n.sim.state().profile();
    let report = RouteUseReport::from_journal(&entries, None, &profile);
    assert!(!report.declared_given);
    assert_eq!(report.clients.len(), 2);
    assert!(report.clients.iter().all(|c| c.undeclared_used.is_empty()));
    assert_eq!(report.totals[&RouteClass::GsaProhibited], 1);
    // Round trip through JSON, as the CLI writes and reads it.
    let back: RouteUseReport = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(back, report);
}
