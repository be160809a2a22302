//! TLS for MLLPS (and anything else that needs it): TLS 1.2 and 1.3 only, with
//! ring's AEAD-only cipher suites, from PEM files or from certificates generated
//! at start-up with rcgen (a throwaway CA, a server certificate for
//! `localhost`/`127.0.0.1`/`::1`, and a client certificate for mutual TLS).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Where the server's certificate comes from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// Generate a CA and a server certificate at start-up.
    Generated,
    /// Read a certificate chain and a private key from PEM files.
    Pem {
        /// Certificate chain, leaf first.
        cert_chain: PathBuf,
        /// PKCS#8, PKCS#1 or SEC1 private key.
        key: PathBuf,
    },
}

/// Client-certificate authentication.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// No client certificate asked for.
    None,
    /// Require a client certificate signed by the generated CA.
    RequireGenerated,
    /// Require a client certificate signed by a CA in this PEM file.
    RequireFrom(PathBuf),
}

/// TLS settings for a listener.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// Server certificate.
    pub cert: CertSource,
    /// Client authentication.
    pub client_auth: ClientAuth,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            cert: CertSource::Generated,
            client_auth: ClientAuth::None,
        }
    }
}

/// A ready server configuration and the PEM material a peer needs to trust it.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// The rustls server configuration.
    pub server: Arc<ServerConfig>,
    /// PEM of the generated CA (what clients must trust), when generated.
    pub ca_pem: Option<String>,
    /// A client certificate and key (PEM) signed by the generated CA, for mutual TLS.
    pub client_cert_pem: Option<(String, String)>,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("cannot load {what} from {path}: {message}")]
    Pem {
        /// What was being loaded.
        what: &'static str,
        /// File.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Certificate generation failed.
    #[error("cannot generate certificates: {0}")]
    Generate(String),
    /// rustls refused the configuration.
    #[error("invalid TLS configuration: {0}")]
    Config(String),
    /// Generated client auth without generated certificates.
    #[error("client-certificate auth against the generated CA needs generated certificates")]
    NoGeneratedCa,
}

/// Build the server configuration.
pub fn server_config(settings: &TlsSettings) -> Result<TlsMaterial, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] =
        &[&rustls::version::TLS13, &rustls::version::TLS12];
    let (chain, key, generated) = match &settings.cert {
        CertSource::Generated => {
            let g = generate()?;
            (
                vec![g.server_cert.clone()],
                g.server_key.clone_key(),
                Some(g),
            )
        }
        CertSource::Pem { cert_chain, key } => (load_certs(cert_chain)?, load_key(key)?, None),
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &settings.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::RequireGenerated | ClientAuth::RequireFrom(_) => {
            let mut roots = RootCertStore::empty();
            let cas = match &settings.client_auth {
                ClientAuth::RequireFrom(path) => load_certs(path)?,
                _ => vec![
                    generated
                        .as_ref()
                        .ok_or(TlsError::NoGeneratedCa)?
                        .ca_cert
                        .clone(),
                ],
            };
            for ca in cas {
                roots.add(ca).map_err(|e| TlsError::Config(e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::Config(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let server = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(TlsMaterial {
        server: Arc::new(server),
        ca_pem: generated.as_ref().map(|g| g.ca_pem.clone()),
        client_cert_pem: generated.map(|g| (g.client_cert_pem, g.client_key_pem)),
    })
}

struct Generated {
    ca_cert: CertificateDer<'static>,
    ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: PrivateKeyDer<'static>,
    client_cert_pem: String,
    client_key_pem: String,
}

fn generate() -> Result<Generated, TlsError> {
    let err = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "ngsim test CA (synthetic, not trusted)",
    );
    let ca_key = rcgen::KeyPair::generate().map_err(err)?;
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(err)?;

    let server_key = rcgen::KeyPair::generate().map_err(err)?;
    let mut server_params =
        rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
            .map_err(err)?;
    server_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ngsim MLLPS");
    let server_cert = server_params.signed_by(&server_key, &ca).map_err(err)?;

    let client_key = rcgen::KeyPair::generate().map_err(err)?;
    let mut client_params =
        rcgen::CertificateParams::new(vec!["ngsim-client".into()]).map_err(err)?;
    client_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ngsim test client");
    client_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &ca).map_err(err)?;

    Ok(Generated {
        ca_cert: ca.der().clone(),
        ca_pem: ca.pem(),
        server_cert: server_cert.der().clone(),
        server_key: PrivateKeyDer::try_from(server_key.serialize_der())
            .map_err(|e| TlsError::Generate(e.to_string()))?,
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    })
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_err = |message: String| TlsError::Pem {
        what: "certificates",
        path: path.to_owned(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem_err("no CERTIFICATE block found".into()));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Pem {
        what: "private key",
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// A client configuration for an outbound MLLPS destination (TLS 1.2 and 1.3
/// only): trust exactly the CA certificates in `ca_pem`, and present
/// `client` (certificate chain PEM, private key PEM) when it is set.
pub fn client_config(
    ca_pem: &[u8],
    client: Option<(&[u8], &[u8])>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let pem = |what: &'static str, e: String| TlsError::Pem {
        what,
        path: PathBuf::from("<inline PEM>"),
        message: e,
    };
    let cas = certs_from_slice(ca_pem).map_err(|e| pem("CA certificates", e))?;
    let client = match client {
        None => None,
        Some((chain, key)) => Some((
            certs_from_slice(chain).map_err(|e| pem("client certificate", e))?,
            PrivateKeyDer::from_pem_slice(key).map_err(|e| pem("client key", e.to_string()))?,
        )),
    };
    build_client(cas, client)
}

/// [`client_config`] from PEM files.
pub fn client_config_from_files(
    ca: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let client = match client {
        None => None,
        Some((chain, key)) => Some((load_certs(chain)?, load_key(key)?)),
    };
    build_client(load_certs(ca)?, client)
}

fn certs_from_slice(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no CERTIFICATE block found".into());
    }
    Ok(certs)
}

type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn build_client(
    cas: Vec<CertificateDer<'static>>,
    client: Option<ClientIdentity>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    for ca in cas {
        roots.add(ca).map_err(|e| TlsError::Config(e.to_string()))?;
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| TlsError::Config(e.to_string()))?,
    };
    Ok(Arc::new(config))
}
