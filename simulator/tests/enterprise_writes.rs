//! Write-back: schema validation, the practice overlay (read back through the
//! Enterprise API and through the practice accessors the FHIR layer uses), and
//! the events every accepted write publishes.

mod enterprise_support;

use enterprise_support::Nge;
use reqwest::Method;
use serde_json::{Value, json};
use simulator::events::{ChangeKind, PracticeChange};
use tokio::sync::broadcast::Receiver;

fn next_event(rx: &mut Receiver<PracticeChange>) -> PracticeChange {
    rx.try_recv().expect("an event was published")
}

async fn send(n: &Nge, m: Method, path: &str, t: &str, s: &str, body: Value) -> (u16, Value) {
    let r = n.call(m, path, Some((t, Some(s))), Some(body)).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn create_and_update_a_person() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let mut rx = n.sim.state().events.subscribe();
    let body = json!({"LastName": "Quintero", "FirstName": "Ada", "DateOfBirth": "1991-02-03", "Sex": "F", "HomePhone": "4195550199"});
    let (status, created) = send(&n, Method::POST, "/persons", &t, &s, body.clone()).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let ev = next_event(&mut rx);
    assert_eq!(ev.kind, ChangeKind::PatientRegistered);
    assert_eq!(ev.patient_id, id);
    assert_eq!(ev.origin, "enterprise");

    // The practice (which FHIR renders) has the patient under the same id.
    let i = n
        .practice()
        .find_patient_by_id(&id)
        .expect("in the practice");
    let p = n.practice().patient(i).unwrap();
    assert_eq!(p.name.family, "Quintero");
    let v = n.get_json(&format!("/persons/{id}"), &t, &s).await;
    assert_eq!(v["firstName"], "Ada");
    assert_eq!(v["dateOfBirth"], "1991-02-03T00:00:00");

    // A duplicate of name and birth date: 409, unless IgnoreDuplicatePersons.
    let (status, dup) = send(&n, Method::POST, "/persons", &t, &s, body.clone()).await;
    assert_eq!(status, 409);
    assert!(dup["message"].as_str().unwrap().contains(&id));
    let mut again = body.clone();
    again["IgnoreDuplicatePersons"] = json!(true);
    assert_eq!(
        send(&n, Method::POST, "/persons", &t, &s, again).await.0,
        200
    );
    let _ = next_event(&mut rx);

    // PATCH (camelCase keys are accepted) and PUT.
    let (status, v) = send(
        &n,
        Method::PATCH,
        &format!("/persons/{id}"),
        &t,
        &s,
        json!({"lastName": "Quintero-Diaz", "city": "Toledo"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["lastName"], "Quintero-Diaz");
    let ev = next_event(&mut rx);
    assert_eq!(ev.kind, ChangeKind::PatientUpdated);
    assert_eq!(
        n.practice().patient(i).unwrap().name.family,
        "Quintero-Diaz"
    );
    assert_eq!(n.practice().patient(i).unwrap().address.city, "Toledo");
    let (status, _) = send(
        &n,
        Method::PUT,
        &format!("/persons/{id}"),
        &t,
        &s,
        json!({"EmailAddress": "ada@example.test"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        n.practice().patient(i).unwrap().email.as_deref(),
        Some("ada@example.test")
    );

    // Invalid bodies name the field.
    let (status, v) = send(
        &n,
        Method::POST,
        "/persons",
        &t,
        &s,
        json!({"LastName": "X", "FirstName": "Y", "DateOfBirth": "1990-01-01", "Sex": "Q"}),
    )
    .await;
    assert_eq!(status, 400);
    insta::assert_json_snapshot!("invalid_person_body", v);
}

#[tokio::test]
async fn book_cancel_keep_and_reschedule() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let mut rx = n.sim.state().events.subscribe();
    let pr = n.practice();
    let pid = n.person(5);
    let event = &pr.events()[0];
    let loc = &pr.locations()[0];
    let prov = &pr.practitioners()[0];
    let book = |date: &str| json!({"PersonId": pid, "EventId": event.id, "LocationId": loc.id, "ResourceIds": [prov.id], "AppointmentDate": date, "DurationMinutes": 20});
    let (status, a) = send(
        &n,
        Method::POST,
        "/appointments",
        &t,
        &s,
        book("2026-07-02T09:30:00"),
    )
    .await;
    assert_eq!(status, 200, "{a}");
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(a["beginTime"], "0930");
    assert_eq!(a["endTime"], "0950");
    let ev = next_event(&mut rx);
    assert_eq!(
        (ev.kind, ev.record_id.as_deref()),
        (ChangeKind::AppointmentBooked, Some(id.as_str()))
    );

    // Visible in the default window, by id, and in the practice chart.
    let list = n
        .get_json(&format!("/appointments?$filter=id eq guid'{id}'"), &t, &s)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let i = pr.find_patient_by_id(&pid).unwrap();
    assert!(pr.chart(i).unwrap().appointments.iter().any(|x| x.id == id));

    let (status, kept) = send(
        &n,
        Method::PUT,
        &format!("/appointments/{id}/kept"),
        &t,
        &s,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(kept["isKept"], true);
    assert_eq!(next_event(&mut rx).kind, ChangeKind::AppointmentModified);

    let (status, b) = send(
        &n,
        Method::POST,
        "/appointments",
        &t,
        &s,
        book("2026-07-03T10:00:00"),
    )
    .await;
    assert_eq!(status, 200);
    let _ = next_event(&mut rx);
    let bid = b["id"].as_str().unwrap().to_owned();
    let (status, moved) = send(
        &n,
        Method::POST,
        &format!("/appointments/{bid}/reschedule"),
        &t,
        &s,
        json!({"AppointmentDate": "2026-07-06T11:15:00"}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["beginTime"], "1115");
    assert_eq!(next_event(&mut rx).kind, ChangeKind::AppointmentRescheduled);
    let old = n.get_json(&format!("/appointments/{bid}"), &t, &s).await;
    assert_eq!(old["isRescheduled"], true);

    let newid = moved["id"].as_str().unwrap();
    let (status, c) = send(
        &n,
        Method::POST,
        &format!("/appointments/{newid}/cancel"),
        &t,
        &s,
        json!({"CancelReasonId": "PATIENT-REQUEST"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(c["isCancelled"], true);
    assert_eq!(next_event(&mut rx).kind, ChangeKind::AppointmentCancelled);
    // Cancelling twice is refused; a cancel without a reason is invalid.
    assert_eq!(
        send(
            &n,
            Method::POST,
            &format!("/appointments/{newid}/cancel"),
            &t,
            &s,
            json!({"CancelReasonId": "X"})
        )
        .await
        .0,
        400
    );
    let (status, v) = send(
        &n,
        Method::POST,
        &format!("/appointments/{id}/cancel"),
        &t,
        &s,
        json!({}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("CancelReasonId"));
}

#[tokio::test]
async fn charges_land_pending_in_the_holding_tank() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let mut rx = n.sim.state().events.subscribe();
    let pid = n.person(2);
    let (status, ch) = send(
        &n,
        Method::POST,
        &format!("/persons/{pid}/chart/charges"),
        &t,
        &s,
        json!({"CptCode": "99213", "Description": "Office visit, established", "ServiceDate": "2026-07-01", "Units": 1, "Amount": 125.5}),
    )
    .await;
    assert_eq!(status, 200, "{ch}");
    assert_eq!(ch["status"], "Pending");
    assert_eq!(ch["amount"], 125.5);
    let ev = next_event(&mut rx);
    assert_eq!(ev.kind, ChangeKind::ChargePending);
    let pending = n.practice().pending_charges();
    assert!(
        pending
            .iter()
            .any(|c| Some(c.id.as_str()) == ev.record_id.as_deref())
    );
    let list = n
        .get_json(
            &format!(
                "/persons/{pid}/chart/charges?$filter=status eq 'Pending' and id eq guid'{}'",
                ch["id"].as_str().unwrap()
            ),
            &t,
            &s,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, v) = send(
        &n,
        Method::POST,
        &format!("/persons/{pid}/chart/charges"),
        &t,
        &s,
        json!({"CptCode": "9", "ServiceDate": "2026-07-01"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("CptCode"));
}
