//! The `other-client` defect's way around Part 2 withholding: the records its
//! own (backend) client was refused are fetched again through another
//! registration, the demo patient app, launched headlessly for that patient.
//! A careful integration never does this; the code exists to prove that
//! `part2.no-circumvention` sees it.

use serde_json::Value;

/// The registration the defect borrows.
pub const OTHER_CLIENT: &str = "demo-public";

/// Launch the demo patient app for `patient` (authorization code, PKCE S256,
/// headless auto-approve) and search the patient's Conditions with its token.
/// Returns the HTTP status of the search.
pub(super) async fn search_as_patient_app(fhir: &str, patient: &str) -> Result<u16, String> {
    let err = |e: reqwest::Error| e.to_string();
    let http = crate::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(err)?;
    let (authorize_url, token_url) = super::smart_app::discover(&http, fhir).await?;
    let (verifier, challenge) = super::smart_app::pkce();
    let state = simulator::auth::random_token();
    let r = http
        .get(authorize_url)
        .query(&[
            ("response_type", "code"),
            ("client_id", OTHER_CLIENT),
            ("redirect_uri", simulator::clients::DEMO_REDIRECT_URI),
            ("scope", "launch/patient patient/Condition.rs"),
            ("aud", fhir),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", &state),
            ("ngsim_patient", patient),
        ])
        .send()
        .await
        .map_err(err)?;
    let code = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| url::Url::parse(loc).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .ok_or("authorize did not redirect with a code")?;
    let tokens: Value = http
        .post(token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", simulator::clients::DEMO_REDIRECT_URI),
            ("code_verifier", &verifier),
            ("client_id", OTHER_CLIENT),
        ])
        .send()
        .await
        .map_err(err)?
        .json()
        .await
        .map_err(err)?;
    let access = tokens["access_token"]
        .as_str()
        .ok_or_else(|| format!("no access token: {tokens}"))?;
    let r = http
        .get(format!("{fhir}/Condition?patient={patient}"))
        .bearer_auth(access)
        .header("Accept", "application/fhir+json")
        .send()
        .await
        .map_err(err)?;
    Ok(r.status().as_u16())
}
