//! Hostile `private_key_jwt` client assertions and bearer tokens against a
//! running simulator's router. The first byte picks how the rest is used:
//!
//! - 0: the bytes are the assertion as sent;
//! - 1: three 0xFF-separated parts, each base64url-encoded (header,
//!   payload, signature), so the fuzzer reaches the JSON checks;
//! - 2: the bytes are claims JSON, signed with the demo backend key, so it
//!   reaches the claim checks behind a valid signature;
//! - 3: the bytes are an `Authorization` header on FHIR and Enterprise reads.
//!
//! Every answer must be a 4xx OAuth/FHIR error or a 200, never a 5xx.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use simulator::RunningSimulator;
use tower::ServiceExt;

struct Harness {
    rt: tokio::runtime::Runtime,
    sim: RunningSimulator,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sim = rt.block_on(async {
            simulator::Simulator::builder()
                .patients(5)
                .journal_capacity(64)
                .start()
                .await
                .expect("simulator starts")
        });
        Harness { rt, sim }
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn form_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let h = harness();
    let state = h.sim.state().clone();
    let token_path = state.profile().smart.token_path.clone();
    let assertion = match mode % 4 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => {
            let mut parts = rest.splitn(3, |b| *b == 0xFF);
            let h = b64(parts.next().unwrap_or_default());
            let p = b64(parts.next().unwrap_or_default());
            let s = b64(parts.next().unwrap_or_default());
            format!("{h}.{p}.{s}")
        }
        2 => {
            let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest) else {
                return;
            };
            state.auth.demo_backend_key().sign_assertion(&claims)
        }
        _ => {
            let Ok(auth) = axum::http::HeaderValue::from_bytes(rest) else {
                return;
            };
            let profile = state.profile();
            let fhir = format!("{}/Patient", profile.fhir.base_path);
            let enterprise = format!("{}/persons", profile.enterprise.api_base);
            for path in [fhir, enterprise] {
                let req = Request::get(path.as_str())
                    .header("authorization", auth.clone())
                    .body(Body::empty())
                    .unwrap();
                let resp =
                    h.rt.block_on(simulator::server::router(state.clone()).oneshot(req))
                        .unwrap();
                assert!(
                    !resp.status().is_server_error(),
                    "{path}: {}",
                    resp.status()
                );
            }
            return;
        }
    };
    let body = format!(
        "grant_type=client_credentials&scope=system%2F*.rs&client_assertion_type={}&client_assertion={}",
        form_escape("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        form_escape(&assertion)
    );
    let req = Request::post(token_path.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let resp =
        h.rt.block_on(simulator::server::router(state.clone()).oneshot(req))
            .unwrap();
    let status = resp.status();
    assert!(
        status == StatusCode::OK || status.is_client_error(),
        "token endpoint answered {status}"
    );
});
