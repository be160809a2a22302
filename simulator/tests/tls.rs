//! MLLPS TLS settings: modern versions only, generated or PEM certificates, and
//! optional client-certificate authentication.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use simulator::tls::{CertSource, ClientAuth, TlsSettings, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TLS echo server on an ephemeral port; returns its address.
async fn echo_server(settings: TlsSettings) -> (std::net::SocketAddr, simulator::tls::TlsMaterial) {
    let material = server_config(&settings).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(material.server.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 64];
                    if let Ok(n) = tls.read(&mut buf).await {
                        let _ = tls.write_all(&buf[..n]).await;
                        let _ = tls.shutdown().await;
                    }
                }
            });
        }
    });
    (addr, material)
}

fn client_config(
    ca_pem: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
    client_cert: Option<&(String, String)>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots);
    Arc::new(match client_cert {
        None => b.with_no_client_auth(),
        Some((cert, key)) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
    })
}

async fn round_trip(
    addr: std::net::SocketAddr,
    cfg: Arc<rustls::ClientConfig>,
) -> std::io::Result<Vec<u8>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await?;
    tls.write_all(b"\x0bMSH|^~\\&|\r\x1c\r").await?;
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await?;
    Ok(out)
}

#[tokio::test]
async fn tls12_and_tls13_work_with_the_generated_ca() {
    let (addr, m) = echo_server(TlsSettings::default()).await;
    let ca = m.ca_pem.as_deref().unwrap();
    for v in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let out = round_trip(addr, client_config(ca, &[v], None))
            .await
            .unwrap();
        assert_eq!(out, b"\x0bMSH|^~\\&|\r\x1c\r");
    }
}

#[tokio::test]
async fn tls10_client_hello_is_refused_with_an_alert() {
    let (addr, _) = echo_server(TlsSettings::default()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // A minimal TLS 1.0 ClientHello offering only TLS_RSA_WITH_AES_128_CBC_SHA.
    let mut hello = vec![0x03, 0x01];
    hello.extend([0x11; 32]);
    hello.extend([0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00]);
    let mut handshake = vec![0x01, 0x00, 0x00, u8::try_from(hello.len()).unwrap()];
    handshake.extend(hello);
    let mut record = vec![
        0x16,
        0x03,
        0x01,
        0x00,
        u8::try_from(handshake.len()).unwrap(),
    ];
    record.extend(handshake);
    tcp.write_all(&record).await.unwrap();
    let mut reply = Vec::new();
    let _ = tcp.read_to_end(&mut reply).await;
    assert_eq!(
        reply.first(),
        Some(&0x15),
        "expected a TLS alert record, got {reply:02x?}"
    );
}

#[tokio::test]
async fn client_certificates_are_enforced_when_required() {
    let settings = TlsSettings {
        cert: CertSource::Generated,
        client_auth: ClientAuth::RequireGenerated,
    };
    let (addr, m) = echo_server(settings).await;
    let ca = m.ca_pem.as_deref().unwrap();
    let versions = &[&rustls::version::TLS13];
    assert!(
        round_trip(addr, client_config(ca, versions, None))
            .await
            .is_err(),
        "no client cert must fail"
    );
    let out = round_trip(
        addr,
        client_config(ca, versions, m.client_cert_pem.as_ref()),
    )
    .await
    .unwrap();
    assert!(out.starts_with(b"\x0bMSH"));
}

#[test]
fn pem_files_load_and_bad_paths_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    let ok = TlsSettings {
        cert: CertSource::Pem {
            cert_chain: c.clone(),
            key: k,
        },
        client_auth: ClientAuth::None,
    };
    assert!(server_config(&ok).unwrap().ca_pem.is_none());
    let missing = dir.path().join("nope.pem");
    let bad = TlsSettings {
        cert: CertSource::Pem {
            cert_chain: c,
            key: missing,
        },
        client_auth: ClientAuth::None,
    };
    let e = server_config(&bad).unwrap_err().to_string();
    assert!(e.contains("private key") && e.contains("nope.pem"), "{e}");
}
