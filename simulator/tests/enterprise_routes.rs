//! Read routes on the shared practice: persons (lookup, OData listing, read,
//! `$expand`), appointments (default window, `$filter`, paging and the leaked
//! `nextPageLink`), chart routes and master files.

mod enterprise_support;

use enterprise_support::{Nge, settings};
use serde_json::Value;
use simulator::practice::PatientIndex;

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("items")
}

#[tokio::test]
async fn person_is_the_practice_patient() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let p = n.practice().patient(PatientIndex(3)).unwrap();
    let v = n.get_json(&format!("/persons/{}", p.id), &t, &s).await;
    assert_eq!(v["id"], p.id.as_str());
    assert_eq!(v["lastName"], p.name.family.as_str());
    assert_eq!(v["personNumber"], p.person_number.as_str());
    settings().bind(|| insta::assert_json_snapshot!("person", v));

    let v = n
        .get_json(&format!("/persons/{}?$expand=Insurances", p.id), &t, &s)
        .await;
    let cov = n.practice().chart(PatientIndex(3)).unwrap().coverages;
    assert_eq!(v["insurances"].as_array().unwrap().len(), cov.len());
    let ins = n
        .get_json(&format!("/persons/{}/insurances", p.id), &t, &s)
        .await;
    assert_eq!(ins.as_array().unwrap().len(), cov.len());
    let ext = n
        .get_json(&format!("/persons/{}/external-ids", p.id), &t, &s)
        .await;
    assert_eq!(ext.as_array().unwrap().len(), p.external_ids.len());
}

#[tokio::test]
async fn lookup() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let p = n.practice().patient(PatientIndex(7)).unwrap();
    let by = |q: String| {
        let n = &n;
        let (t, s) = (t.clone(), s.clone());
        async move { n.get_json(&format!("/persons/lookup?{q}"), &t, &s).await }
    };
    let v = by(format!(
        "quickSearchId=PersonNumber&quickSearchInput={}&lastName=Nobody",
        p.person_number
    ))
    .await;
    assert_eq!(
        v.as_array().unwrap().len(),
        1,
        "quick search overrides the rest"
    );
    assert_eq!(v[0]["id"], p.id.as_str());
    let v = by(format!(
        "quickSearchId=MedicalRecordNumber&quickSearchInput={}",
        p.mrn
    ))
    .await;
    assert_eq!(v[0]["id"], p.id.as_str());
    let dob = format!("{}", p.birth_date);
    let v = by(format!("lastName={}&dateOfBirth={dob}", p.name.family)).await;
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == p.id.as_str())
    );
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|x| x["lastName"] == p.name.family.as_str())
    );
    let v = by(format!("lastName={}&dateOfBirth=1800-01-01", p.name.family)).await;
    assert!(v.as_array().unwrap().is_empty(), "criteria are ANDed");
}

#[tokio::test]
async fn persons_listing_window_and_paging() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let pr = n.practice();
    let cutoff = pr.as_of() - time::Duration::days(7);
    let recent = pr
        .patient_indices()
        .filter_map(|i| pr.patient(i))
        .filter(|p| p.last_updated.date() >= cutoff)
        .count();
    let v = n.get_json("/persons?$inlinecount=allpages", &t, &s).await;
    assert_eq!(v["count"], recent);
    let all = n
        .get_json(
            "/persons?$filter=modifyTimestamp ge datetime'1900-01-01'&$count=true&$top=30",
            &t,
            &s,
        )
        .await;
    assert_eq!(all["count"], pr.patient_count());
    assert_eq!(items(&all).len(), 25);
    let next = all["nextPageLink"].as_str().unwrap();
    let base = &n.sim.state().profile().enterprise.next_page_link_base;
    assert!(next.starts_with(&format!("{base}/persons?")), "{next}");
    assert!(next.contains("$skip=25") && next.contains("$top=5") && next.contains("$filter="));
    // Rebuilt against the public base, the link serves the rest.
    let rest = &next[base.len()..];
    let page2 = n.get_json(rest, &t, &s).await;
    assert_eq!(items(&page2).len(), 5);
    assert!(page2["nextPageLink"].is_null());
    let ordered = n
        .get_json(
            "/persons?$filter=modifyTimestamp ge datetime'1900-01-01'&$orderby=lastName desc&$top=3",
            &t,
            &s,
        )
        .await;
    let names: Vec<&str> = items(&ordered)
        .iter()
        .map(|p| p["lastName"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|b| std::cmp::Reverse(b.to_lowercase()));
    assert_eq!(names, sorted);
}

