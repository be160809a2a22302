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

/// An MLLPS integration on loopback, as the outbound sender's destination:
/// answers every message with AA over TLS, with the server configuration
/// in `config` (swappable), and keeps what it received.
async fn tls_destination(
    config: Arc<parking_lot::Mutex<Arc<rustls::ServerConfig>>>,
) -> (std::net::SocketAddr, Inbox) {
    let l = tokio::net::TcpListener::bind(LOOPBACK).await.unwrap();
    let addr = l.local_addr().unwrap();
    let got = Inbox::default();
    let rec = got.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let acceptor = tokio_rustls::TlsAcceptor::from(config.lock().clone());
            let rec = rec.clone();
            tokio::spawn(async move {
                if let Ok(s) = acceptor.accept(tcp).await {
                    answer_aa(s, rec).await;
                }
            });
        }
    });
    (addr, got)
}

fn generated(client_auth: ClientAuth) -> simulator::tls::TlsMaterial {
    simulator::tls::server_config(&TlsSettings {
        cert: CertSource::Generated,
        client_auth,
    })
    .unwrap()
}

async fn sim_sending_over_tls(dest: simulator::mllp::Destination) -> simulator::RunningSimulator {
    simulator::Simulator::builder()
        .patients(20)
        .mllp_destinations([dest])
        .start()
        .await
        .unwrap()
}

fn out_outcomes(sim: &simulator::RunningSimulator) -> Vec<(String, String)> {
    entries(sim, Surface::MllpOut)
        .iter()
        .filter_map(|e| e.mllp())
        .map(|x| {
            let reason = x
                .notes
                .iter()
                .find(|n| n.k == "reason")
                .map(|n| n.v.to_string())
                .unwrap_or_default();
            (x.outcome.to_string(), reason)
        })
        .collect()
}

/// The sender delivers over TLS to a destination whose certificate chains to
/// the configured CA, presenting a client certificate it requires.
#[tokio::test]
async fn sender_delivers_over_mllps_with_a_client_certificate() {
    let server = generated(ClientAuth::RequireGenerated);
    let (addr, got) =
        tls_destination(Arc::new(parking_lot::Mutex::new(server.server.clone()))).await;
    let (cert, key) = server.client_cert_pem.clone().unwrap();
    let config = simulator::tls::client_config(
        server.ca_pem.as_deref().unwrap().as_bytes(),
        Some((cert.as_bytes(), key.as_bytes())),
    )
    .unwrap();
    let dest = simulator::mllp::Destination::new(addr)
        .with_tls(simulator::mllp::ClientTls::new("localhost", config).unwrap());
    let sim = sim_sending_over_tls(dest).await;
    publish_update(&sim, 3);
    eventually(|| sim.state().mllp.outbound.queues()[0].sent == 1).await;
    assert_eq!(got.lock().len(), 1);
    assert_eq!(out_outcomes(&sim), [("accepted".into(), String::new())]);
    let q = &sim.state().mllp.outbound.queues()[0];
    assert_eq!(q.destination, format!("mllps://{addr}"));
}

/// A destination whose certificate does not chain to the configured CA:
/// the handshake fails with a clear journaled reason and the message stays
/// queued; once the destination presents a trusted certificate, the resend
/// (same MSH-10) is delivered.
#[tokio::test]
async fn wrong_ca_is_journaled_and_the_message_is_retried_not_lost() {
    let trusted = generated(ClientAuth::None);
    let other = generated(ClientAuth::None);
    let serving = Arc::new(parking_lot::Mutex::new(other.server.clone()));
    let (addr, got) = tls_destination(serving.clone()).await;
    let config =
        simulator::tls::client_config(trusted.ca_pem.as_deref().unwrap().as_bytes(), None).unwrap();
    let dest = simulator::mllp::Destination::new(addr)
        .with_tls(simulator::mllp::ClientTls::new("localhost", config).unwrap());
    let sim = sim_sending_over_tls(dest).await;
    publish_update(&sim, 3);
    eventually(|| !out_outcomes(&sim).is_empty()).await;
    let (outcome, reason) = out_outcomes(&sim)[0].clone();
    assert_eq!(outcome, "queued");
    assert!(
        reason.contains("TLS handshake with localhost") && reason.contains("certificate"),
        "{reason}"
    );
    assert!(
        got.lock().is_empty(),
        "nothing delivered to an untrusted peer"
    );
    // The destination now presents the certificate the sender trusts.
    *serving.lock() = trusted.server.clone();
    eventually(|| sim.state().mllp.outbound.queues()[0].sent == 1).await;
    let q = &sim.state().mllp.outbound.queues()[0];
    assert!(q.retries >= 1 && q.failed == 0, "{q:?}");
    assert_eq!(got.lock().len(), 1, "delivered once, after the retry");
    let outcomes = out_outcomes(&sim);
    assert_eq!(outcomes.last().unwrap().0, "accepted");
    let ids: Vec<_> = entries(&sim, Surface::MllpOut)
        .iter()
        .filter_map(|e| e.mllp().and_then(|x| x.msh10.clone()))
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "resends keep MSH-10");
}
