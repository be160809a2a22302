//! `/.well-known/smart-configuration` and `/metadata`, both built from the
//! active profile.

use serde_json::{Value, json};

use crate::profile::Profile;
use crate::server::AppState;

/// The SMART configuration document (absolute URLs).
pub fn smart_configuration(state: &AppState, p: &Profile) -> Value {
    let s = &p.smart;
    let url = |path: &str| state.urls.http(path);
    let mut v = json!({
        "authorization_endpoint": url(&s.authorize_path),
        "token_endpoint": url(&s.token_path),
        "token_endpoint_auth_methods_supported": s.token_endpoint_auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": url(&s.introspect_path),
        "revocation_endpoint": url(&s.revoke_path),
        "jwks_uri": url(&s.jwks_path),
        "capabilities": s.capabilities,
    });
    if s.capabilities.iter().any(|c| c == "sso-openid-connect") {
        v["issuer"] = url(&p.fhir.base_path).into();
    }
    if let Some(scopes) = &s.scopes_supported {
        v["scopes_supported"] = json!(scopes);
    }
    v
}

/// The FHIR search-parameter type of a parameter name.
pub fn param_type(name: &str) -> &'static str {
    match name {
        "_maxresults" | "_count" => "number",
        "_lastUpdated" | "date" | "onset-date" | "birthdate" | "authoredon" | "authored"
        | "target-date" => "date",
        "patient" | "subject" | "practitioner" | "encounter" => "reference",
        "name" | "given" | "family" | "address" | "address-city" | "address-state"
        | "address-postalcode" | "address-country" | "practitioner.name" => "string",
        _ => "token",
    }
}

/// The CapabilityStatement: exactly the profile's types, interactions, search
/// parameters and includes, with the SMART `oauth-uris` extension.
pub fn capability_statement(state: &AppState, p: &Profile) -> Value {
    let s = &p.smart;
    let url = |path: &str| state.urls.http(path);
    let resources: Vec<Value> = p
        .fhir
        .resources
        .iter()
        .map(|(ty, r)| {
            let mut v = json!({
                "type": ty,
                "interaction": r.interactions.iter().map(|i| json!({"code": i})).collect::<Vec<_>>(),
            });
            if !r.search_params.is_empty() {
                v["searchParam"] = r
                    .search_params
                    .iter()
                    .map(|n| json!({"name": n, "type": param_type(n)}))
                    .collect();
            }
            if !r.include.is_empty() {
                v["searchInclude"] = json!(r.include);
            }
            if !r.revinclude.is_empty() {
                v["searchRevInclude"] = json!(r.revinclude);
            }
            v
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-07-01",
        "publisher": "ngsim",
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server"],
        "software": {"name": p.fhir.software_name, "version": p.fhir.software_version},
        "implementation": {
            "description": format!("ngsim mock of {}", p.description),
            "url": url(&p.fhir.base_path),
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": true,
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "authorize", "valueUri": url(&s.authorize_path)},
                        {"url": "token", "valueUri": url(&s.token_path)},
                        {"url": "revoke", "valueUri": url(&s.revoke_path)},
                        {"url": "introspect", "valueUri": url(&s.introspect_path)},
                    ]
                }],
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR",
                }]}],
            },
            "resource": resources,
        }],
    })
}
