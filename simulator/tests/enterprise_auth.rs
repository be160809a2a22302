//! GSA tokens, login-defaults and the session header, the standard headers,
//! and token expiry on tokio's clock.

mod enterprise_support;

use enterprise_support::{CLIENT_ID, Nge, SECRET, SITE};
use reqwest::Method;
use serde_json::{Value, json};

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

async fn token_error(n: &Nge, form: &[(&str, &str)]) -> (u16, Value) {
    let r = n
        .http
        .post(format!("{}/token", n.oauth))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(r.headers()["cache-control"], "no-store");
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn gsa_token_rejections() {
    let n = Nge::start().await;
    let base = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("site_id", SITE),
    ];
    let with = |k: &str, v: &'static str| {
        base.iter()
            .map(|(a, b)| if *a == k { (*a, v) } else { (*a, *b) })
            .collect::<Vec<_>>()
    };
    let cases = [
        ("wrong_site", with("site_id", "other-site")),
        ("unknown_client", with("client_id", "nobody")),
        ("bad_secret", with("client_secret", "wrong")),
        ("unsupported_grant", with("grant_type", "password")),
        ("missing_site", base[..3].to_vec()),
    ];
    for (name, form) in cases {
        let (status, body) = token_error(&n, &form).await;
        insta::assert_json_snapshot!(
            format!("token_error_{name}"),
            json!({"status": status, "body": body})
        );
    }
}

#[tokio::test]
async fn login_defaults_and_session_header() {
    let n = Nge::start().await;
    let t = n.token().await;
    // Before a session: master/practices works with the token alone, data routes do not.
    let r = n
        .call(Method::GET, "/master/practices", Some((&t, None)), None)
        .await;
    assert_eq!(r.status(), 200);
    let practices: Value = r.json().await.unwrap();
    assert_eq!(practices["items"][0]["enterpriseId"], "00001");
    let pid = n.person(0);
    let r = n
        .call(
            Method::GET,
            &format!("/persons/{pid}"),
            Some((&t, None)),
            None,
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("session"));

    // login-defaults: 200, body `200`, the header, stable for the same input,
    // keys matched case-insensitively.
    let r = n
        .http
        .put(format!("{}/users/me/login-defaults", n.api))
        .bearer_auth(&t)
        .json(&json!({"enterpriseid": "00001", "PracticeId": "0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for h in ["api-version", "x-request-id", "x-content-type-options"] {
        assert!(r.headers().contains_key(h), "{h}");
    }
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["api-version"], "6.0.0.1752");
    let s1 = r.headers()["x-ng-sessionid"].to_str().unwrap().to_owned();
    assert_eq!(r.text().await.unwrap(), "200");
    let s2 = n.session(&t).await;
    assert_eq!(s1, s2);
    let decoded = simulator::enterprise::Session::decode(&s1).unwrap();
    assert_eq!(decoded.enterprise_id, "00001");
    assert_eq!(decoded.practice_id, "0001");
    // A second token of the same account gets the same session id.
    let t2 = n.token().await;
    assert_eq!(n.session(&t2).await, s1);

    let r = n.get(&format!("/persons/{pid}"), &t, &s1).await;
    assert_eq!(r.status(), 200);

    // Unknown enterprise or practice.
    for body in [
        json!({"enterpriseId": "00009", "practiceId": "0001"}),
        json!({"enterpriseId": "00001", "practiceId": "0999"}),
        json!({"practiceId": "0001"}),
    ] {
        let r = n
            .http
            .put(format!("{}/users/me/login-defaults", n.api))
            .bearer_auth(&t)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }

    // The journal records the session header and $filter facts.
    let _ = n
        .get("/appointments?$filter=isKept eq false", &t, &s1)
        .await;
    let entries = n.sim.journal().snapshot();
    let last = entries.last().unwrap().http().unwrap().clone();
    let has = |k: &str, v: &str| last.notes.iter().any(|x| x.k == k && x.v == v);
    assert!(has("session-header", "present"));
    assert!(has("odata-filter", "used"));
    assert!(has("auth", "gsa"));
    assert_eq!(last.client_id.as_deref(), Some(CLIENT_ID));
}

#[tokio::test]
async fn bad_tokens_get_plain_text_401() {
    let n = Nge::start().await;
    for auth in [
        None,
        Some("not-a-token"),
        Some("00000000-0000-0000-0000-000000000000"),
    ] {
        let mut rb = n.http.get(format!("{}/master/practices", n.api));
        if let Some(a) = auth {
            rb = rb.bearer_auth(a);
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert_eq!(r.text().await.unwrap(), "invalid access token");
    }
}

#[tokio::test]
async fn tokens_expire_on_tokio_clock() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(3599)).await;
    assert_eq!(n.get("/master/locations", &t, &s).await.status(), 200);
    tokio::time::advance(std::time::Duration::from_secs(2)).await;
    let r = n.get("/master/locations", &t, &s).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), "invalid access token");
    // A new token works at once; the session id is still valid (they never expire).
    let t2 = n.token().await;
    assert_eq!(n.get("/master/locations", &t2, &s).await.status(), 200);
}

