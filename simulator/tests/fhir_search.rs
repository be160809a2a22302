//! FHIR read and search: content type, search semantics, paging with the
//! profile's paging parameter, revinclude, unknown parameters, read-only
//! writes, CapabilityStatement, and a runtime profile swap.

mod support;

use serde_json::Value;
use support::*;

#[tokio::test]
async fn patient_read_and_observation_search() {
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 3);
    let r = fhir_get(&sim, &token, &format!("Patient/{pid}")).await;
    assert_eq!(r.status(), 200);
    assert!(header_has(&r, "content-type", "application/fhir+json"));
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["resourceType"], "Patient");
    assert_eq!(p["id"], pid.as_str());

    let cat = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
    let b = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&category={cat}&_maxresults=500"),
        200,
    )
    .await;
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "searchset");
    let ids = match_ids(&b);
    assert!(!ids.is_empty(), "patient has lab results");
    for e in b["entry"].as_array().unwrap() {
        let r = &e["resource"];
        assert_eq!(r["category"][0]["coding"][0]["code"], "laboratory");
        assert_eq!(r["subject"]["reference"], format!("Patient/{pid}"));
    }
    // `patient=Patient/<id>` counts the same as `patient=<id>`.
    let b2 = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient=Patient/{pid}&category=laboratory&_maxresults=500"),
        200,
    )
    .await;
    assert_eq!(b2["total"], b["total"]);
    // Code search with system|code and the bare code.
    let first = &b["entry"][0]["resource"]["code"]["coding"][0];
    let code = first["code"].as_str().unwrap();
    let system = first["system"].as_str().unwrap();
    let by_sys = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&code={system}|{code}"),
        200,
    )
    .await;
    let by_code = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&code={code}"),
        200,
    )
    .await;
    assert!(by_sys["total"].as_u64().unwrap() >= 1);
    assert_eq!(by_sys["total"], by_code["total"]);
    // Date prefixes split the results.
    let all = fhir_json(&sim, &token, &format!("Observation?patient={pid}"), 200).await;
    let ge = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&date=ge2024-01-01"),
        200,
    )
    .await;
    let lt = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&date=lt2024-01-01"),
        200,
    )
    .await;
    assert_eq!(
        ge["total"].as_u64().unwrap() + lt["total"].as_u64().unwrap(),
        all["total"].as_u64().unwrap()
    );
    // POST _search answers like GET.
    let posted: Value = http()
        .post(format!("{}/Observation/_search", sim.fhir_base_url()))
        .bearer_auth(&token)
        .form(&[("patient", pid.as_str()), ("category", "laboratory")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted["total"], b["total"]);
}

#[tokio::test]
async fn paging_uses_the_profiles_parameter_with_absolute_stable_links() {
    for (profile, param) in [("nge-5.9.2", "_maxresults"), ("nge-office", "_count")] {
        let sim = start(profile).await;
        let token = backend_token(&sim, "system/*.rs").await;
        let pid = patient_id(&sim, 1);
        let mut url = format!("Observation?patient={pid}&{param}=3");
        let mut seen = Vec::new();
        let mut total = None;
        let mut pages = 0;
        loop {
            let b = fhir_json(&sim, &token, &url, 200).await;
            total.get_or_insert(b["total"].clone());
            assert_eq!(Some(&b["total"]), total.as_ref(), "{profile}: stable total");
            seen.extend(match_ids(&b));
            pages += 1;
            match next_link(&b) {
                Some(next) => {
                    assert!(
                        next.starts_with(&sim.fhir_base_url()),
                        "{profile}: absolute next"
                    );
                    assert!(next.contains(&format!("{param}=3")), "{profile}: {next}");
                    url = next[sim.fhir_base_url().len() + 1..].to_owned();
                }
                None => break,
            }
            if pages > 200 {
                panic!("runaway paging");
            }
        }
        let n = total.unwrap().as_u64().unwrap() as usize;
        assert_eq!(seen.len(), n, "{profile}: every result once");
        let mut dedup = seen.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), n, "{profile}: no duplicates across pages");
        assert!(pages > 1);
    }
}

