//! Recipient sinks: created through the control API, receiving HTTP, FHIR and
//! MLLP deliveries, scanning them for Part 2 canaries and journaling each with
//! the sink name and consent flag. Also the consent control route.

use serde_json::{Value, json};
use simulator::journal::Surface;
use simulator::practice::ConsentState;
use simulator::{RunningSimulator, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn sim() -> RunningSimulator {
    Simulator::builder().patients(200).start().await.unwrap()
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn create(sim: &RunningSimulator, body: Value) -> (u16, Value) {
    send(
        reqwest::Client::new()
            .post(format!("{}/_ngsim/sinks", sim.base_url()))
            .json(&body),
    )
    .await
}

/// A canary of the first Part 2 patient.
fn a_canary(sim: &RunningSimulator) -> String {
    let p = sim.practice();
    let i = p.patient_indices().find(|i| p.is_part2(*i)).unwrap();
    p.canaries_of(i)[0].canary.clone()
}

#[tokio::test]
async fn http_and_fhir_deliveries_are_scanned_and_journaled() {
    let sim = sim().await;
    let (status, info) = create(&sim, json!({"name": "billing", "consented": false})).await;
    assert_eq!(status, 201);
    assert_eq!(
        info["http-url"],
        format!("{}/sinks/billing", sim.base_url())
    );
    let canary = a_canary(&sim);
    let http = reqwest::Client::new();

    let (status, _) = send(
        http.post(info["http-url"].as_str().unwrap())
            .body(format!("id,note\n1,{canary}\n")),
    )
    .await;
    assert_eq!(status, 202);
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": []});
    let (status, v) = send(
        http.post(info["fhir-base"].as_str().unwrap())
            .header("content-type", "application/fhir+json")
            .body(bundle.to_string()),
    )
    .await;
    assert_eq!(
        (status, v["type"].as_str()),
        (200, Some("transaction-response"))
    );
    let (status, v) = send(
        http.post(format!(
            "{}/Observation",
            info["fhir-base"].as_str().unwrap()
        ))
        .json(&json!({"resourceType": "Observation", "status": "final"})),
    )
    .await;
    assert_eq!(
        (status, v["resourceType"].as_str()),
        (201, Some("Observation"))
    );

    let got = sim.state().sinks.deliveries(0);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].canaries, vec![canary.clone()]);
    assert!(got[1].canaries.is_empty() && !got[1].consented);

    let entries = sim
        .journal()
        .entries(0, 100, |e| e.surface == Surface::Sink);
    assert_eq!(entries.len(), 3);
    let notes = &entries[0].http().unwrap().notes;
    let note = |k: &str| notes.iter().find(|n| n.k == k).map(|n| n.v.clone());
    assert_eq!(note("sink").as_deref(), Some("billing"));
    assert_eq!(note("consented").as_deref(), Some("false"));
    assert_eq!(note("canaries").as_deref(), Some("1"));
    assert_eq!(
        entries[2].http().unwrap().route,
        "/sinks/{name}/fhir/{type}"
    );

    let received = format!("{}/_ngsim/sinks/billing/received", sim.base_url());
    let (status, v) = send(http.get(&received)).await;
    assert_eq!(status, 200);
    assert_eq!(v["received"][0]["canaries"][0], canary.as_str());

    // A reset forgets the deliveries but keeps the sink where the SUT sends.
    let (status, _) = send(http.post(format!("{}/_ngsim/reset", sim.base_url()))).await;
    assert_eq!(status, 200);
    assert!(sim.state().sinks.deliveries(0).is_empty());
    let (status, v) = send(http.get(&received)).await;
    assert_eq!(
        (status, v["received"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    assert!(sim.state().sinks.get("billing").is_some());
}

#[tokio::test]
async fn bad_deliveries_and_requests_get_proper_errors() {
    let sim = sim().await;
    let http = reqwest::Client::new();
    let base = sim.base_url();
    assert_eq!(
        create(&sim, json!({"name": "hie", "consented": true}))
            .await
            .0,
        201
    );
    // Same spec again: idempotent. Different spec: conflict. Bad names and bodies: 400.
    assert_eq!(
        create(&sim, json!({"name": "hie", "consented": true}))
            .await
            .0,
        201
    );
    assert_eq!(
        create(&sim, json!({"name": "hie", "consented": false}))
            .await
            .0,
        409
    );
    assert_eq!(create(&sim, json!({"name": "Bad Name"})).await.0, 400);
    assert_eq!(create(&sim, json!({"nom": "x"})).await.0, 400);

    let (status, v) = send(http.post(format!("{base}/sinks/nowhere")).body("x")).await;
    assert_eq!(status, 404);
    assert!(v["message"].as_str().unwrap().contains("nowhere"));
    let (status, v) = send(
        http.post(format!("{base}/sinks/hie/fhir/Patient"))
            .json(&json!({"resourceType": "Observation"})),
    )
    .await;
    assert_eq!(status, 400);
    insta::assert_json_snapshot!("sink_fhir_wrong_type", v);
    let (status, _) = send(
        http.post(format!("{base}/sinks/hie/fhir"))
            .header("content-type", "application/fhir+json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(
        http.post(format!("{base}/sinks/hie/fhir"))
            .header("content-type", "text/csv")
            .body("a,b"),
    )
    .await;
    assert_eq!(status, 415);
    // Rejected FHIR deliveries are still kept: they may carry a leak.
    assert_eq!(sim.state().sinks.deliveries(0).len(), 3);
    let (status, _) = send(http.get(format!("{base}/_ngsim/sinks/nowhere/received"))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_mllp_sink_acks_aa_and_scans_the_message() {
    let sim = sim().await;
    let (status, info) = create(
        &sim,
        json!({"name": "hie", "consented": true, "mllp": true}),
    )
    .await;
    assert_eq!(status, 201);
    let addr: std::net::SocketAddr = info["mllp-addr"].as_str().unwrap().parse().unwrap();
    let canary = a_canary(&sim);
    let msg = format!(
        "MSH|^~\\&|SUT|SUTFAC|HIE|HIEFAC|20260701120000||ADT^A08^ADT_A01|CTL0001|P|2.5.1\rEVN|A08|20260701120000\rPID|1||1234^^^NextGen^MRN||DOE^JANE||19800101|F|||||||||||||||||||||{canary}\r"
    );
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut frame = vec![0x0b];
    frame.extend_from_slice(msg.as_bytes());
    frame.extend_from_slice(&[0x1c, 0x0d]);
    tcp.write_all(&frame).await.unwrap();
    let mut buf = Vec::new();
    while !buf.ends_with(&[0x1c, 0x0d]) {
        let mut chunk = [0u8; 1024];
        let n = tcp.read(&mut chunk).await.unwrap();
        assert_ne!(n, 0, "the sink closed without an ACK");
        buf.extend_from_slice(&chunk[..n]);
    }
    let ack = String::from_utf8_lossy(&buf);
    assert!(ack.contains("MSA|AA|CTL0001"), "{ack}");

    let d = sim.state().sinks.deliveries(0);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].what, "ADT^A08");
    assert_eq!(d[0].canaries, vec![canary]);
    let e = sim.journal().entries(d[0].seq, 1, |_| true);
    let m = e[0].mllp().unwrap();
    assert_eq!(e[0].surface, Surface::Sink);
    assert_eq!(m.ack_code.as_deref(), Some("AA"));
    assert!(m.notes.iter().any(|n| n.k == "consented" && n.v == "true"));
}

#[tokio::test]
async fn consent_can_be_revoked_through_the_control_api() {
    let sim = sim().await;
    let p = sim.practice().clone();
    let granted: Vec<_> = p
        .patient_indices()
        .filter(|i| p.consent_state(*i) == ConsentState::Granted)
        .collect();
    assert!(!granted.is_empty());
    let http = reqwest::Client::new();
    let url = format!("{}/_ngsim/consent", sim.base_url());
    let one = p.patient(granted[0]).unwrap().id.to_string();
    let (status, v) = send(
        http.put(&url)
            .json(&json!({"state": "revoked", "patients": [one]})),
    )
    .await;
    assert_eq!((status, v["changed"].as_u64()), (200, Some(1)));
    assert_eq!(p.consent_state(granted[0]), ConsentState::Revoked);
    let (status, _) = send(
        http.put(&url)
            .json(&json!({"state": "revoked", "all": true})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        granted
            .iter()
            .all(|i| p.consent_state(*i) == ConsentState::Revoked)
    );
    for bad in [
        json!({"state": "revoked"}),
        json!({"state": "maybe", "all": true}),
        json!({"state": "revoked", "patients": ["no-such-person"]}),
    ] {
        assert_eq!(send(http.put(&url).json(&bad)).await.0, 400, "{bad}");
    }
    let events = sim.journal().entries(0, 100, |e| {
        matches!(&e.detail, simulator::journal::Detail::Event { name, .. } if name == "consent-set")
    });
    assert_eq!(events.len(), 2);
}
