//! `ngsim serve`: start the simulator, print its endpoints and demo clients,
//! and serve until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use simulator::clients::{ClientKind, ClientRegistry};
use simulator::mllp::{Destination, MllpLimits, TlsFiles};
use simulator::{RunningSimulator, Simulator};

use super::Failure;
use crate::exit_code;

/// Arguments of `ngsim serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// HTTP listen address (FHIR, OAuth, Enterprise API, control API).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub http: SocketAddr,
    /// Version profile: a built-in name (see `ngsim profiles list`) or a file.
    #[arg(long, default_value = simulator::server::DEFAULT_PROFILE, value_name = "NAME|FILE")]
    pub profile: String,
    /// Seed of the synthetic practice: the same seed gives byte-identical data.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,
    /// Number of generated patients (generation is lazy; millions are fine).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub patients: u32,
    /// The practice's "today" (YYYY-MM-DD); generated visits, results and
    /// appointments are dated relative to it.
    #[arg(long, default_value = "2026-07-01", value_name = "DATE", value_parser = parse_date)]
    pub as_of: time::Date,
    /// Client registry (SMART apps, backend services, GSA accounts) in TOML.
    /// Demo clients are always added.
    #[arg(long, value_name = "FILE")]
    pub clients: Option<PathBuf>,
    /// Also write the journal to FILE as JSON lines (flushed every 10 ms).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Entries kept in memory by the journal (older ones are evicted).
    #[arg(long, default_value_t = simulator::journal::DEFAULT_CAPACITY, value_name = "N")]
    pub journal_capacity: usize,
    /// Let non-loopback peers use the control API with `Authorization: Bearer TOKEN`.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "NGSIM_CONTROL_TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
    /// Allow listening on non-loopback addresses. ngsim serves synthetic data
    /// with deliberately weak modes; do not expose it to a network you do not control.
    #[arg(long)]
    pub allow_remote: bool,
    /// The HL7 v2 peer: MLLP, MLLPS and outbound destinations (boxed: it
    /// is the largest group of flags).
    #[command(flatten)]
    pub mllp: Box<MllpArgs>,
}

/// The HL7 v2 flags of `ngsim serve`.
#[derive(Debug, Args)]
pub struct MllpArgs {
    /// HL7 v2 MLLP listen address (integrations send to "NextGen" here).
    #[arg(long, default_value = "127.0.0.1:2575", value_name = "ADDR")]
    pub mllp: SocketAddr,
    /// Also listen for MLLP over TLS (MLLPS) on ADDR.
    #[arg(long, value_name = "ADDR")]
    pub mllps: Option<SocketAddr>,
    /// MLLPS certificate chain (PEM); generated at start-up when absent.
    #[arg(long, value_name = "FILE", requires = "mllps_key")]
    pub mllps_cert: Option<PathBuf>,
    /// MLLPS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "mllps_cert")]
    pub mllps_key: Option<PathBuf>,
    /// Require MLLPS client certificates signed by a CA in FILE (PEM).
    #[arg(long, value_name = "FILE")]
    pub mllps_client_ca: Option<PathBuf>,
    /// Require MLLPS client certificates signed by the generated CA.
    #[arg(long)]
    pub mllps_require_client_cert: bool,
    /// Outbound HL7 destination (repeatable); NextGen sends its feeds there:
    /// `[APPLICATION=][mllp://]HOST:PORT`, or over TLS
    /// `[APPLICATION=]mllps://HOST:PORT[?ca=FILE&cert=FILE&key=FILE]`.
    #[arg(long = "hl7-destination", value_name = "DEST")]
    pub hl7_destinations: Vec<String>,
    /// CA certificates (PEM) trusted for `mllps://` destinations without their own `?ca=`.
    #[arg(long, value_name = "FILE")]
    pub hl7_destination_ca: Option<PathBuf>,
    /// Client certificate chain (PEM) presented to `mllps://` destinations.
    #[arg(long, value_name = "FILE", requires = "hl7_client_key")]
    pub hl7_client_cert: Option<PathBuf>,
    /// Private key (PEM) of `--hl7-client-cert`.
    #[arg(long, value_name = "FILE", requires = "hl7_client_cert")]
    pub hl7_client_key: Option<PathBuf>,
    /// MLLP(S) connections served at once; past it a new connection is
    /// closed at once and journaled.
    #[arg(long, default_value_t = MllpLimits::default().max_connections, value_name = "N")]
    pub mllp_max_connections: usize,
    /// Close an MLLP(S) connection after SECS without any bytes (half-open peers).
    #[arg(long, default_value_t = MllpLimits::default().idle_timeout.as_secs(), value_name = "SECS")]
    pub mllp_idle_timeout: u64,
    /// Close an MLLP(S) connection whose frame is not complete SECS after its
    /// start block, however slowly bytes trickle in (slowloris senders).
    #[arg(long, default_value_t = MllpLimits::default().frame_timeout.as_secs(), value_name = "SECS")]
    pub mllp_frame_timeout: u64,
    /// Close an MLLP(S) connection whose ACK write does not finish in SECS.
    #[arg(long, default_value_t = MllpLimits::default().write_timeout.as_secs(), value_name = "SECS")]
    pub mllp_write_timeout: u64,
    /// Largest MLLP frame payload in bytes (default: the profile's
    /// `max-frame-bytes`); a larger frame gets an AR NAK and the connection is closed.
    #[arg(long, value_name = "N")]
    pub mllp_max_frame_bytes: Option<u32>,
}

