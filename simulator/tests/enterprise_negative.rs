//! Bad input, table-driven: every case gets NextGen's status and error shape
//! (400/404/405/409/413/415 `{"message"}`, 401 plain text, 403 empty), never a
//! panic. The whole table is one snapshot.

mod enterprise_support;

use enterprise_support::{CLIENT_ID, Nge, settings};
use reqwest::Method;
use serde_json::{Value, json};
use simulator::enterprise::Session;
use simulator::enterprise::session::user_number;

#[derive(Clone, Copy)]
enum Auth {
    None,
    BadToken,
    Gsa,
}

#[derive(Clone, Copy)]
enum Sess {
    None,
    Valid,
    Malformed,
    OtherUser,
    NoSuchPractice,
}

enum Payload {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    auth: Auth,
    sess: Sess,
    body: Payload,
    status: u16,
}

fn case(name: &'static str, method: Method, path: impl Into<String>, status: u16) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        auth: Auth::Gsa,
        sess: Sess::Valid,
        body: Payload::None,
        status,
    }
}

impl Case {
    fn auth(mut self, a: Auth) -> Case {
        self.auth = a;
        self
    }
    fn sess(mut self, s: Sess) -> Case {
        self.sess = s;
        self
    }
    fn json(mut self, v: Value) -> Case {
        self.body = Payload::Json(v);
        self
    }
    fn raw(mut self, ct: &'static str, b: impl Into<Vec<u8>>) -> Case {
        self.body = Payload::Raw(ct, b.into());
        self
    }
}

const MAX_BODY: u64 = 2048;

async fn start() -> Nge {
    Nge::start_with("nge-5.9.2", |p| p.enterprise.max_body_bytes = MAX_BODY).await
}