#[tokio::test]
async fn persons_listing_405_where_the_profile_says_so() {
    let n = Nge::start_with("nge-5.9.0", |p| {
        p.enterprise.persons_list = simulator::profile::PersonsList::MethodNotAllowed;
    })
    .await;
    let (t, s) = n.login().await;
    let r = n.get("/persons", &t, &s).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let v: Value = r.json().await.unwrap();
    insta::assert_json_snapshot!("persons_405", v);
}

#[tokio::test]
async fn appointments_window_filter_and_read() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let pr = n.practice();
    let from = pr.as_of();
    let to = from + time::Duration::days(7);
    let v = n
        .get_json("/appointments?$inlinecount=allpages", &t, &s)
        .await;
    let expected = pr
        .patient_indices()
        .filter_map(|i| pr.chart(i))
        .flat_map(|c| c.appointments)
        .filter(|a| a.appointment_date >= from && a.appointment_date < to)
        .count();
    assert_eq!(v["count"], expected);
    assert!(items(&v).len() <= 25);
    let first_page = serde_json::json!({
        "count": v["count"],
        "nextPageLink": v["nextPageLink"],
        "items": items(&v).iter().take(2).cloned().collect::<Vec<_>>(),
    });
    settings().bind(|| insta::assert_json_snapshot!("appointments_page", first_page));

    let later = n
        .get_json(
            "/appointments?$filter=appointmentDate ge datetime'2026-08-01T00:00:00'&$count=true",
            &t,
            &s,
        )
        .await;
    assert!(later["count"].as_u64().unwrap() > 0);
    assert!(
        items(&later)
            .iter()
            .all(|a| a["appointmentDate"].as_str().unwrap() >= "2026-08-01")
    );
    let id = items(&v)[0]["id"].as_str().unwrap();
    let one = n.get_json(&format!("/appointments/{id}"), &t, &s).await;
    assert_eq!(one["id"], id);
    let slots = n.get_json("/appointments/slots?$count=true", &t, &s).await;
    assert!(slots["count"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn chart_routes_render_the_chart() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let pid = n.person_where(|c| {
        !c.encounters.is_empty()
            && !c.documents.is_empty()
            && !c.lab_panels.is_empty()
            && !c.allergies.is_empty()
    });
    let i = n.practice().find_patient_by_id(&pid).unwrap();
    let chart = n.practice().chart(i).unwrap();
    for (route, len) in [
        ("allergies", chart.allergies.len()),
        ("medications", chart.medications.len()),
        ("immunizations", chart.immunizations.len()),
        ("procedures", chart.procedures.len()),
        ("documents", chart.documents.len()),
        ("lab/results", chart.lab_panels.len()),
        ("encounters", chart.encounters.len()),
        ("diagnoses", chart.conditions.len()),
        ("charges", chart.charges.len()),
        ("care-plan/goals", chart.goals.len()),
        ("devices", chart.devices.len()),
        (
            "care-team-members",
            chart.care_team.iter().map(|t| t.members.len()).sum(),
        ),
    ] {
        let v = n
            .get_json(&format!("/persons/{pid}/chart/{route}?$count=true"), &t, &s)
            .await;
        assert_eq!(v["count"], len, "{route}");
    }
    for route in ["problems", "social-history", "balances"] {
        n.get_json(&format!("/persons/{pid}/chart/{route}"), &t, &s)
            .await;
    }
    let e = &chart.encounters[0];
    let enc = n
        .get_json(&format!("/persons/{pid}/chart/encounters/{}", e.id), &t, &s)
        .await;
    assert_eq!(enc["id"], e.id.as_str());
    for sub in ["vitals", "diagnoses", "procedures"] {
        n.get_json(
            &format!("/persons/{pid}/chart/encounters/{}/{sub}", e.id),
            &t,
            &s,
        )
        .await;
    }
    let d = &chart.documents[0];
    let text = n
        .get_json(
            &format!("/persons/{pid}/chart/documents/{}/plain-text", d.id),
            &t,
            &s,
        )
        .await;
    assert_eq!(text, d.text.as_str());
    // PHQ-9: 200 where the encounter has one, 404 with an empty body where not.
    let phq = chart
        .observations
        .iter()
        .find(|o| o.code.code == "44249-1" && o.encounter_id.is_some());
    if let Some(o) = phq {
        let v = n
            .get_json(
                &format!(
                    "/persons/{pid}/chart/encounters/{}/screening-tools/phq9",
                    o.encounter_id.as_ref().unwrap()
                ),
                &t,
                &s,
            )
            .await;
        assert!(v["totalScore"].is_number());
    }
}

#[tokio::test]
async fn master_files() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let pr = n.practice();
    for (route, len) in [
        ("locations", pr.locations().len()),
        ("practitioners", pr.practitioners().len()),
        ("payers", pr.payers().len()),
        ("practices", pr.enterprise().practices.len()),
        ("enterprises", 1),
    ] {
        let v = n
            .get_json(&format!("/master/{route}?$count=true"), &t, &s)
            .await;
        assert_eq!(v["count"], len, "{route}");
    }
    let v = n
        .get_json("/master/practices?$filter=id eq '0001'", &t, &s)
        .await;
    assert_eq!(items(&v).len(), 1);
}

