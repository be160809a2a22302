//! Batch files (FHS/BHS and one message per file) and the HL7 control routes:
//! scripted events, the clinic day and queue state.

#[path = "mllp_support.rs"]
mod support;

use serde_json::{Value, json};
use simulator::hl7::Message;
use simulator::practice::PatientIndex;
use support::*;

async fn post(sim: &simulator::RunningSimulator, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

#[tokio::test]
async fn export_batch_and_single_files() {
    let sim = sim_with("nge-5.9.0").await;
    let dir = tempfile::tempdir().unwrap();
    let (mrn, _, id) = patient(&sim, 3);
    let r = post(
        &sim,
        "/_ngsim/hl7/batch",
        json!({"direction": "out", "dir": dir.path(), "kinds": ["patient-updated", "results-added"], "patients": [id]}),
    )
    .await;
    assert_eq!(r["messages"], 2);
    let file = std::fs::read(r["files"][0].as_str().unwrap()).unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(text.starts_with("FHS|^~\\&|NextGen|NGSIM|"));
    assert!(text.ends_with("BTS|2\rFTS|1\r"));
    let msgs = simulator::mllp::batch::split_messages(&file);
    let types: Vec<_> = msgs
        .iter()
        .map(|m| {
            let m = Message::parse(m).unwrap();
            String::from_utf8_lossy(m.get("MSH-9").unwrap().unwrap()).into_owned()
        })
        .collect();
    assert_eq!(types, ["ADT^A08", "ORU^R01"]);
    assert!(text.contains(&format!("|{mrn}^^^NextGen^MRN|")));
    let one = tempfile::tempdir().unwrap();
    let r = post(
        &sim,
        "/_ngsim/hl7/batch",
        json!({"direction": "out", "mode": "files", "dir": one.path(), "kinds": ["immunization-added"], "patients": [id]}),
    )
    .await;
    assert_eq!(r["files"].as_array().unwrap().len(), 1);
    let single = std::fs::read(r["files"][0].as_str().unwrap()).unwrap();
    assert!(single.starts_with(b"MSH|"));
    assert!(String::from_utf8_lossy(&single).contains("\rRXA|"));
}

#[tokio::test]
async fn import_a_nightly_batch_with_acks() {
    let sim = sim_with("nge-5.9.0").await;
    let (mrn, _, _) = patient(&sim, 4);
    let before = observations(&sim, 4);
    let dir = tempfile::tempdir().unwrap();
    let mut batch = Vec::new();
    simulator::mllp::batch::write_batch(
        &[oru(&mrn, "B1"), oru("0", "B2")],
        ("LABSYS", "LABFAC"),
        "20260701000000",
        &mut batch,
    );
    // Sites often write CRLF.
    let crlf = String::from_utf8(batch).unwrap().replace('\r', "\r\n");
    std::fs::write(dir.path().join("a-nightly.hl7"), crlf).unwrap();
    std::fs::write(dir.path().join("b-single.hl7"), oru(&mrn, "B3")).unwrap();
    let r = post(
        &sim,
        "/_ngsim/hl7/batch",
        json!({"direction": "in", "dir": dir.path()}),
    )
    .await;
    assert_eq!(
        (
            r["files"].as_u64(),
            r["messages"].as_u64(),
            r["accepted"].as_u64()
        ),
        (Some(2), Some(3), Some(2))
    );
    assert_eq!(observations(&sim, 4), before + 2);
    let acks = std::fs::read(dir.path().join("a-nightly.hl7.ack")).unwrap();
    let codes: Vec<_> = simulator::mllp::batch::split_messages(&acks)
        .iter()
        .map(|a| msa(a).0)
        .collect();
    assert_eq!(codes, ["AA", "AE"]);
}

#[tokio::test]
async fn control_events_and_clinic_day_drive_the_feed() {
    let (addr, got) = aa_destination().await;
    let sim = sim_sending_to_default(addr).await;
    let (_, _, id) = patient(&sim, 5);
    post(
        &sim,
        "/_ngsim/events",
        json!({"kind": "appointment-booked", "patient": id}),
    )
    .await;
    eventually(|| got.lock().len() == 1).await;
    let m0 = got.lock()[0].clone();
    let m = Message::parse(&m0).unwrap();
    assert_eq!(m.get("MSH-9.2").unwrap().unwrap(), b"S12");
    let appt = String::from_utf8_lossy(m.get("SCH-1").unwrap().unwrap()).into_owned();
    assert!(
        sim.practice()
            .chart(PatientIndex(5))
            .unwrap()
            .appointments
            .iter()
            .any(|a| a.id.as_str() == appt),
        "SCH-1 is the practice's appointment id"
    );
    post(
        &sim,
        "/_ngsim/events",
        json!({"script": "clinic-day", "patients": 2}),
    )
    .await;
    eventually(|| got.lock().len() == 9).await;
    let types: Vec<String> = got.lock()[1..]
        .iter()
        .map(|p| {
            let m = Message::parse(p).unwrap();
            String::from_utf8_lossy(m.get("MSH-9.2").unwrap().unwrap()).into_owned()
        })
        .collect();
    assert_eq!(
        types,
        ["A04", "A04", "S12", "S12", "R01", "P03", "R01", "P03"]
    );
    let q: Value = reqwest::get(format!("{}/_ngsim/hl7/queues", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    eventually(|| sim.state().mllp.outbound.queues()[0].sent == 9).await;
    assert_eq!(q["queues"][0]["destination"], addr.to_string());
}