#[tokio::test]
async fn bad_input_table() {
    let n = start().await;
    let (t, s) = n.login().await;
    let pid = n.person(0);
    let user = user_number(CLIENT_ID);
    let enc = n
        .practice()
        .chart(simulator::practice::PatientIndex(0))
        .unwrap()
        .encounters[0]
        .id;
    let unknown_guid = "6f1f0c2e-1111-4222-8333-444455556666";
    let huge = format!("{{\"LastName\": \"{}\"}}", "x".repeat(MAX_BODY as usize));
    let cases = vec![
        // Tokens.
        case("no_token", Method::GET, "/master/practices", 401).auth(Auth::None),
        case("bad_token", Method::GET, "/master/practices", 401).auth(Auth::BadToken),
        // Session.
        case("no_session", Method::GET, format!("/persons/{pid}"), 400).sess(Sess::None),
        case("malformed_session", Method::GET, format!("/persons/{pid}"), 400).sess(Sess::Malformed),
        case("other_users_session", Method::GET, format!("/persons/{pid}"), 400).sess(Sess::OtherUser),
        case("session_for_missing_practice", Method::GET, format!("/persons/{pid}"), 400)
            .sess(Sess::NoSuchPractice),
        case("login_defaults_unknown_enterprise", Method::PUT, "/users/me/login-defaults", 400)
            .sess(Sess::None)
            .json(json!({"enterpriseId": "99999", "practiceId": "0001"})),
        case("login_defaults_bad_location", Method::PUT, "/users/me/login-defaults", 400)
            .sess(Sess::None)
            .json(json!({"enterpriseId": "00001", "practiceId": "0001", "locationId": "loc-1"})),
        // OData.
        case("filter_truncated", Method::GET, "/appointments?$filter=appointmentDate%20ge", 400),
        case("filter_bad_operator", Method::GET, "/appointments?$filter=isKept%20is%20true", 400),
        case("filter_unclosed_paren", Method::GET, "/appointments?$filter=(isKept%20eq%20true", 400),
        case("filter_unterminated_string", Method::GET, "/appointments?$filter=eventName%20eq%20'Follow", 400),
        case("filter_bad_guid", Method::GET, "/appointments?$filter=id%20eq%20guid'nope'", 400),
        case("filter_bad_datetime", Method::GET, "/appointments?$filter=appointmentDate%20gt%20datetime'2026-13-45'", 400),
        case("filter_unknown_property", Method::GET, "/master/locations?$filter=colour%20eq%20'red'", 400),
        case("orderby_bad_direction", Method::GET, "/master/locations?$orderby=name%20sideways", 400),
        case("top_not_a_number", Method::GET, "/master/locations?$top=many", 400),
        case("inlinecount_bad", Method::GET, "/master/locations?$inlinecount=some", 400),
        // Lookup.
        case("lookup_no_criteria", Method::GET, "/persons/lookup", 400),
        case("lookup_rejects_filter", Method::GET, "/persons/lookup?$filter=lastName%20eq%20'X'", 400),
        case("lookup_short_phone", Method::GET, "/persons/lookup?quickSearchId=PhoneNumber&quickSearchInput=419555", 400),
        // Routes and methods.
        case("unknown_route", Method::GET, "/no/such/route", 404),
        case("wrong_method", Method::DELETE, format!("/persons/{pid}"), 405),
        case("wrong_method_on_list", Method::PATCH, "/appointments", 405),
        // GUIDs and missing records.
        case("bad_person_guid", Method::GET, "/persons/id-4", 400),
        case("bad_appointment_guid", Method::GET, "/appointments/id-4", 400),
        case("bad_encounter_guid", Method::GET, format!("/persons/{pid}/chart/encounters/enc-1"), 400),
        case("unknown_person", Method::GET, format!("/persons/{unknown_guid}"), 404),
        case("unknown_appointment", Method::GET, format!("/appointments/{unknown_guid}"), 404),
        case("unknown_encounter", Method::GET, format!("/persons/{pid}/chart/encounters/{unknown_guid}"), 404),
        case("no_phq9", Method::GET, format!("/persons/{pid}/chart/encounters/{enc}/screening-tools/phq9"), 404),
        // Bodies.
        case("malformed_json", Method::POST, "/persons", 400).raw("application/json", "{\"LastName\": "),
        case("empty_body", Method::POST, "/persons", 400).raw("application/json", ""),
        case("not_json_media_type", Method::POST, "/persons", 415).raw("text/plain", "LastName=X"),
        case("oversized_body", Method::POST, "/persons", 413).raw("application/json", huge),
        case("body_not_an_object", Method::POST, "/persons", 400).json(json!(["LastName"])),
        case("person_missing_sex", Method::POST, "/persons", 400)
            .json(json!({"LastName": "X", "FirstName": "Y", "DateOfBirth": "1990-01-01"})),
        case("appointment_bad_person_guid", Method::POST, "/appointments", 400)
            .json(json!({"PersonId": "id-4", "EventId": unknown_guid, "LocationId": unknown_guid, "AppointmentDate": "2026-07-02T09:00:00"})),
        case("appointment_unknown_person", Method::POST, "/appointments", 400)
            .json(json!({"PersonId": unknown_guid, "EventId": unknown_guid, "LocationId": unknown_guid, "AppointmentDate": "2026-07-02T09:00:00"})),
        case("problem_bad_icd10", Method::POST, format!("/persons/{pid}/chart/problems"), 403)
            .json(json!({"Icd10Code": "diabetes", "Description": "x"})),
        case("charge_units_zero", Method::POST, format!("/persons/{pid}/chart/charges"), 400)
            .json(json!({"CptCode": "99213", "ServiceDate": "2026-07-01", "Units": 0})),
    ];
    let mut table = Vec::new();
    for c in cases {
        let url = format!("{}{}", n.api, c.path);
        let mut rb = n.http.request(c.method.clone(), &url);
        match c.auth {
            Auth::None => {}
            Auth::BadToken => rb = rb.bearer_auth("3f7c0000-0000-4000-8000-000000000000"),
            Auth::Gsa => rb = rb.bearer_auth(&t),
        }
        let session = match c.sess {
            Sess::None => None,
            Sess::Valid => Some(s.clone()),
            Sess::Malformed => Some("not*base64".to_owned()),
            Sess::OtherUser => Some(Session::new("00001", "0001", user + 1).encode()),
            Sess::NoSuchPractice => Some(Session::new("00001", "0999", user).encode()),
        };
        if let Some(v) = session {
            rb = rb.header("x-ng-sessionid", v);
        }
        rb = match c.body {
            Payload::None => rb,
            Payload::Json(v) => rb.json(&v),
            Payload::Raw(ct, b) => rb.header("content-type", ct).body(b),
        };
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        assert_eq!(status, c.status, "{}", c.name);
        for h in ["api-version", "x-request-id"] {
            assert!(r.headers().contains_key(h), "{}: {h}", c.name);
        }
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let allow = r
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = r.text().await.unwrap();
        let body: Value = match ct.as_deref() {
            Some(ct) if ct.starts_with("application/json") => serde_json::from_str(&text).unwrap(),
            _ => Value::String(text),
        };
        match status {
            401 => assert_eq!(body, "invalid access token", "{}", c.name),
            403 => assert_eq!(body, "", "{}", c.name),
            400 | 405 | 413 | 415 => assert!(body["message"].is_string(), "{}: {body}", c.name),
            _ => {}
        }
        if c.name.contains("session")
            && status == 400
            && c.name != "login_defaults_unknown_enterprise"
        {
            let m = body["message"].as_str().unwrap().to_lowercase();
            assert!(m.contains("session"), "{}: {m}", c.name);
        }
        if c.name.starts_with("filter_") && c.name != "filter_unknown_property" {
            assert!(
                body["message"].as_str().unwrap().contains("at position"),
                "{}",
                c.name
            );
        }
        table.push(json!({"case": c.name, "status": status, "allow": allow, "body": body}));
    }
    settings().bind(|| insta::assert_json_snapshot!("bad_input", table));
}

#[tokio::test]
async fn expired_token_is_401() {
    let n = start().await;
    let (t, s) = n.login().await;
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(3600)).await;
    let r = n.get("/master/locations", &t, &s).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), "invalid access token");
}

#[tokio::test]
async fn injected_faults_use_nextgen_shapes_and_are_journaled() {
    use simulator::faults::{FaultKind, FaultRule};
    use simulator::journal::Surface;
    let n = start().await;
    let (t, s) = n.login().await;
    let pid = n.person(0);
    n.sim.state().faults.add(FaultRule {
        name: Some("persons-down".into()),
        surface: Surface::Enterprise,
        matching: Some("/persons/".into()),
        kind: FaultKind::Status {
            status: 503,
            transient: true,
        },
        after: 0,
        every: 1,
        times: Some(1),
    });
    let r = n.get(&format!("/persons/{pid}"), &t, &s).await;
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].is_string());
    assert_eq!(
        n.get(&format!("/persons/{pid}"), &t, &s).await.status(),
        200
    );
    let faults: Vec<Option<String>> = n
        .sim
        .journal()
        .snapshot()
        .iter()
        .filter_map(|e| e.http())
        .filter(|h| h.path.contains("/persons/"))
        .map(|h| h.fault.clone())
        .collect();
    assert_eq!(faults, [Some("persons-down".to_owned()), None]);
}
