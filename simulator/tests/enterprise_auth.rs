//! GSA tokens, login-defaults and the session header, the standard headers,
//! and token expiry on tokio's clock.

mod enterprise_support;

use enterprise_support::{CLIENT_ID, Nge, SECRET, SITE};
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn gsa_token_form_and_query() {
    let n = Nge::start().await;
    let r = n
        .http
        .post(format!("{}/token", n.oauth))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("site_id", SITE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert!(v.get("refresh_token").is_none());
    assert!(uuid::Uuid::parse_str(v["access_token"].as_str().unwrap()).is_ok());

    let r = n
        .http
        .post(format!(
            "{}/token?site_id={SITE}&grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}",
            n.oauth
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
