//! Version profiles: the per-version quirks of a NextGen site, as data.
//!
//! A profile is a TOML file in `profiles/versions/`. Files may `inherits = "other"`;
//! layers are deep-merged (tables merge, everything else is replaced by the child)
//! and the result is deserialised into [`Profile`]. Every key has a default (the
//! `Default` impls below), so a file states only what differs.
//!
//! Handlers never branch on a version string: they read the decision points here
//! (paging parameter, base paths, served types, token lifetimes, EAL, GSA-prohibited
//! routes, HL7 version and Z-segments, ACK mode, rate limits, faults).

mod builtin;
pub mod duration;
mod load;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use builtin::{BUILTIN, builtin_names, builtin_source};
pub use load::{ProfileError, ProfileLoader, json_schema, validate_against_schema};

use crate::faults::FaultRule;

/// A fully resolved version profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Profile {
    /// Profile name, e.g. `nge-5.9.2`.
    pub name: String,
    /// One line for `ngsim profiles list`.
    pub description: String,
    /// Parent profile; resolved away at load time (always `None` once resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherits: Option<String>,
    /// Which NextGen product this emulates.
    pub product: Product,
    /// FHIR R4 surface.
    pub fhir: FhirProfile,
    /// SMART on FHIR authorization server.
    pub smart: SmartProfile,
    /// NextGen Enterprise API (GSA/EAL auth, JSON routes).
    pub enterprise: EnterpriseProfile,
    /// FHIR Bulk Data `$export`.
    pub bulk: BulkProfile,
    /// HL7 v2 peer (Rosetta-style).
    pub hl7: Hl7Profile,
    /// 42 CFR Part 2 behaviour.
    pub part2: Part2Profile,
    /// Request-rate limits per surface.
    pub rate_limits: RateLimits,
    /// Faults active from start-up; more can be set at runtime.
    pub faults: Vec<FaultRule>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            name: String::new(),
            description: String::new(),
            inherits: None,
            product: Product::Enterprise,
            fhir: FhirProfile::default(),
            smart: SmartProfile::default(),
            enterprise: EnterpriseProfile::default(),
            bulk: BulkProfile::default(),
            hl7: Hl7Profile::default(),
            part2: Part2Profile::default(),
            rate_limits: RateLimits::default(),
            faults: Vec::new(),
        }
    }
}

/// The NextGen product a profile emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Product {
    /// NextGen Enterprise (NGE), customer- or cloud-hosted.
    Enterprise,
    /// NextGen Office (NGO, formerly MediTouch), HAPI-based FHIR.
    Office,
}

/// The FHIR paging parameter a server honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PagingParam {
    /// Standard `_count`.
    #[serde(rename = "_count")]
    Count,
    /// NextGen Enterprise's `_maxresults`.
    #[serde(rename = "_maxresults")]
    MaxResults,
}

impl PagingParam {
    /// The query-parameter name.
    pub fn as_str(self) -> &'static str {
        match self {
            PagingParam::Count => "_count",
            PagingParam::MaxResults => "_maxresults",
        }
    }
}

/// What a FHIR server does with a search parameter it does not support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownParams {
    /// 400 with an OperationOutcome naming the parameter.
    Error,
    /// Ignore it (and leave it out of `Bundle.link[self]`), as lenient servers do.
    Ignore,
}

/// FHIR R4 surface settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct FhirProfile {
    /// Whether the FHIR surface is served at all.
    pub enabled: bool,
    /// Path of the FHIR base, e.g. `/nge/prod/fhir-api-r4/fhir/r4`.
    pub base_path: String,
    /// `CapabilityStatement.software.name`.
    pub software_name: String,
    /// `CapabilityStatement.software.version`.
    pub software_version: String,
    /// Paging parameter honoured in searches and emitted in `next` links.
    pub paging_param: PagingParam,
    /// Page size when the client gives none.
    pub default_page_size: u32,
    /// Largest page a client may ask for.
    pub max_page_size: u32,
    /// Handling of unsupported search parameters.
    pub unknown_params: UnknownParams,
    /// Largest accepted request body, in bytes (413 beyond it).
    pub max_body_bytes: u64,
    /// Resource types served, with their interactions and search parameters.
    pub resources: BTreeMap<String, FhirResource>,
}

