//! The outbound sender: NextGen-shaped feeds from practice changes, the retry
//! policy (same MSH-10), AE/AR/MSA-2 errors, no echo, order, queue state.

#[path = "mllp_support.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use simulator::events::{ChangeKind, PracticeChange};
use simulator::hl7::ack::{Ack, AckCode, build_ack};
use simulator::hl7::{Message, SequentialIds};
use simulator::journal::Surface;
use simulator::mllp::Destination;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the fake destination answers the n-th frame it receives (from 0).
type Behaviour = Arc<dyn Fn(usize, &Message<'_>) -> Reply + Send + Sync>;

enum Reply {
    Code(AckCode),
    WrongId,
    Silence,
}

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    fn len(&self) -> usize {
        self.0.lock().len()
    }
    fn get(&self, path: &str) -> Vec<String> {
        self.0
            .lock()
            .iter()
            .map(|m| {
                let m = Message::parse(m).unwrap();
                String::from_utf8_lossy(m.get(path).unwrap().unwrap_or_default()).into_owned()
            })
            .collect()
    }
}

async fn destination(behaviour: Behaviour) -> (std::net::SocketAddr, Received) {
    let l = tokio::net::TcpListener::bind(LOOPBACK).await.unwrap();
    let addr = l.local_addr().unwrap();
    let got = Received::default();
    let rec = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let rec = rec.clone();
            let behaviour = behaviour.clone();
            tokio::spawn(async move {
                let mut ids = SequentialIds::new("D", 1);
                loop {
                    let Ok(frames) =
                        tokio::time::timeout(Duration::from_secs(30), read_one(&mut s)).await
                    else {
                        return;
                    };
                    let Some(payload) = frames else { return };
                    let n = {
                        let mut g = rec.0.lock();
                        g.push(payload.clone());
                        g.len() - 1
                    };
                    let m = Message::parse(&payload).unwrap();
                    let reply = match behaviour(n, &m) {
                        Reply::Silence => continue,
                        Reply::Code(code) => ack(&m, code, &mut ids),
                        Reply::WrongId => {
                            let a = ack(&m, AckCode::AA, &mut ids);
                            let ctl = String::from_utf8_lossy(m.control_id()).into_owned();
                            String::from_utf8(a)
                                .unwrap()
                                .replace(&format!("MSA|AA|{ctl}"), "MSA|AA|NOT-YOURS")
                                .into_bytes()
                        }
                    };
                    if s.write_all(&frame(&reply)).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, got)
}

fn ack(m: &Message<'_>, code: AckCode, ids: &mut SequentialIds) -> Vec<u8> {
    build_ack(
        m,
        &Ack {
            code,
            text: None,
            error: None,
            timestamp: "20260701120000",
        },
        ids,
    )
}

async fn read_one(s: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(2).position(|w| w == [0x1C, 0x0D]) {
            let start = buf.iter().position(|x| *x == 0x0B)?;
            return Some(buf[start + 1..end].to_vec());
        }
        let n = s.read(&mut b).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
}

/// A simulator sending to `dest` with the profile's own ACK timeout and
/// retry policy (the retry tests run with paused time, so nothing here needs
/// shortening).
async fn sim_sending_to(profile: &str, dest: std::net::SocketAddr) -> simulator::RunningSimulator {
    sim_with_profile_timing(profile, dest).await.0
}

fn publish(
    sim: &simulator::RunningSimulator,
    kind: ChangeKind,
    patient: &str,
    record: Option<String>,
) {
    sim.state().events.publish(PracticeChange {
        kind,
        patient_id: patient.into(),
        record_id: record,
        origin: "control".into(),
    });
}

fn outcomes(sim: &simulator::RunningSimulator) -> Vec<String> {
    entries(sim, Surface::MllpOut)
        .iter()
        .filter_map(|e| e.mllp().map(|x| x.outcome.to_string()))
        .collect()
}

#[tokio::test]
async fn registration_feed_is_nextgen_shaped_and_acked() {
    let (addr, got) = destination(Arc::new(|_, _| Reply::Code(AckCode::AA))).await;
    let sim = sim_sending_to("nge-5.9.2", addr).await;
    let (mrn, pn, id) = patient(&sim, 6);
    publish(&sim, ChangeKind::PatientRegistered, &id, None);
    eventually(|| sim.state().mllp.outbound.queues()[0].sent == 1).await;
    assert_eq!(got.get("MSH-9"), ["ADT^A04^ADT_A01"]);
    assert_eq!(got.get("MSH-12"), ["2.5.1"]);
    assert_eq!(got.get("PID-2"), [pn]);
    assert_eq!(got.get("PID-3"), [format!("{mrn}^^^NextGen^MRN")]);
    assert_eq!(got.get("MSH-5"), ["INTEGRATION"]);
    assert_eq!(got.get("ZPI-1"), ["1"]);
    assert!(!got.get("PV1-20")[0].is_empty(), "financial class");
    assert!(!got.get("PV1-8.1")[0].is_empty(), "referring provider NPI");
    eventually(|| outcomes(&sim) == ["accepted"]).await;
    let e = &entries(&sim, Surface::MllpOut)[0];
    let x = e.mllp().unwrap();
    assert_eq!(x.ack_code.as_deref(), Some("AA"));
    assert_eq!(x.ack_control_id, x.msh10);
}

#[tokio::test]
async fn office_profile_quirks() {
    let (addr, got) = destination(Arc::new(|_, _| Reply::Code(AckCode::AA))).await;
    let sim = sim_sending_to("nge-office", addr).await;
    let (_, _, id) = patient(&sim, 1);
    publish(&sim, ChangeKind::PatientUpdated, &id, None);
    eventually(|| got.len() == 1).await;
    assert!(got.get("MSH-3")[0].starts_with("NextGen Office^"));
    assert_eq!(got.get("MSH-9"), ["ADT^A08"]);
    assert_eq!(got.get("MSH-12"), ["2.3"]);
    assert_eq!(got.get("PV1-50").len(), 1);
    assert_eq!(got.get("PV1-50")[0].matches(';').count(), 2);
    let raw = String::from_utf8(got.0.lock()[0].clone()).unwrap();
    assert!(
        !raw.contains("\rZPI|"),
        "office profile lists no Z-segments"
    );
}

/// The profile's own ACK timeout and retry count, under paused time: the
/// waits cost nothing and the virtual clock shows the policy was followed.
async fn sim_with_profile_timing(
    profile: &str,
    dest: std::net::SocketAddr,
) -> (simulator::RunningSimulator, Duration, u32) {
    let sim = simulator::Simulator::builder()
        .profile_named(profile)
        .unwrap()
        .patients(30)
        .mllp_addr(LOOPBACK.parse().unwrap())
        .mllp_destinations([Destination::new(dest)])
        .start()
        .await
        .unwrap();
    let (timeout, retries) = {
        let p = sim.state().profile();
        (p.hl7.ack_timeout, p.hl7.max_retries)
    };
    (sim, timeout, retries)
}

/// The backoff before resend `n` (from 1).
fn backoff(n: u32) -> Duration {
    simulator::mllp::sender::BASE_BACKOFF
        .saturating_mul(1 << (n - 1))
        .min(simulator::mllp::sender::MAX_BACKOFF)
}

#[tokio::test(start_paused = true)]
async fn timeout_resends_with_the_same_control_id() {
    let (addr, got) = destination(Arc::new(|n, _| {
        if n == 0 {
            Reply::Silence
        } else {
            Reply::Code(AckCode::AA)
        }
    }))
    .await;
    let (sim, timeout, _) = sim_with_profile_timing("nge-5.9.0", addr).await;
    let (_, _, id) = patient(&sim, 2);
    let start = tokio::time::Instant::now();
    publish(&sim, ChangeKind::PatientUpdated, &id, None);
    eventually_within(timeout * 4, || {
        sim.state().mllp.outbound.queues()[0].sent == 1
    })
    .await;
    let ids = got.get("MSH-10");
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "a resend keeps MSH-10");
    assert_eq!(outcomes(&sim), ["queued", "accepted"]);
    assert_eq!(sim.state().mllp.outbound.queues()[0].retries, 1);
    // Virtual time: the whole ACK timeout, then the first backoff.
    assert!(
        start.elapsed() >= timeout + backoff(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded_then_failed() {
    let (addr, got) = destination(Arc::new(|_, _| Reply::Silence)).await;
    let (sim, timeout, retries) = sim_with_profile_timing("nge-5.9.0", addr).await;
    assert!(retries >= 1);
    let (_, _, id) = patient(&sim, 2);
    let start = tokio::time::Instant::now();
    publish(&sim, ChangeKind::PatientUpdated, &id, None);
    let waits: Duration = timeout * (retries + 1) + (1..=retries).map(backoff).sum::<Duration>();
    eventually_within(waits * 2, || {
        sim.state().mllp.outbound.queues()[0].failed == 1
    })
    .await;
    assert!(
        start.elapsed() >= waits,
        "{:?} < {waits:?}",
        start.elapsed()
    );
    assert_eq!(
        got.len(),
        retries as usize + 1,
        "first send plus max-retries resends"
    );
    let mut expect = vec!["queued"; retries as usize];
    expect.push("failed");
    assert_eq!(outcomes(&sim), expect);
    let ids = got.get("MSH-10");
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "every resend keeps MSH-10"
    );
    assert_eq!(
        sim.state().mllp.outbound.queues()[0].retries,
        u64::from(retries)
    );
}

#[tokio::test]
async fn ae_ar_and_wrong_msa2_are_errors_without_resend() {
    let (addr, got) = destination(Arc::new(|n, _| match n {
        0 => Reply::Code(AckCode::AE),
        1 => Reply::Code(AckCode::AR),
        2 => Reply::WrongId,
        _ => Reply::Code(AckCode::AA),
    }))
    .await;
    let sim = sim_sending_to("nge-5.9.0", addr).await;
    let (_, _, id) = patient(&sim, 3);
    for _ in 0..4 {
        publish(&sim, ChangeKind::PatientUpdated, &id, None);
    }
    eventually(|| sim.state().mllp.outbound.queues()[0].sent == 1).await;
    let ids = got.get("MSH-10");
    assert_eq!(ids.len(), 4, "no blind resend");
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 4);
    assert_eq!(outcomes(&sim), ["error", "rejected", "error", "accepted"]);
    let q = &sim.state().mllp.outbound.queues()[0];
    assert_eq!((q.errors, q.pending, q.in_flight.clone()), (3, 0, None));
}

#[tokio::test]
async fn scheduling_order_is_kept_per_patient() {
    let (addr, got) = destination(Arc::new(|_, _| Reply::Code(AckCode::AA))).await;
    let sim = sim_sending_to("nge-5.9.0", addr).await;
    let (_, _, id) = patient(&sim, 4);
    let kinds = [
        ChangeKind::AppointmentBooked,
        ChangeKind::AppointmentRescheduled,
        ChangeKind::AppointmentModified,
        ChangeKind::AppointmentCancelled,
    ];
    for k in kinds {
        publish(&sim, k, &id, None);
    }
    eventually(|| got.len() == 4).await;
    assert_eq!(
        got.get("MSH-9"),
        ["SIU^S12", "SIU^S13", "SIU^S14", "SIU^S15"]
    );
}

#[tokio::test]
async fn inbound_message_is_not_echoed_to_its_sender() {
    let (addr, got) = destination(Arc::new(|_, _| Reply::Code(AckCode::AA))).await;
    let sim = sim_sending_to("nge-5.9.0", addr).await;
    let (mrn, _, _) = patient(&sim, 5);
    let mut s = connect(&sim).await;
    // From the destination's own application: no echo.
    let own = String::from_utf8(oru(&mrn, "IN-1"))
        .unwrap()
        .replace("LABSYS", "INTEGRATION");
    assert_eq!(msa(&exchange(&mut s, own.as_bytes(), 1).await[0]).0, "AA");
    // From another system: forwarded as ORU^R01.
    assert_eq!(
        msa(&exchange(&mut s, &oru(&mrn, "IN-2"), 1).await[0]).0,
        "AA"
    );
    eventually(|| got.len() == 1).await;
    assert_eq!(got.get("MSH-9"), ["ORU^R01"]);
    assert_eq!(got.get("OBX-3.1"), ["2345-7"]);
    assert_eq!(sim.state().mllp.outbound.queues()[0].suppressed, 1);
}

/// Across surfaces: an appointment booked through the Enterprise API comes out
/// of the HL7 sender as SIU^S12 for the same patient, and is ACKed.
#[tokio::test]
async fn an_enterprise_appointment_goes_out_as_siu_s12() {
    let (addr, got) = destination(Arc::new(|_, _| Reply::Code(AckCode::AA))).await;
    let sim = sim_sending_to("nge-5.9.2", addr).await;
    let base = sim.base_url().to_owned();
    let secret = sim
        .state()
        .clients()
        .gsa("demo-gsa")
        .unwrap()
        .client_secret
        .clone();
    let c = reqwest::Client::new();
    let token: serde_json::Value = c
        .post(format!("{base}/nge/prod/nge-oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-gsa"),
            ("client_secret", secret.as_str()),
            ("site_id", "ngsim-site-1"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let r = c
        .put(format!(
            "{base}/nge/prod/nge-api/api/users/me/login-defaults"
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"enterpriseId": "00001", "practiceId": "0001"}))
        .send()
        .await
        .unwrap();
    let session = r.headers()["x-ng-sessionid"].to_str().unwrap().to_owned();
    let (mrn, _pn, person) = patient(&sim, 5);
    let pr = sim.practice();
    let body = serde_json::json!({
        "PersonId": person,
        "EventId": pr.events()[0].id,
        "LocationId": pr.locations()[0].id,
        "ResourceIds": [pr.practitioners()[0].id],
        "AppointmentDate": "2026-07-02T09:30:00",
        "DurationMinutes": 20,
    });
    let r = c
        .post(format!("{base}/nge/prod/nge-api/api/appointments"))
        .bearer_auth(&token)
        .header("x-ng-sessionid", &session)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    eventually(|| got.len() == 1).await;
    assert_eq!(got.get("MSH-9.1"), ["SIU"]);
    assert_eq!(got.get("MSH-9.2"), ["S12"]);
    assert_eq!(
        got.get("PID-3"),
        [format!("{mrn}^^^NextGen^MRN")],
        "the same patient on both surfaces"
    );
    eventually(|| outcomes(&sim) == ["accepted"]).await;
}
