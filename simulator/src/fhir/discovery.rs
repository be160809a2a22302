//! `/.well-known/smart-configuration` and `/metadata`, both built from the
//! active profile. The CapabilityStatement is built once per profile and its
//! bytes cached ([`CapabilityCache`]); a profile swap builds it anew.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;
use serde_json::{Value, json};

use crate::profile::Profile;
use crate::server::AppState;

/// Canonical URL of the Bulk Data system-level `$export` OperationDefinition.
pub const OP_EXPORT: &str = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export";
/// Canonical URL of the Bulk Data `Patient/$export` OperationDefinition.
pub const OP_PATIENT_EXPORT: &str =
    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export";
/// Canonical URL of the Bulk Data `Group/[id]/$export` OperationDefinition.
pub const OP_GROUP_EXPORT: &str =
    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export";
/// Canonical URL of the Bulk Data server CapabilityStatement.
pub const BULK_CAPABILITY: &str = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data";

/// The serialized CapabilityStatement of the last profile asked for. The
/// profile `Arc` is kept, so pointer identity means "same profile".
#[derive(Debug, Default)]
pub struct CapabilityCache {
    built: RwLock<Option<(Arc<Profile>, Bytes)>>,
}

impl CapabilityCache {
    /// The CapabilityStatement bytes for `p`, built on first use per profile.
    pub fn get(&self, state: &AppState, p: &Arc<Profile>) -> Bytes {
        if let Some((cached, bytes)) = &*self.built.read() {
            if Arc::ptr_eq(cached, p) {
                return bytes.clone();
            }
        }
        let bytes = Bytes::from(capability_statement(state, p).to_string());
        *self.built.write() = Some((p.clone(), bytes.clone()));
        bytes
    }
}

/// Which `$export` levels this FHIR base advertises: the profile's bulk
/// levels when Bulk is served under the FHIR base itself (NextGen Office's
/// bulk server lives on its own base, which has no `/metadata`).
fn bulk_levels(p: &Profile) -> &[String] {
    if p.bulk.enabled && p.bulk.base_path.eq_ignore_ascii_case(&p.fhir.base_path) {
        &p.bulk.levels
    } else {
        &[]
    }
}

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
    let levels = bulk_levels(p);
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
            let op = match ty.as_str() {
                "Patient" if levels.iter().any(|l| l == "patient") => Some(OP_PATIENT_EXPORT),
                "Group" if levels.iter().any(|l| l == "group") => Some(OP_GROUP_EXPORT),
                _ => None,
            };
            if let Some(def) = op {
                v["operation"] = json!([{"name": "export", "definition": def}]);
            }
            v
        })
        .collect();
    let mut instantiates = vec!["http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server"];
    if !levels.is_empty() {
        instantiates.push(BULK_CAPABILITY);
    }
    let mut cs = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-07-01",
        "publisher": "ngsim",
        "kind": "instance",
        "instantiates": instantiates,
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
    });
    if levels.iter().any(|l| l == "system") {
        cs["rest"][0]["operation"] = json!([{"name": "export", "definition": OP_EXPORT}]);
    }
    cs
}