impl MllpArgs {
    /// The outbound destinations, their TLS files loaded.
    fn destinations(&self) -> Result<Vec<Destination>, String> {
        let defaults = TlsFiles {
            ca: self.hl7_destination_ca.clone(),
            cert: self.hl7_client_cert.clone(),
            key: self.hl7_client_key.clone(),
        };
        self.hl7_destinations
            .iter()
            .map(|d| Destination::parse_with(d, &defaults))
            .collect()
    }

    /// The listener limits these flags set.
    fn limits(&self) -> MllpLimits {
        let secs = |s: u64| std::time::Duration::from_secs(s.max(1));
        MllpLimits {
            max_connections: self.mllp_max_connections.max(1),
            idle_timeout: secs(self.mllp_idle_timeout),
            write_timeout: secs(self.mllp_write_timeout),
            frame_timeout: secs(self.mllp_frame_timeout),
            max_frame_bytes: self.mllp_max_frame_bytes,
        }
    }
}

pub(super) fn run(args: ServeArgs) -> Result<u8, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::infrastructure)?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<u8, Failure> {
    let mut builder = Simulator::builder()
        .profile_named(&args.profile)
        .map_err(Failure::bad_input)?
        .http_addr(args.http)
        .seed(args.seed)
        .patients(args.patients)
        .as_of(args.as_of)
        .journal_capacity(args.journal_capacity)
        .allow_remote(args.allow_remote);
    if let Some(path) = &args.clients {
        builder = builder.clients(ClientRegistry::load(path).map_err(Failure::bad_input)?);
    }
    if let Some(path) = &args.journal {
        builder = builder.journal_file(path);
    }
    if let Some(token) = &args.control_token {
        builder = builder.control_token(token);
    }
    let m = &args.mllp;
    builder = builder
        .mllp_addr(m.mllp)
        .mllp_limits(m.limits())
        .mllp_destinations(
            m.destinations()
                .map_err(|e| Failure::bad_input(anyhow!(e)))?,
        );
    if let Some(addr) = m.mllps {
        use simulator::tls::{CertSource, ClientAuth, TlsSettings};
        let cert = match (&m.mllps_cert, &m.mllps_key) {
            (Some(c), Some(k)) => CertSource::Pem {
                cert_chain: c.clone(),
                key: k.clone(),
            },
            _ => CertSource::Generated,
        };
        let client_auth = match (&m.mllps_client_ca, m.mllps_require_client_cert) {
            (Some(ca), _) => ClientAuth::RequireFrom(ca.clone()),
            (None, true) => ClientAuth::RequireGenerated,
            (None, false) => ClientAuth::None,
        };
        builder = builder.mllps(addr, TlsSettings { cert, client_auth });
    }
    let sim = builder.start().await.map_err(|e| match e {
        simulator::server::StartError::Profile(_)
        | simulator::server::StartError::RemoteRefused(_)
        | simulator::server::StartError::Tls(_) => Failure::bad_input(e),
        other => Failure::infrastructure(other),
    })?;
    // Install the signal handlers before announcing readiness: a supervisor may
    // send SIGTERM as soon as it reads the banner.
    let signal = shutdown_signal().map_err(|e| Failure::infrastructure(anyhow!(e)))?;
    print_banner(&sim);
    signal.await;
    eprintln!("ngsim: shutting down");
    sim.shutdown().await;
    Ok(exit_code::OK)
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("expected YYYY-MM-DD: {e}"))
}

