//! MLLPS: the same ACK behaviour over TLS, and mutual TLS.

#[path = "mllp_support.rs"]
mod support;

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use simulator::journal::Surface;
use simulator::tls::{CertSource, ClientAuth, TlsSettings};
use support::*;
use tokio::io::AsyncReadExt;

async fn tls_sim(client_auth: ClientAuth) -> simulator::RunningSimulator {
    simulator::Simulator::builder()
        .patients(20)
        .mllps(
            LOOPBACK.parse().unwrap(),
            TlsSettings {
                cert: CertSource::Generated,
                client_auth,
            },
        )
        .start()
        .await
        .unwrap()
}

fn client(sim: &simulator::RunningSimulator, with_cert: bool) -> Arc<rustls::ClientConfig> {
    let m = sim.mllps_tls().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(m.ca_pem.as_deref().unwrap().as_bytes()).unwrap())
        .unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    Arc::new(match (with_cert, &m.client_cert_pem) {
        (true, Some((cert, key))) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        _ => b.with_no_client_auth(),
    })
}

async fn connect_tls(
    sim: &simulator::RunningSimulator,
    with_cert: bool,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(sim.mllps_addr().unwrap()).await?;
    tokio_rustls::TlsConnector::from(client(sim, with_cert))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

#[tokio::test]
async fn same_ack_behaviour_over_tls() {
    let sim = tls_sim(ClientAuth::None).await;
    assert!(sim.mllp_addr().is_none());
    let (mrn, _, _) = patient(&sim, 1);
    let mut s = connect_tls(&sim, false).await.unwrap();
    let first = exchange(&mut s, &oru(&mrn, "T1"), 1).await;
    assert_eq!(msa(&first[0]), ("AA".into(), "T1".into(), String::new()));
    assert_eq!(
        exchange(&mut s, &oru(&mrn, "T1"), 1).await,
        first,
        "duplicate"
    );
    assert_eq!(msa(&exchange(&mut s, &oru("0", "T2"), 1).await[0]).0, "AE");
    let m = format!("{}PID|1\r", msh("MFN^M02", "T3", "2.3", ""));
    assert_eq!(msa(&exchange(&mut s, m.as_bytes(), 1).await[0]).2, "200");
    eventually(|| entries(&sim, Surface::MllpIn).len() == 4).await;
}

#[tokio::test]
async fn mutual_tls_is_enforced() {
    let sim = tls_sim(ClientAuth::RequireGenerated).await;
    let (mrn, _, _) = patient(&sim, 1);
    // Without a client certificate the server refuses (at the handshake or
    // at the first read, depending on the TLS version).
    match connect_tls(&sim, false).await {
        Err(_) => {}
        Ok(mut s) => {
            tokio::io::AsyncWriteExt::write_all(&mut s, &frame(&oru(&mrn, "M0")))
                .await
                .ok();
            let mut b = Vec::new();
            let r = s.read_to_end(&mut b).await;
            assert!(
                r.is_err() || b.is_empty(),
                "no ACK without a client certificate"
            );
        }
    }
    eventually(|| {
        entries(&sim, Surface::MllpIn)
            .iter()
            .any(|e| e.mllp().unwrap().outcome == "tls-failed")
    })
    .await;
    let mut s = connect_tls(&sim, true).await.unwrap();
    assert_eq!(msa(&exchange(&mut s, &oru(&mrn, "M1"), 1).await[0]).0, "AA");
}
