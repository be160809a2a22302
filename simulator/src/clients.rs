//! The client registry: SMART apps, backend services and Enterprise API (GSA)
//! service accounts, from a TOML file (`ngsim serve --clients FILE`) plus one
//! demo client of each kind generated at start-up.
//!
//! ```toml
//! [[client]]
//! id = "acme-sync"
//! kind = "backend"                      # public | confidential-symmetric | confidential-asymmetric | backend
//! jwks-url = "https://acme.example/jwks.json"   # or: jwks = '{"keys":[...]}'
//! scopes = ["system/Patient.rs", "system/Observation.rs"]
//! part2-consent = false
//!
//! [[gsa]]
//! client-id = "acme-gsa"
//! client-secret = "change-me"
//! site-id = "ngsim-site-1"
//! ```

use std::path::Path;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// How a SMART client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// A public app (PKCE, no secret).
    Public,
    /// A confidential app with a client secret (`client_secret_basic`).
    ConfidentialSymmetric,
    /// A confidential app authenticating with `private_key_jwt`.
    ConfidentialAsymmetric,
    /// A backend service (`client_credentials` with `private_key_jwt`).
    Backend,
}

/// A registered SMART client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SmartClient {
    /// `client_id`.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Authentication kind.
    pub kind: ClientKind,
    /// Client secret (confidential-symmetric only).
    #[serde(default, skip_serializing)]
    pub secret: Option<String>,
    /// Registered redirect URIs (app launches).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Registered JWKS URL (asymmetric and backend); `jku` must equal it.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Inline JWKS as JSON text (asymmetric and backend).
    #[serde(default)]
    pub jwks: Option<String>,
    /// The most this client may be granted; requests are narrowed to it.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Whether the patient's Part 2 consent covers disclosures to this client.
    #[serde(default)]
    pub part2_consent: bool,
}

/// A registered Enterprise API Global Service Account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GsaClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    #[serde(skip_serializing)]
    pub client_secret: String,
    /// `site_id` this account is approved for.
    pub site_id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the patient's Part 2 consent covers disclosures to this client.
    #[serde(default)]
    pub part2_consent: bool,
}

/// Every registered client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClientRegistry {
    /// SMART clients.
    #[serde(default, rename = "client")]
    pub smart: Vec<SmartClient>,
    /// GSA service accounts.
    #[serde(default, rename = "gsa")]
    pub gsa: Vec<GsaClient>,
}

/// The site id of the simulated NextGen installation.
pub const DEFAULT_SITE_ID: &str = "ngsim-site-1";

/// Redirect URI registered for the demo apps (nothing listens there; headless
/// flows read the code from the `Location` header).
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A registry file that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ClientsError {
    /// File label.
    pub file: String,
    /// What is wrong (with line and key path when known).
    pub message: String,
}