fn print_banner(sim: &RunningSimulator) {
    let state = sim.state();
    let p = state.profile();
    let url = |path: &str| state.urls.http(path);
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<16}{value}\n"));
    line("HTTP", sim.base_url().to_owned());
    if p.fhir.enabled {
        line("FHIR R4 base", sim.fhir_base_url());
        line(
            "SMART config",
            format!("{}/.well-known/smart-configuration", sim.fhir_base_url()),
        );
        line("authorize", url(&p.smart.authorize_path));
        line("token", url(&p.smart.token_path));
        line("introspect", url(&p.smart.introspect_path));
        line("revoke", url(&p.smart.revoke_path));
        line("JWKS", url(&p.smart.jwks_path));
    }
    if p.enterprise.enabled {
        line("Enterprise API", sim.enterprise_base_url());
        line(
            "GSA token",
            url(&format!("{}/token", p.enterprise.oauth_base)),
        );
    }
    if let Some(mllp) = sim.mllp_addr() {
        line("MLLP", mllp.to_string());
    }
    if let Some(mllps) = sim.mllps_addr() {
        line("MLLPS", mllps.to_string());
    }
    for q in state.mllp.outbound.queues() {
        line("HL7 out", format!("{} ({})", q.destination, q.application));
    }
    line("control API", url("/_ngsim/health"));
    line("journal", url("/_ngsim/journal"));
    line(
        "sinks",
        format!(
            "{} (create: POST {})",
            url("/sinks/{name}"),
            url("/_ngsim/sinks")
        ),
    );
    println!(
        "ngsim {} ready: profile {} ({})",
        env!("CARGO_PKG_VERSION"),
        p.name,
        p.description
    );
    let cfg = state.practice.config();
    println!(
        "  practice        {} ({} patients, seed {}, as of {})",
        state.practice.enterprise().name,
        cfg.patients,
        cfg.seed,
        cfg.as_of
    );
    print!("{out}");
    println!("Demo clients:");
    let key_file = write_demo_key(sim);
    let clients = state.clients();
    for c in &clients.smart {
        let how = match c.kind {
            ClientKind::Public => "public app, PKCE S256".to_owned(),
            ClientKind::ConfidentialSymmetric => {
                format!(
                    "client_secret_basic, secret {}",
                    c.secret.as_deref().unwrap_or("")
                )
            }
            ClientKind::ConfidentialAsymmetric => match &key_file {
                Some(path) => format!("private_key_jwt app (ES384), key {path}"),
                None => "private_key_jwt app (ES384)".to_owned(),
            },
            ClientKind::Backend => match &key_file {
                Some(path) => format!("backend service, private_key_jwt (ES384), key {path}"),
                None => "backend service, private_key_jwt (ES384)".to_owned(),
            },
        };
        let redirect = c
            .redirect_uris
            .first()
            .map(|r| format!(", redirect {r}"))
            .unwrap_or_default();
        println!("  {:<18} {how}{redirect}", c.id);
    }
    for g in &clients.gsa {
        println!(
            "  {:<18} GSA account, client_secret {}, site_id {}",
            g.client_id, g.client_secret, g.site_id
        );
    }
    println!("Press Ctrl-C to stop.");
}

/// Write the demo asymmetric clients' private key (PEM) to a file only the
/// current user can read, so a person can sign client assertions with it.
fn write_demo_key(sim: &RunningSimulator) -> Option<String> {
    let path = std::env::temp_dir().join(format!("ngsim-demo-key-{}.pem", sim.http_addr().port()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).ok()?;
    std::io::Write::write_all(
        &mut file,
        sim.state().auth.demo_backend_key_pem().as_bytes(),
    )
    .ok()?;
    Some(path.display().to_string())
}

/// A future that completes on Ctrl-C or SIGTERM; the handlers are installed
/// when this function returns, not when the future is first polled.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    })
}
