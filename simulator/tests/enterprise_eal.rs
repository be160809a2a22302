//! EAL user tokens (5.9.2) versus GSA, the GSA-prohibited routes, and the
//! absence of EAL on 5.9.0.

mod enterprise_support;

use enterprise_support::{CLIENT_ID, Nge};
use reqwest::Method;
use serde_json::{Value, json};

const REDIRECT: &str = enterprise_support::EAL_REDIRECT;

fn encounter_body(n: &Nge) -> Value {
    let p = n.practice();
    let loc = &p.locations()[0];
    let prov = p
        .practitioners()
        .iter()
        .find(|d| d.location_id == loc.id)
        .unwrap_or(&p.practitioners()[0]);
    json!({"EncounterDate": "2026-07-01T09:00:00", "LocationId": loc.id, "RenderingProviderId": prov.id})
}

#[tokio::test]
async fn eal_token_carries_practice_context_and_unlocks_prohibited_routes() {
    let n = Nge::start().await;
    let pid = n.person(1);
    let (gsa, session) = n.login().await;

    // GSA: prohibited routes are refused with 403 and an empty body, even with a session.
    let r = n
        .call(
            Method::POST,
            &format!("/persons/{pid}/chart/encounters"),
            Some((&gsa, Some(&session))),
            Some(encounter_body(&n)),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.text().await.unwrap(), "");
    let r = n
        .call(
            Method::POST,
            &format!("/persons/{pid}/chart/problems"),
            Some((&gsa, Some(&session))),
            Some(json!({"Icd10Code": "E11.9", "Description": "Type 2 diabetes"})),
        )
        .await;
    assert_eq!(r.status(), 403);

    // EAL: no x-ng-sessionid needed, and the prohibited writes are allowed.
    let eal = n.eal_token().await;
    let r = n
        .call(
            Method::GET,
            &format!("/persons/{pid}"),
            Some((&eal, None)),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = n
        .call(
            Method::POST,
            &format!("/persons/{pid}/chart/encounters"),
            Some((&eal, None)),
            Some(encounter_body(&n)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let created: Value = r.json().await.unwrap();
    let eid = created["id"].as_str().unwrap().to_owned();
    // The encounter is in the practice overlay, where FHIR reads it.
    let i = n.practice().find_patient_by_id(&pid).unwrap();
    assert!(
        n.practice()
            .chart(i)
            .unwrap()
            .encounters
            .iter()
            .any(|e| e.id == eid.as_str())
    );
    let list: Value = n
        .call(
            Method::GET,
            &format!("/persons/{pid}/chart/encounters?$filter=id eq guid'{eid}'"),
            Some((&eal, None)),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let r = n
        .call(
            Method::GET,
            &format!("/persons/{pid}/chart/encounters/{eid}"),
            Some((&eal, None)),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);

    // The journal tells the two kinds of token apart.
    let auths: Vec<String> = n
        .sim
        .journal()
        .snapshot()
        .iter()
        .filter_map(|e| e.http())
        .filter(|h| h.method == "POST" && h.route.ends_with("/chart/encounters"))
        .map(|h| {
            h.notes
                .iter()
                .find(|x| x.k == "auth")
                .map(|x| x.v.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(auths, ["gsa", "eal"]);
}

#[tokio::test]
async fn no_eal_on_5_9_0() {
    let n = Nge::start_profile("nge-5.9.0").await;
    let r = n
        .http
        .get(format!(
            "{}/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT}",
            n.oauth
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = n.eal_exchange("anything").await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "unsupported_grant_type");
    // GSA still works, with the 5.9.0 api-version.
    let (t, s) = n.login().await;
    let r = n.get("/core/version", &t, &s).await;
    assert_eq!(r.headers()["api-version"], "6.0.0.767");
}

#[tokio::test]
async fn office_profile_serves_no_enterprise_api() {
    let n = Nge::start_profile("nge-office").await;
    let r = n
        .http
        .post(format!("{}/token", n.oauth))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = n
        .http
        .get(format!("{}/core/version", n.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