impl Default for FhirProfile {
    fn default() -> Self {
        FhirProfile {
            enabled: true,
            base_path: "/nge/prod/fhir-api-r4/fhir/r4".into(),
            software_name: "Nextgen FHIR Server".into(),
            software_version: "5.0.1.698".into(),
            paging_param: PagingParam::MaxResults,
            default_page_size: 50,
            max_page_size: 500,
            unknown_params: UnknownParams::Error,
            max_body_bytes: 1 << 20,
            resources: BTreeMap::new(),
        }
    }
}

/// One resource type in a FHIR profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct FhirResource {
    /// Interactions, e.g. `read`, `search-type`.
    pub interactions: Vec<String>,
    /// Search parameters served.
    pub search_params: Vec<String>,
    /// `_include` values served.
    pub include: Vec<String>,
    /// `_revinclude` values served.
    pub revinclude: Vec<String>,
}

impl Default for FhirResource {
    fn default() -> Self {
        FhirResource {
            interactions: vec!["read".into(), "search-type".into()],
            search_params: Vec::new(),
            include: Vec::new(),
            revinclude: Vec::new(),
        }
    }
}

/// SMART App Launch / Backend Services authorization server settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SmartProfile {
    /// Authorization endpoint path.
    pub authorize_path: String,
    /// Token endpoint path.
    pub token_path: String,
    /// Revocation endpoint path.
    pub revoke_path: String,
    /// Introspection endpoint path.
    pub introspect_path: String,
    /// JWKS endpoint path (the server's signing keys).
    pub jwks_path: String,
    /// `capabilities` in `.well-known/smart-configuration`.
    pub capabilities: Vec<String>,
    /// `scopes_supported`; `None` leaves the field out (NextGen Office does).
    pub scopes_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_methods_supported`.
    pub token_endpoint_auth_methods: Vec<String>,
    /// Lifetime of access tokens from app launches.
    #[serde(with = "duration")]
    pub access_token_lifetime: Duration,
    /// Lifetime of backend-services (client_credentials) tokens.
    #[serde(with = "duration")]
    pub backend_token_lifetime: Duration,
    /// Lifetime of refresh tokens.
    #[serde(with = "duration")]
    pub refresh_token_lifetime: Duration,
    /// Lifetime of authorization codes.
    #[serde(with = "duration")]
    pub auth_code_lifetime: Duration,
    /// Whether a used refresh token is replaced (and the old one rejected).
    pub refresh_rotation: bool,
}

impl Default for SmartProfile {
    fn default() -> Self {
        SmartProfile {
            authorize_path: "/nge/prod/patient-oauth/authorize".into(),
            token_path: "/nge/prod/patient-oauth/token".into(),
            revoke_path: "/nge/prod/patient-oauth/token/revoke".into(),
            introspect_path: "/nge/prod/patient-oauth/token/introspect".into(),
            jwks_path: "/nge/prod/fhir-api-r4/.well-known/jwks.json".into(),
            capabilities: Vec::new(),
            scopes_supported: None,
            token_endpoint_auth_methods: vec![
                "private_key_jwt".into(),
                "client_secret_basic".into(),
            ],
            access_token_lifetime: Duration::from_secs(3600),
            backend_token_lifetime: Duration::from_secs(300),
            refresh_token_lifetime: Duration::from_secs(48 * 3600),
            auth_code_lifetime: Duration::from_secs(600),
            refresh_rotation: true,
        }
    }
}

/// How `GET /persons` behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersonsList {
    /// OData listing (the 6.0.0.1752 Postman collection).
    Odata,
    /// 405 with `Allow: POST` (recorded against 6.0.0.767).
    MethodNotAllowed,
}

/// NextGen Enterprise API settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EnterpriseProfile {
    /// Whether the Enterprise API is served.
    pub enabled: bool,
    /// API base path, e.g. `/nge/prod/nge-api/api`.
    pub api_base: String,
    /// GSA/EAL OAuth base path, e.g. `/nge/prod/nge-oauth`.
    pub oauth_base: String,
    /// Value of the `api-version` response header and `/core/version`.
    pub api_version: String,
    /// Default list page size (`$top` default).
    pub page_size: u32,
    /// Whether the External Application Launcher (user-level auth) exists.
    pub eal: bool,
    /// Internal backend URL leaked in `nextPageLink` (clients must rebuild it).
    pub next_page_link_base: String,
    /// Default window in days for unfiltered appointment and person listings.
    pub default_window_days: u32,
    /// Lifetime of GSA tokens.
    #[serde(with = "duration")]
    pub gsa_token_lifetime: Duration,
    /// Routes (`METHOD /template`) refused (403) under a GSA token.
    pub gsa_prohibited_routes: Vec<String>,
    /// `GET /persons` behaviour.
    pub persons_list: PersonsList,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: u64,
    /// Calls per client per day; past it NextGen answers `200` with an empty
    /// body. `None` (the default) means no quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_quota: Option<u32>,
}

impl Default for EnterpriseProfile {
    fn default() -> Self {
        EnterpriseProfile {
            enabled: true,
            api_base: "/nge/prod/nge-api/api".into(),
            oauth_base: "/nge/prod/nge-oauth".into(),
            api_version: "6.0.0.767".into(),
            page_size: 25,
            eal: false,
            next_page_link_base:
                "http://127.0.0.1:889/NGSIM-VM001.NextGenDemo/NextGen.Api.Edge/6.0.0.767/api".into(),
            default_window_days: 7,
            gsa_token_lifetime: Duration::from_secs(3600),
            gsa_prohibited_routes: Vec::new(),
            persons_list: PersonsList::Odata,
            max_body_bytes: 1 << 20,
            daily_quota: None,
        }
    }
}

/// Where Bulk status polling lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BulkStatusStyle {
    /// An opaque polling URL per job (the Bulk Data IG's usual shape).
    Standard,
    /// NextGen Office: `$export-poll-status?_jobId=…`.
    PollStatus,
}

/// FHIR Bulk Data settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct BulkProfile {
    /// Whether `$export` is served.
    pub enabled: bool,
    /// Base path of the bulk server (the FHIR base for NGE; `/api/bulkfhir/r4` for Office).
    pub base_path: String,
    /// Kick-off levels served: `system`, `patient`, `group`.
    pub levels: Vec<String>,
    /// Status-polling shape.
    pub status_style: BulkStatusStyle,
    /// Concurrent jobs per client before kick-off answers 429.
    pub max_concurrent_jobs: u32,
    /// Resources per NDJSON file before a file is split.
    pub file_max_resources: u32,
    /// How long output files stay downloadable.
    #[serde(with = "duration")]
    pub file_expiry: Duration,
    /// Simulated export duration (status answers 202 until it has passed).
    #[serde(with = "duration")]
    pub export_duration: Duration,
    /// `Retry-After` (seconds) sent while a job runs.
    pub retry_after_secs: u32,
    /// `requiresAccessToken` in the manifest.
    pub requires_access_token: bool,
}

impl Default for BulkProfile {
    fn default() -> Self {
        BulkProfile {
            enabled: true,
            base_path: "/nge/prod/fhir-api-r4/fhir/r4".into(),
            levels: vec!["system".into(), "patient".into(), "group".into()],
            status_style: BulkStatusStyle::Standard,
            max_concurrent_jobs: 2,
            file_max_resources: 10_000,
            file_expiry: Duration::from_secs(3600),
            export_duration: Duration::from_secs(1),
            retry_after_secs: 1,
            requires_access_token: true,
        }
    }
}

/// HL7 acknowledgment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AckMode {
    /// Original mode (AA/AE/AR), whatever MSH-15/16 say.
    Original,
    /// Enhanced mode when MSH-15/16 ask for it (CA then AA).
    Enhanced,
}

/// HL7 v2 peer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Hl7Profile {
    /// HL7 version emitted in MSH-12 (`2.3` or `2.5.1`).
    pub version: String,
    /// Versions accepted inbound (others get AR).
    pub accepted_versions: Vec<String>,
    /// Message types accepted inbound, as `TYPE^TRIGGER` (others get AR).
    pub accepted_messages: Vec<String>,
    /// ACK mode.
    pub ack_mode: AckMode,
    /// Mirth-style gate: MSH-15 decides whether an ACK is sent at all.
    pub msh15_gate: bool,
    /// MSH-3 of outbound messages.
    pub sending_application: String,
    /// MSH-4 of outbound messages.
    pub sending_facility: String,
    /// NextGen Office shapes: MSH-3 `NextGen Office^<acct>`, PV1-50 practice triplet.
    pub office_style: bool,
    /// Z-segments emitted on outbound messages (e.g. `ZPI`).
    pub z_segments: Vec<String>,
    /// Control ids remembered per sender for duplicate detection.
    pub duplicate_memory: u32,
    /// Largest MLLP frame accepted, in bytes.
    pub max_frame_bytes: u32,
    /// Outbound: how long to wait for an ACK before queueing a resend.
    #[serde(with = "duration")]
    pub ack_timeout: Duration,
    /// Outbound: resends after a timeout or unparseable ACK before giving up.
    pub max_retries: u32,
}

impl Default for Hl7Profile {
    fn default() -> Self {
        Hl7Profile {
            version: "2.3".into(),
            accepted_versions: vec![
                "2.3".into(),
                "2.3.1".into(),
                "2.4".into(),
                "2.5".into(),
                "2.5.1".into(),
            ],
            accepted_messages: vec![
                "ADT^A01".into(),
                "ADT^A04".into(),
                "ADT^A08".into(),
                "ORM^O01".into(),
                "ORU^R01".into(),
                "SIU^S12".into(),
                "SIU^S13".into(),
                "SIU^S14".into(),
                "SIU^S15".into(),
                "VXU^V04".into(),
                "DFT^P03".into(),
            ],
            ack_mode: AckMode::Original,
            msh15_gate: false,
            sending_application: "NextGen".into(),
            sending_facility: "NGSIM".into(),
            office_style: false,
            z_segments: vec!["ZPI".into()],
            duplicate_memory: 10_000,
            max_frame_bytes: 1 << 20,
            ack_timeout: Duration::from_secs(5),
            max_retries: 3,
        }
    }
}

/// How Part 2-labelled records are disclosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part2Mode {
    /// Withhold from clients without Part 2 consent (omit, 404, notice).
    Withhold,
    /// Disclose to everyone, but keep the security labels.
    LabelOnly,
}

/// Which §2.32 notice text accompanies a disclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeStyle {
    /// The full statement.
    Full,
    /// The abbreviated statement.
    Abbreviated,
}

/// 42 CFR Part 2 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Part2Profile {
    /// Disclosure behaviour.
    pub mode: Part2Mode,
    /// Notice text.
    pub notice: NoticeStyle,
}

impl Default for Part2Profile {
    fn default() -> Self {
        Part2Profile {
            mode: Part2Mode::Withhold,
            notice: NoticeStyle::Abbreviated,
        }
    }
}

/// A request-rate limit: `requests` per `per`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed in each window.
    pub requests: u32,
    /// Window length.
    #[serde(with = "duration")]
    pub per: Duration,
    /// Whether the limit is per client (`true`) or per peer address.
    #[serde(default)]
    pub per_client: bool,
}

/// Rate limits per surface; absent means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct RateLimits {
    /// FHIR reads and searches.
    pub fhir: Option<RateLimit>,
    /// Bulk kick-off and status.
    pub bulk: Option<RateLimit>,
    /// Enterprise API calls.
    pub enterprise: Option<RateLimit>,
}