#[tokio::test]
async fn unknown_params_writes_and_unserved_types_get_operation_outcomes() {
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 0);
    let mut table = serde_json::Map::new();
    let cases = [
        (
            "unknown_param",
            "GET",
            format!("Observation?patient={pid}&flavour=mint"),
        ),
        (
            "count_on_nge",
            "GET",
            format!("Observation?patient={pid}&_count=5"),
        ),
        (
            "bad_date",
            "GET",
            format!("Observation?patient={pid}&date=yesterday"),
        ),
        (
            "bad_modifier",
            "GET",
            format!("Observation?patient={pid}&code:below=x"),
        ),
        (
            "undeclared_revinclude",
            "GET",
            "Location?_revinclude=Provenance:target".to_owned(),
        ),
        ("unserved_type", "GET", "Appointment".to_owned()),
        ("read_missing", "GET", "Patient/not-a-patient".to_owned()),
        ("create", "POST", "Patient".to_owned()),
        ("update", "PUT", format!("Patient/{pid}")),
        ("patch", "PATCH", format!("Patient/{pid}")),
        ("delete", "DELETE", format!("Patient/{pid}")),
    ];
    for (name, method, rel) in cases {
        let r = http()
            .request(
                method.parse().unwrap(),
                format!("{}/{}", sim.fhir_base_url(), rel),
            )
            .bearer_auth(&token)
            .header("content-type", "application/fhir+json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome", "{name}");
        assert!(ct.starts_with("application/fhir+json"), "{name}");
        table.insert(
            name.into(),
            serde_json::json!({"status": status, "issue": body["issue"][0]}),
        );
    }
    insta::assert_json_snapshot!("fhir_errors", table);

    // Under unknown-params = "ignore" the same query succeeds.
    let r = http()
        .patch(format!("{}/_ngsim/quirks", sim.base_url()))
        .json(&serde_json::json!({"fhir": {"unknown-params": "ignore"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b = fhir_json(
        &sim,
        &token,
        &format!("Observation?patient={pid}&flavour=mint"),
        200,
    )
    .await;
    let self_link = b["link"][0]["url"].as_str().unwrap();
    assert!(
        !self_link.contains("flavour"),
        "ignored params leave the self link"
    );
}

#[tokio::test]
async fn revinclude_provenance_and_string_search() {
    let sim = start("nge-5.9.2").await;
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 2);
    let b = fhir_json(
        &sim,
        &token,
        &format!("Condition?patient={pid}&_revinclude=Provenance:target"),
        200,
    )
    .await;
    let entries = b["entry"].as_array().unwrap();
    let matches = entries
        .iter()
        .filter(|e| e["search"]["mode"] == "match")
        .count();
    let provs: Vec<&Value> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Provenance")
        .collect();
    assert_eq!(provs.len(), matches);
    assert_eq!(provs[0]["search"]["mode"], "include");
    let prov_id = provs[0]["resource"]["id"].as_str().unwrap();
    fhir_json(&sim, &token, &format!("Provenance/{prov_id}"), 200).await;

    let pt = practice(&sim)
        .patient(simulator::practice::PatientIndex(2))
        .unwrap();
    let prefix: String = pt
        .name
        .family
        .chars()
        .take(3)
        .collect::<String>()
        .to_lowercase();
    let found = fhir_json(
        &sim,
        &token,
        &format!("Patient?family={prefix}&_maxresults=500"),
        200,
    )
    .await;
    assert!(match_ids(&found).contains(&pid));
    let exact = fhir_json(
        &sim,
        &token,
        &format!("Patient?name:exact={}&_maxresults=500", pt.name.family),
        200,
    )
    .await;
    assert!(match_ids(&exact).contains(&pid));
    let by_id = fhir_json(&sim, &token, &format!("Patient?_id={pid}"), 200).await;
    assert_eq!(by_id["total"], 1);
    let born = fhir_json(
        &sim,
        &token,
        &format!("Patient?birthdate={}&name={prefix}", pt.birth_date),
        200,
    )
    .await;
    assert!(match_ids(&born).contains(&pid));
}

#[tokio::test]
async fn capability_statement_lists_exactly_the_profile() {
    for profile in ["nge-5.9.2", "nge-office"] {
        let sim = start(profile).await;
        let cs = get_json(&format!("{}/metadata", sim.fhir_base_url())).await;
        let p = sim.state().profile();
        assert_eq!(cs["fhirVersion"], "4.0.1");
        assert_eq!(cs["software"]["name"], p.fhir.software_name.as_str());
        assert_eq!(cs["software"]["version"], p.fhir.software_version.as_str());
        let rest = &cs["rest"][0];
        let types: Vec<&str> = rest["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = p.fhir.resources.keys().map(String::as_str).collect();
        assert_eq!(types, want, "{profile}");
        let ext = &rest["security"]["extension"][0];
        assert!(ext["url"].as_str().unwrap().ends_with("oauth-uris"));
        for r in rest["resource"].as_array().unwrap() {
            let decl = &p.fhir.resources[r["type"].as_str().unwrap()];
            let params: Vec<&str> = r["searchParam"]
                .as_array()
                .map(|a| a.iter().map(|x| x["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            assert_eq!(
                params,
                decl.search_params
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[tokio::test]
async fn a_runtime_profile_swap_moves_the_endpoints() {
    let sim = start("nge-5.9.2").await;
    let old = sim.fhir_base_url();
    swap_to_office(&sim).await;
    assert!(sim.fhir_base_url().ends_with("/api/fhir/r4"));
    let cfg = format!("{}/.well-known/smart-configuration", sim.fhir_base_url());
    let v = get_json(&cfg).await;
    assert!(v.get("scopes_supported").is_none());
    assert!(
        v["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/auth/realms/nextgen/protocol/openid-connect/token")
    );
    let gone = http().get(format!("{old}/metadata")).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    let token = backend_token(&sim, "system/*.rs").await;
    let pid = patient_id(&sim, 0);
    fhir_json(&sim, &token, &format!("Patient/{pid}"), 200).await;
}

#[tokio::test]
async fn capability_statement_advertises_bulk_export_where_served() {
    let sim = start("nge-5.9.2").await;
    let cs = get_json(&format!("{}/metadata", sim.fhir_base_url())).await;
    let instantiates = cs["instantiates"].as_array().unwrap();
    assert!(
        instantiates
            .iter()
            .any(|u| u == "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data")
    );
    let rest = &cs["rest"][0];
    assert_eq!(
        rest["operation"][0]["definition"],
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
    );
    let op_of = |ty: &str| {
        rest["resource"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == ty)
            .map(|r| r["operation"][0]["definition"].clone())
            .unwrap()
    };
    assert_eq!(
        op_of("Patient"),
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
    );
    assert_eq!(
        op_of("Group"),
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"
    );
    assert!(op_of("Observation").is_null());
}

#[tokio::test]
async fn capability_statement_is_rebuilt_on_a_profile_swap() {
    let sim = start("nge-5.9.2").await;
    let first = get_json(&format!("{}/metadata", sim.fhir_base_url())).await;
    let again = get_json(&format!("{}/metadata", sim.fhir_base_url())).await;
    assert_eq!(first, again, "cached bytes are stable");
    swap_to_office(&sim).await;
    let office = get_json(&format!("{}/metadata", sim.fhir_base_url())).await;
    let p = sim.state().profile();
    assert_eq!(office["software"]["name"], p.fhir.software_name.as_str());
    assert_ne!(
        office["implementation"]["url"],
        first["implementation"]["url"]
    );
    // Office's bulk server has its own base (no /metadata): nothing advertised here.
    assert!(office["rest"][0].get("operation").is_none());
}

async fn swap_to_office(sim: &simulator::RunningSimulator) {
    let r = http()
        .put(format!("{}/_ngsim/profile", sim.base_url()))
        .json(&serde_json::json!({"name": "nge-office"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