impl ClientRegistry {
    /// Load a registry file.
    pub fn load(path: &Path) -> Result<ClientRegistry, ClientsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ClientsError {
            file: file.clone(),
            message: e.to_string(),
        })?;
        ClientRegistry::parse(&file, &text)
    }

    /// Parse registry TOML text.
    pub fn parse(file: &str, text: &str) -> Result<ClientRegistry, ClientsError> {
        let err = |message: String| ClientsError {
            file: file.to_owned(),
            message,
        };
        let reg: ClientRegistry = crate::toml_located::from_str(file, text).map_err(|e| {
            let at = if e.line > 0 {
                format!("line {}: ", e.line)
            } else {
                String::new()
            };
            let key = e.key.map(|k| format!("key `{k}`: ")).unwrap_or_default();
            err(format!("{at}{key}{}", e.message))
        })?;
        reg.check().map_err(err)?;
        Ok(reg)
    }

    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.smart {
            if !seen.insert(c.id.as_str()) {
                return Err(format!("client id `{}` is registered twice", c.id));
            }
            match c.kind {
                ClientKind::ConfidentialSymmetric if c.secret.is_none() => {
                    return Err(format!(
                        "client `{}` is confidential-symmetric but has no `secret`",
                        c.id
                    ));
                }
                ClientKind::ConfidentialAsymmetric | ClientKind::Backend
                    if c.jwks.is_none() && c.jwks_url.is_none() =>
                {
                    return Err(format!(
                        "client `{}` authenticates with private_key_jwt but has no `jwks` or `jwks-url`",
                        c.id
                    ));
                }
                ClientKind::Public
                | ClientKind::ConfidentialSymmetric
                | ClientKind::ConfidentialAsymmetric
                    if c.redirect_uris.is_empty() =>
                {
                    return Err(format!(
                        "client `{}` launches apps but has no `redirect-uris`",
                        c.id
                    ));
                }
                _ => {}
            }
        }
        for g in &self.gsa {
            if !seen.insert(g.client_id.as_str()) {
                return Err(format!("client id `{}` is registered twice", g.client_id));
            }
        }
        Ok(())
    }

    /// A SMART client by id.
    pub fn smart(&self, id: &str) -> Option<&SmartClient> {
        self.smart.iter().find(|c| c.id == id)
    }

    /// A GSA account by client id.
    pub fn gsa(&self, client_id: &str) -> Option<&GsaClient> {
        self.gsa.iter().find(|c| c.client_id == client_id)
    }

    /// Add the demo clients that need no key material: a public app, a
    /// confidential-symmetric app and a GSA account, with fresh random secrets.
    /// (The asymmetric demo clients carry generated keys; the auth module adds them.)
    pub fn with_demo_clients(mut self) -> ClientRegistry {
        let app_scopes = [
            "launch",
            "launch/patient",
            "launch/encounter",
            "openid",
            "fhirUser",
            "offline_access",
            "patient/*.rs",
            "patient/*.read",
            "user/*.rs",
            "user/*.read",
        ];
        let scopes: Vec<String> = app_scopes.iter().map(|s| s.to_string()).collect();
        if self.smart("demo-public").is_none() {
            self.smart.push(SmartClient {
                id: "demo-public".into(),
                name: Some("Demo public app (PKCE)".into()),
                kind: ClientKind::Public,
                secret: None,
                redirect_uris: vec![DEMO_REDIRECT_URI.into()],
                jwks_url: None,
                jwks: None,
                scopes: scopes.clone(),
                part2_consent: false,
            });
        }
        if self.smart("demo-confidential").is_none() {
            self.smart.push(SmartClient {
                id: "demo-confidential".into(),
                name: Some("Demo confidential app (client_secret_basic)".into()),
                kind: ClientKind::ConfidentialSymmetric,
                secret: Some(random_secret()),
                redirect_uris: vec![DEMO_REDIRECT_URI.into()],
                jwks_url: None,
                jwks: None,
                scopes,
                part2_consent: false,
            });
        }
        if self.gsa("demo-gsa").is_none() {
            self.gsa.push(GsaClient {
                client_id: "demo-gsa".into(),
                client_secret: random_secret(),
                site_id: DEFAULT_SITE_ID.into(),
                name: Some("Demo Global Service Account".into()),
                part2_consent: false,
            });
        }
        self
    }
}

/// A 32-character random secret.
pub fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let reg = ClientRegistry::parse(
            "t.toml",
            r#"
[[client]]
id = "a"
kind = "backend"
jwks-url = "http://127.0.0.1/jwks"
scopes = ["system/Patient.rs"]
part2-consent = true

[[client]]
id = "b"
kind = "confidential-symmetric"
secret = "s"
redirect-uris = ["http://127.0.0.1/cb"]

[[gsa]]
client-id = "g"
client-secret = "x"
site-id = "site"
"#,
        )
        .unwrap();
        assert!(reg.smart("a").unwrap().part2_consent);
        assert_eq!(reg.gsa("g").unwrap().site_id, "site");
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = ClientRegistry::parse("t.toml", "[[client]]\nid = \"a\"\nkind = \"robot\"\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml: line 3: key `client[0].kind`: unknown variant `robot`, expected one of `public`, `confidential-symmetric`, `confidential-asymmetric`, `backend`"
        );
        let e = ClientRegistry::parse(
            "t.toml",
            "[[client]]\nid = \"a\"\nkind = \"confidential-symmetric\"\nredirect-uris = [\"x\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml: client `a` is confidential-symmetric but has no `secret`"
        );
    }

    #[test]
    fn demo_clients_have_fresh_secrets_and_never_serialise_them() {
        let a = ClientRegistry::default().with_demo_clients();
        let b = ClientRegistry::default().with_demo_clients();
        assert_ne!(
            a.gsa("demo-gsa").unwrap().client_secret,
            b.gsa("demo-gsa").unwrap().client_secret
        );
        let text = serde_json::to_string(&a).unwrap();
        assert!(!text.contains(&a.gsa("demo-gsa").unwrap().client_secret));
        assert!(
            !text.contains(
                a.smart("demo-confidential")
                    .unwrap()
                    .secret
                    .as_deref()
                    .unwrap()
            )
        );
    }
}