#[tokio::test]
async fn part2_records_are_withheld_without_consent() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let pr = n.practice();
    let i = pr
        .patient_indices()
        .find(|i| pr.is_part2(*i) && !pr.canaries_of(*i).is_empty())
        .expect("a Part 2 patient");
    let pid = pr.patient(i).unwrap().id.to_string();
    for route in [
        "problems",
        "diagnoses",
        "medications",
        "encounters",
        "documents",
        "lab/results",
        "social-history",
    ] {
        let r = n
            .get(&format!("/persons/{pid}/chart/{route}?$top=500"), &t, &s)
            .await;
        assert_eq!(r.status(), 200, "{route}");
        let body = r.bytes().await.unwrap();
        assert!(
            pr.canaries_in(&body).is_empty(),
            "{route} leaked a Part 2 record"
        );
    }
}

/// Every chart list route, for a patient with a full chart and for a Part 2
/// patient (whose records are withheld from this client): the first three
/// items and the count of each, pinned so the list code can change shape
/// without changing a byte of what it answers.
#[tokio::test]
async fn chart_lists_snapshot() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let pr = n.practice();
    let full = n.person_where(|c| {
        !c.encounters.is_empty()
            && !c.documents.is_empty()
            && !c.lab_panels.is_empty()
            && !c.allergies.is_empty()
    });
    let part2 = pr
        .patient_indices()
        .find(|i| pr.is_part2(*i) && !pr.canaries_of(*i).is_empty())
        .and_then(|i| pr.patient(i))
        .expect("a Part 2 patient")
        .id
        .to_string();
    let mut out = serde_json::Map::new();
    for pid in [full, part2] {
        let i = pr.find_patient_by_id(&pid).unwrap();
        let chart = pr.chart(i).unwrap();
        // The encounter with the most vitals, so the encounter lists are not empty.
        let enc = chart
            .encounters
            .iter()
            .max_by_key(|e| {
                chart
                    .observations
                    .iter()
                    .filter(|o| o.encounter_id == Some(e.id))
                    .count()
            })
            .map(|e| e.id.to_string());
        let mut routes: Vec<String> = [
            "allergies",
            "problems",
            "diagnoses",
            "medications",
            "encounters",
            "procedures",
            "immunizations",
            "lab/results",
            "documents",
            "social-history",
            "charges",
            "balances",
            "care-team-members",
            "care-plan/goals",
            "devices",
        ]
        .map(str::to_owned)
        .to_vec();
        if let Some(e) = enc {
            for sub in ["vitals", "diagnoses", "procedures"] {
                routes.push(format!("encounters/{e}/{sub}"));
            }
        }
        for route in routes {
            let v = n
                .get_json(
                    &format!("/persons/{pid}/chart/{route}?$top=3&$count=true"),
                    &t,
                    &s,
                )
                .await;
            out.insert(format!("{pid}/{route}"), v);
        }
    }
    settings().bind(|| insta::assert_json_snapshot!("chart_lists", Value::Object(out)));
}

