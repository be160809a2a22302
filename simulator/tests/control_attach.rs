//! The control routes a runner attached to a running simulator needs:
//! registering clients, journaling its own exchanges, and long-polling the
//! journal.

use serde_json::{Value, json};
use simulator::Simulator;

#[tokio::test]
async fn clients_can_be_registered_once_and_keep_their_first_settings() {
    let sim = Simulator::builder().start().await.unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/_ngsim/clients", sim.base_url());
    let body = json!({
        "client": [{"id": "sut-app", "kind": "backend", "jwks": "{\"keys\":[]}", "scopes": ["system/Patient.rs"]}],
        "gsa": [{"client-id": "sut-gsa", "client-secret": "s3cret-value", "site-id": "ngsim-site-1"}],
    });
    let r = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["added"], json!(["sut-app", "sut-gsa"]));
    assert!(sim.state().clients().smart("sut-app").is_some());
    assert!(sim.state().clients().gsa("sut-gsa").is_some());
    // Again: nothing added, nothing replaced.
    let v: Value = c
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["added"], json!([]));
    // Bad input is a 400; the secret never reaches the journal.
    let r = c
        .post(&url)
        .json(&json!({"clients": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let journal = serde_json::to_string(&sim.state().journal.snapshot()).unwrap();
    assert!(!journal.contains("s3cret-value"));
}

#[tokio::test]
async fn posted_entries_join_the_sequence_and_wake_a_long_poll() {
    let sim = Simulator::builder().start().await.unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/_ngsim/journal", sim.base_url());
    let since = sim.state().journal.stats().next_seq;
    // A long poll on the mllp-out surface, answered when the entry is posted.
    let poll = {
        let c = c.clone();
        let url = format!("{url}?surface=mllp-out&since={since}&wait_ms=20000");
        tokio::spawn(async move {
            c.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let entry = json!({
        "surface": "mllp-out", "peer": "127.0.0.1:9", "kind": "mllp",
        "connection": 1, "latency_us": 0, "bytes": 10, "msh9": "ADT^A04", "msh10": "X1", "outcome": "acked",
    });
    let r = c.post(&url).json(&entry).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let seq = r.json::<Value>().await.unwrap()["seq"].as_u64().unwrap();
    assert!(seq >= since);
    let got = poll.await.unwrap();
    let entries = got["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{got}");
    assert_eq!(entries[0]["seq"], seq);
    assert_eq!(entries[0]["msh10"], "X1");
    // A long poll that finds something answers at once; HTTP entries are the
    // simulator's own and cannot be posted.
    let now: Value = c
        .get(format!("{url}?surface=mllp-out&wait_ms=20000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["entries"].as_array().unwrap().len(), 1);
    let http = json!({"surface": "fhir", "kind": "http", "method": "GET", "path": "/x", "route": "/x", "status": 200});
    let r = c.post(&url).json(&http).send().await.unwrap();
    assert_eq!(r.status(), 400);
}
