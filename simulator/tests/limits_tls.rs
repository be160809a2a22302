//! TLS posture of MLLPS: TLS 1.2+ only (see `tls.rs` for the TLS 1.0 refusal)
//! with a modern cipher list: AEAD suites only, and ECDHE key exchange for
//! TLS 1.2. A TLS 1.2 ClientHello offering only legacy suites (RSA key
//! exchange, CBC, 3DES, RC4) is refused with a handshake-failure alert,
//! while the same hello with one modern suite added gets a ServerHello.

use simulator::tls::{TlsSettings, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[test]
fn only_aead_suites_with_forward_secrecy_are_offered() {
    let material = server_config(&TlsSettings::default()).unwrap();
    let suites = &material.server.crypto_provider().cipher_suites;
    assert!(!suites.is_empty());
    for s in suites {
        let name = format!("{:?}", s.suite());
        assert!(
            name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"),
            "{name} is not an AEAD suite"
        );
        if s.tls13().is_none() {
            assert!(
                name.starts_with("TLS_ECDHE_"),
                "{name} lacks forward secrecy"
            );
        }
    }
}

/// An MLLPS-style acceptor on an ephemeral port that only runs handshakes.
async fn acceptor() -> std::net::SocketAddr {
    let material = server_config(&TlsSettings::default()).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(material.server.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    addr
}

/// A TLS 1.2 ClientHello offering `suites`, with the extensions an ECDHE
/// handshake needs (groups, point formats, signature algorithms).
fn client_hello_12(suites: &[u16]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend([0x5a; 32]);
    body.push(0); // no session id
    body.extend(u16::try_from(suites.len() * 2).unwrap().to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([0x01, 0x00]); // null compression
    let mut ext = Vec::new();
    // supported_groups: x25519, secp256r1, secp384r1
    ext.extend([
        0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
    ]);
    // ec_point_formats: uncompressed
    ext.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa p256/p384 sha256/384, rsa-pss sha256, rsa pkcs1 sha256
    ext.extend([
        0x00, 0x0d, 0x00, 0x0c, 0x00, 0x0a, 0x04, 0x03, 0x05, 0x03, 0x08, 0x04, 0x04, 0x01, 0x08,
        0x07,
    ]);
    body.extend(u16::try_from(ext.len()).unwrap().to_be_bytes());
    body.extend(ext);
    let mut hs = vec![0x01, 0x00];
    hs.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
    hs.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend(u16::try_from(hs.len()).unwrap().to_be_bytes());
    record.extend(hs);
    record
}

/// Send a hello and return the first record's type and first two payload bytes.
async fn first_record(addr: std::net::SocketAddr, hello: &[u8]) -> (u8, [u8; 2]) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(hello).await.unwrap();
    let mut head = [0u8; 7];
    tcp.read_exact(&mut head).await.unwrap();
    (head[0], [head[5], head[6]])
}

const LEGACY: &[u16] = &[
    0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
    0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
    0x009c, // TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy)
    0x000a, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
    0x0005, // TLS_RSA_WITH_RC4_128_SHA
    0xc013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0xc009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
];

#[tokio::test]
async fn a_tls12_hello_with_only_legacy_suites_gets_handshake_failure() {
    let addr = acceptor().await;
    let (kind, alert) = first_record(addr, &client_hello_12(LEGACY)).await;
    assert_eq!(kind, 0x15, "expected an alert record");
    assert_eq!(alert, [2, 40], "expected a fatal handshake_failure alert");
    // The same hello plus one modern suite is answered with a ServerHello,
    // so the refusal above is about the cipher list and nothing else.
    let mut modern = LEGACY.to_vec();
    modern.extend([0xc02b, 0xc02f]); // ECDHE_{ECDSA,RSA}_WITH_AES_128_GCM_SHA256
    let (kind, hs) = first_record(addr, &client_hello_12(&modern)).await;
    assert_eq!((kind, hs[0]), (0x16, 0x02), "expected a ServerHello");
}
