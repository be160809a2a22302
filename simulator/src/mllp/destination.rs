//! Outbound destinations: where NextGen sends its feeds, over MLLP or MLLPS.
//!
//! The `--hl7-destination` form is `[APPLICATION=][mllp://|mllps://]HOST:PORT`;
//! an `mllps://` destination may name its own trust and identity with
//! `?ca=FILE&cert=FILE&key=FILE`, or take them from [`TlsFiles`] (the
//! `--hl7-destination-ca`, `--hl7-client-cert` and `--hl7-client-key` flags).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

/// An outbound destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Where to connect.
    pub addr: SocketAddr,
    /// MSH-5 receiving application; inbound messages whose MSH-3 equals it
    /// are not echoed back to this destination.
    pub application: String,
    /// MSH-6 receiving facility.
    pub facility: String,
    /// MLLPS: TLS to the destination (`None`: plain MLLP).
    pub tls: Option<ClientTls>,
}

/// TLS towards one destination: the name its certificate must carry and
/// the client configuration (trusted CAs, optional client certificate).
#[derive(Clone)]
pub struct ClientTls {
    /// Name checked against the destination's certificate (DNS name or IP).
    pub server_name: ServerName<'static>,
    /// Trust anchors and client identity (see [`crate::tls::client_config`]).
    pub config: Arc<ClientConfig>,
}

impl ClientTls {
    /// TLS checking the certificate against `server_name`.
    pub fn new(server_name: &str, config: Arc<ClientConfig>) -> Result<ClientTls, String> {
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| format!("bad TLS server name {server_name:?}: {e}"))?;
        Ok(ClientTls {
            server_name,
            config,
        })
    }
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for ClientTls {
    fn eq(&self, other: &Self) -> bool {
        self.server_name == other.server_name && Arc::ptr_eq(&self.config, &other.config)
    }
}

impl Eq for ClientTls {}

/// TLS files for `mllps://` destinations that name none of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificates (PEM) the destination's certificate must chain to.
    pub ca: Option<PathBuf>,
    /// Client certificate chain (PEM) to present.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub key: Option<PathBuf>,
}

impl Destination {
    /// A plain MLLP destination at `addr` with receiving application `INTEGRATION`.
    pub fn new(addr: SocketAddr) -> Destination {
        Destination {
            addr,
            application: "INTEGRATION".into(),
            facility: String::new(),
            tls: None,
        }
    }

    /// The same destination over TLS.
    pub fn with_tls(mut self, tls: ClientTls) -> Destination {
        self.tls = Some(tls);
        self
    }

    /// `ADDR`, or `mllps://ADDR` over TLS: the queue state's `destination`.
    pub fn label(&self) -> String {
        match self.tls {
            None => self.addr.to_string(),
            Some(_) => format!("mllps://{}", self.addr),
        }
    }

    /// Parse a plain `ADDR` or `APPLICATION=ADDR` (no TLS files at hand).
    pub fn parse(s: &str) -> Result<Destination, String> {
        Destination::parse_with(s, &TlsFiles::default())
    }

    /// Parse the `--hl7-destination` form; `mllps://` destinations load
    /// their TLS files (their own `?ca=…`, else `defaults`) now, so a bad
    /// file is reported before anything starts.
    pub fn parse_with(s: &str, defaults: &TlsFiles) -> Result<Destination, String> {
        let bad = |why: String| format!("bad HL7 destination {s:?}: {why}");
        let (app, rest) = match s.split_once('=') {
            Some((a, b)) if !a.contains("://") && !a.contains('?') => (Some(a), b),
            _ => (None, s),
        };
        let (tls, rest) = if let Some(r) = rest.strip_prefix("mllps://") {
            (true, r)
        } else {
            (false, rest.strip_prefix("mllp://").unwrap_or(rest))
        };
        let (hostport, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let addr = match hostport.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(e) => hostport
                .to_socket_addrs()
                .map_err(|_| bad(e.to_string()))?
                .next()
                .ok_or_else(|| bad("the host name resolves to no address".into()))?,
        };
        let mut d = Destination::new(addr);
        if let Some(a) = app {
            d.application = a.to_owned();
        }
        let mut files = defaults.clone();
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match k {
                "ca" => &mut files.ca,
                "cert" => &mut files.cert,
                "key" => &mut files.key,
                other => return Err(bad(format!("unknown option {other:?} (ca, cert, key)"))),
            };
            *slot = Some(PathBuf::from(v));
        }
        if !tls {
            if query.is_some() {
                return Err(bad("TLS options need an mllps:// destination".into()));
            }
            return Ok(d);
        }
        let ca = files.ca.as_deref().ok_or_else(|| {
            bad("an mllps:// destination needs a CA (`?ca=FILE` or --hl7-destination-ca)".into())
        })?;
        let client = match (&files.cert, &files.key) {
            (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
            (None, None) => None,
            _ => return Err(bad("a client certificate needs both cert and key".into())),
        };
        let config =
            crate::tls::client_config_from_files(ca, client).map_err(|e| bad(e.to_string()))?;
        let host = hostport
            .rsplit_once(':')
            .map_or(hostport, |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']');
        Ok(d.with_tls(ClientTls::new(host, config).map_err(bad)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let d = Destination::parse("127.0.0.1:2576").unwrap();
        assert_eq!(
            (d.application.as_str(), d.tls.is_none()),
            ("INTEGRATION", true)
        );
        let d = Destination::parse("LAB=mllp://127.0.0.1:2576").unwrap();
        assert_eq!(d.application, "LAB");
        assert_eq!(d.label(), "127.0.0.1:2576");
        let e = Destination::parse("mllps://localhost:2576").unwrap_err();
        assert!(e.contains("needs a CA"), "{e}");
        let e = Destination::parse("127.0.0.1:1?ca=x").unwrap_err();
        assert!(e.contains("mllps://"), "{e}");
        let e = Destination::parse("mllps://localhost:1?ca=/nonexistent.pem").unwrap_err();
        assert!(e.contains("/nonexistent.pem"), "{e}");
        assert!(Destination::parse("nowhere").is_err());
    }
}