/// A runtime profile swap that moves the Enterprise base paths remounts the
/// API: the old base 404s, the new one serves, and swapping back restores it.
#[tokio::test]
async fn base_paths_follow_a_runtime_profile_swap() {
    let mut n = Nge::start().await;
    let (t, s) = n.login().await;
    let base = n.sim.base_url().to_owned();
    let (http, url) = (n.http.clone(), format!("{base}/_ngsim/profile"));
    let swap = move |body: serde_json::Value| {
        let put = http.put(&url).json(&body);
        async move {
            let r = put.send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    let toml = "name = \"moved\"\ninherits = \"nge-5.9.2\"\n[enterprise]\napi-base = \"/ngsim/moved/api\"\noauth-base = \"/ngsim/moved/oauth\"\n";
    swap(serde_json::json!({ "toml": toml })).await;
    assert_eq!(n.get("/core/version", &t, &s).await.status(), 404);
    let old_token = n
        .http
        .post(format!("{}/token", n.oauth))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(old_token.status(), 404);

    let (old_api, old_oauth) = (n.api.clone(), n.oauth.clone());
    n.api = format!("{base}/ngsim/moved/api");
    n.oauth = format!("{base}/ngsim/moved/oauth");
    let (t2, s2) = n.login().await;
    let v = n.get_json("/core/version", &t2, &s2).await;
    assert_eq!(v["isDbConnectionSuccess"], true);
    let r = n.get("/master/nothing-here", &t2, &s2).await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("/ngsim/moved/api/"));
    // The journal records the new route templates.
    assert!(n.sim.journal().snapshot().iter().any(|e| {
        e.http()
            .is_some_and(|h| h.route == "/ngsim/moved/api/core/version")
    }));

    swap(serde_json::json!({ "name": "nge-5.9.2" })).await;
    assert_eq!(n.get("/core/version", &t2, &s2).await.status(), 404);
    (n.api, n.oauth) = (old_api, old_oauth);
    assert_eq!(n.get("/core/version", &t, &s).await.status(), 200);
}

/// The table-driven chart lists keep NextGen's 405 (with `Allow`) and their
/// id checks: a bad encounter GUID is 400, an unknown encounter 404.
#[tokio::test]
async fn chart_lists_answer_wrong_methods_and_bad_ids() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let pid = n.person_where(|c| !c.encounters.is_empty());
    for (method, route, allow) in [
        (reqwest::Method::DELETE, "problems", "GET,POST"),
        (reqwest::Method::PUT, "charges", "GET,POST"),
        (reqwest::Method::POST, "allergies", "GET"),
        (reqwest::Method::PATCH, "care-plan/goals", "GET"),
    ] {
        let r = n
            .call(
                method,
                &format!("/persons/{pid}/chart/{route}"),
                Some((&t, Some(&s))),
                None,
            )
            .await;
        assert_eq!(r.status(), 405, "{route}");
        assert_eq!(r.headers()["allow"], allow, "{route}");
        let v: Value = r.json().await.unwrap();
        assert!(v["message"].is_string(), "{route}: {v}");
    }
    let r = n
        .get(
            &format!("/persons/{pid}/chart/encounters/enc-1/vitals"),
            &t,
            &s,
        )
        .await;
    assert_eq!(r.status(), 400);
    let unknown = "00000000-0000-4000-8000-000000000000";
    for sub in ["vitals", "diagnoses", "procedures"] {
        let r = n
            .get(
                &format!("/persons/{pid}/chart/encounters/{unknown}/{sub}"),
                &t,
                &s,
            )
            .await;
        assert_eq!(r.status(), 404, "{sub}");
    }
}