#[tokio::test]
async fn core_version_snapshot() {
    let n = Nge::start().await;
    let (t, s) = n.login().await;
    let v = n.get_json("/core/version", &t, &s).await;
    insta::assert_json_snapshot!("core_version", v);
}

#[tokio::test]
async fn rate_limit_per_client_on_tokio_clock() {
    let n = Nge::start_with("nge-5.9.2", |p| {
        p.rate_limits.enterprise = Some(simulator::profile::RateLimit {
            requests: 3,
            per: std::time::Duration::from_secs(60),
            per_client: true,
        });
    })
    .await;
    let (t, s) = n.login().await; // login-defaults is call 1
    assert_eq!(n.get("/master/locations", &t, &s).await.status(), 200);
    assert_eq!(n.get("/master/locations", &t, &s).await.status(), 200);
    let r = n.get("/master/locations", &t, &s).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("quota"));
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    assert_eq!(n.get("/master/locations", &t, &s).await.status(), 200);
}

/// Past `daily-quota`, NextGen answers `200` with an empty body (nextgen.md
/// §1.7); the count is per client and starts again a day later.
#[tokio::test]
async fn daily_quota_answers_an_empty_200_until_the_next_day() {
    let n = Nge::start_with("nge-5.9.2", |p| p.enterprise.daily_quota = Some(3)).await;
    let (t, s) = n.login().await; // login-defaults is call 1
    let v = n.get_json("/master/locations", &t, &s).await;
    assert!(!v["items"].as_array().unwrap().is_empty());
    assert_eq!(n.get("/master/locations", &t, &s).await.status(), 200);
    let r = n.get("/master/locations", &t, &s).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "", "an empty payload, not a 429");
    // A call without a valid token gets its 401 (and is not counted).
    assert_eq!(
        n.call(
            Method::GET,
            "/master/locations",
            Some(("nope", Some(&s))),
            None
        )
        .await
        .status(),
        401
    );
    let noted = n.sim.journal().snapshot().iter().any(|e| {
        e.http()
            .is_some_and(|h| h.notes.iter().any(|x| x.k == "daily-quota"))
    });
    assert!(noted, "the journal names the exhausted quota");
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(24 * 3600)).await;
    // The GSA token expired meanwhile (1 h); a new one, and the day is fresh.
    let t = n.token().await;
    let v = n.get_json("/master/locations", &t, &s).await;
    assert!(!v["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn no_daily_quota_in_the_built_in_profiles() {
    for name in ["nge-5.9.0", "nge-5.9.2", "nge-office"] {
        let p = simulator::profile::ProfileLoader::default()
            .load(name)
            .unwrap();
        assert_eq!(p.enterprise.daily_quota, None, "{name}");
    }
}
