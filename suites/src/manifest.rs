//! The SUT manifest (`sut.toml`): how the runner reaches and drives the system
//! under test.
//!
//! ```toml
//! name = "acme-connector"
//! version = "2.3.1"
//!
//! [mllp]
//! listen = "127.0.0.1:7777"          # where the SUT receives NextGen's HL7 feeds
//!
//! [mllp-sender]                      # if it sends HL7 to NextGen
//! simulator-listen = "127.0.0.1:2575" # the address it sends to
//! ack-timeout = "10s"                # how long it waits for each ACK
//!
//! [smart]                            # its SMART registration, if it uses FHIR
//! id = "acme"
//! kind = "backend"
//! jwks-url = "http://127.0.0.1:9000/jwks.json"
//! scopes = ["system/Patient.rs", "system/Observation.rs"]
//!
//! [enterprise]
//! routes = "routes.txt"              # its declared Enterprise API route list
//!
//! [hooks.sync]                       # make it act: a command…
//! command = ["./acme", "sync", "--once"]
//! timeout = "60s"
//!
//! [hooks.processed]                  # …or an HTTP call
//! http = { method = "GET", url = "http://127.0.0.1:9000/processed" }
//!
//! [[downstream]]                     # systems it forwards data to: one sink each
//! name = "billing"
//! consented = false                  # not named in the patients' Part 2 consent
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use simulator::clients::SmartClient;
use simulator::toml_located::{self, LocatedError};

/// A system-under-test manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SutManifest {
    /// Product name, shown in reports.
    pub name: String,
    /// Product version, shown in reports.
    #[serde(default)]
    pub version: Option<String>,
    /// Its HL7 listener, if it receives feeds.
    #[serde(default)]
    pub mllp: Option<MllpEndpoint>,
    /// Its HL7 sender, if it sends feeds to the simulator's MLLP listener.
    #[serde(default)]
    pub mllp_sender: Option<MllpSender>,
    /// Its SMART client registration, if it uses FHIR: the same shape as a
    /// `[[client]]` in a client registry, registered with the simulator at start.
    /// Its `scopes` are the ones it declares it needs (least privilege is judged
    /// against them).
    #[serde(default)]
    pub smart: Option<SmartClient>,
    /// Its Enterprise API use, if any.
    #[serde(default)]
    pub enterprise: Option<EnterpriseUse>,
    /// Hooks the runner calls to make it act, by name.
    #[serde(default)]
    pub hooks: BTreeMap<String, Hook>,
    /// Its downstream destinations (`[[downstream]]`: `name`, `consented`,
    /// `mllp`): the runner creates one recipient sink per entry in the
    /// simulator, and judges what reaches each.
    #[serde(default)]
    pub downstream: Vec<simulator::sinks::SinkSpec>,
    /// Directory the manifest was loaded from (relative paths resolve here).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// The SUT's MLLP listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MllpEndpoint {
    /// Address the SUT listens on.
    pub listen: SocketAddr,
    /// How long to wait for each ACK.
    #[serde(default = "default_ack_timeout", with = "simulator::profile::duration")]
    pub ack_timeout: Duration,
}

fn default_ack_timeout() -> Duration {
    Duration::from_secs(5)
}

/// The SUT as an HL7 sender: where it sends, and how long it waits for an ACK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MllpSender {
    /// The simulator MLLP listener address the SUT is configured to send to
    /// (an embedded simulator listens here).
    pub simulator_listen: SocketAddr,
    /// How long the SUT waits for an ACK before it gives up on an attempt;
    /// `ack-timeout` faults delay the ACK to twice this.
    #[serde(with = "simulator::profile::duration")]
    pub ack_timeout: Duration,
}

/// The SUT's Enterprise API use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EnterpriseUse {
    /// Declared route list file (`METHOD /template` per line).
    #[serde(default)]
    pub routes: Option<PathBuf>,
    /// GSA client id it uses.
    #[serde(default)]
    pub gsa_client_id: Option<String>,
    /// The GSA account's secret: with it, the runner registers the account
    /// with the simulator (redacted from reports).
    #[serde(default)]
    pub gsa_client_secret: Option<String>,
    /// The site id the GSA account is approved for (default the simulator's).
    #[serde(default)]
    pub site_id: Option<String>,
    /// The declared route list inline (`METHOD /template`), instead of a `routes` file.
    #[serde(default)]
    pub route_list: Vec<String>,
}

/// A way to make the SUT act.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Hook {
    /// Run this command (argv), in the manifest's directory.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Or make this HTTP call.
    #[serde(default)]
    pub http: Option<HttpHook>,
    /// Give up after this long.
    #[serde(
        default = "default_hook_timeout",
        with = "simulator::profile::duration"
    )]
    pub timeout: Duration,
}

fn default_hook_timeout() -> Duration {
    Duration::from_secs(60)
}

/// An HTTP hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HttpHook {
    /// Method (`GET`, `POST`, …).
    #[serde(default = "post")]
    pub method: String,
    /// URL.
    pub url: String,
}

fn post() -> String {
    "POST".into()
}

impl SutManifest {
    /// Parse manifest text; `base_dir` resolves relative paths.
    pub fn parse(file: &str, text: &str, base_dir: &Path) -> Result<SutManifest, LocatedError> {
        let mut m: SutManifest = toml_located::from_str(file, text)?;
        m.base_dir = base_dir.to_owned();
        for (name, hook) in &m.hooks {
            match (&hook.command, &hook.http) {
                (Some(argv), None) if !argv.is_empty() => {}
                (None, Some(_)) => {}
                _ => {
                    return Err(toml_located::at_key(
                        file,
                        &format!("hooks.{name}"),
                        "a hook needs exactly one of `command` (a non-empty argv) or `http`",
                    ));
                }
            }
        }
        Ok(m)
    }

    /// Load a manifest file.
    pub fn load(path: &Path) -> Result<SutManifest, LocatedError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| LocatedError {
            file: file.clone(),
            line: 0,
            column: 0,
            key: None,
            message: e.to_string(),
        })?;
        SutManifest::parse(&file, &text, path.parent().unwrap_or(Path::new(".")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_manifest_parses() {
        let m = SutManifest::parse(
            "sut.toml",
            r#"
name = "acme"
[mllp]
listen = "127.0.0.1:7777"
ack-timeout = "2s"
[smart]
id = "acme"
kind = "backend"
jwks-url = "http://127.0.0.1:9/jwks"
scopes = ["system/Patient.rs"]
[hooks.sync]
command = ["./acme", "sync"]
[hooks.processed]
http = { method = "GET", url = "http://127.0.0.1:9/processed" }
"#,
            Path::new("/tmp"),
        )
        .unwrap();
        assert_eq!(m.mllp.unwrap().ack_timeout, Duration::from_secs(2));
        assert_eq!(m.hooks["processed"].http.as_ref().unwrap().method, "GET");
        assert_eq!(m.hooks["sync"].timeout, Duration::from_secs(60));
    }

    #[test]
    fn hooks_need_exactly_one_way_to_run() {
        let e = SutManifest::parse(
            "sut.toml",
            "name = \"x\"\n[hooks.sync]\ntimeout = \"5s\"\n",
            Path::new("."),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "sut.toml: key `hooks.sync`: a hook needs exactly one of `command` (a non-empty argv) or `http`"
        );
        let e = SutManifest::parse(
            "sut.toml",
            "name = \"x\"\n[mllp]\nlisten = \"nowhere\"\n",
            Path::new("."),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("sut.toml:3:10: key `mllp.listen`: invalid socket address"),
            "{e}"
        );
    }
}
