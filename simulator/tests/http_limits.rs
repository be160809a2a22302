//! Limits on the HTTP listener: connection cap, slowloris, header and body size.
//! Each answers with HTTP's own error, and nothing hangs.

use std::time::Duration;

use simulator::Simulator;
use simulator::server::HttpLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn sim(limits: HttpLimits) -> simulator::RunningSimulator {
    Simulator::builder()
        .http_limits(limits)
        .start()
        .await
        .unwrap()
}

/// Read until the peer closes (bounded, so a bug shows as a failure, not a hang).
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut out))
        .await
        .expect("the server closes");
    out
}

#[tokio::test]
async fn connections_over_the_cap_get_429_with_retry_after() {
    let s = sim(HttpLimits {
        max_connections: 2,
        ..HttpLimits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(s.http_addr()).await.unwrap();
        // A complete request, keep-alive: the connection stays open and counted.
        tcp.write_all(b"GET /_ngsim/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        tcp.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        held.push(tcp);
    }
    let mut third = TcpStream::connect(s.http_addr()).await.unwrap();
    let reply = String::from_utf8(read_to_close(&mut third).await).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 429 Too Many Requests\r\n"),
        "{reply}"
    );
    assert!(reply.contains("Retry-After: 1\r\n"));
    // A slot frees when a held connection closes.
    drop(held.pop());
    let mut ok = None;
    for _ in 0..50 {
        let r = reqwest::get(format!("{}/_ngsim/health", s.base_url())).await;
        if let Ok(r) = r {
            if r.status() == 200 {
                ok = Some(());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok.is_some(), "a freed slot is reused");
}

#[tokio::test]
async fn a_slowloris_header_is_cut_off() {
    let s = sim(HttpLimits {
        header_read_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    })
    .await;
    let mut tcp = TcpStream::connect(s.http_addr()).await.unwrap();
    tcp.write_all(b"GET /_ngsim/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // Never finish the head: the server must close the connection by itself.
    let reply = read_to_close(&mut tcp).await;
    assert!(
        !reply.starts_with(b"HTTP/1.1 200"),
        "no answer to an incomplete head"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let s = sim(HttpLimits {
        header_read_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    })
    .await;
    let mut tcp = TcpStream::connect(s.http_addr()).await.unwrap();
    tcp.write_all(b"GET /_ngsim/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let reply = read_to_close(&mut tcp).await;
    assert!(
        reply.starts_with(b"HTTP/1.1 200"),
        "answered, then closed when idle"
    );
}

#[tokio::test]
async fn oversized_heads_and_bodies_get_431_and_413() {
    let s = sim(HttpLimits {
        max_header_bytes: 8192,
        max_body_bytes: 1024,
        ..HttpLimits::default()
    })
    .await;
    let mut tcp = TcpStream::connect(s.http_addr()).await.unwrap();
    let big = "a".repeat(20_000);
    tcp.write_all(
        format!("GET /_ngsim/health HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let reply = read_to_close(&mut tcp).await;
    assert!(
        reply.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&reply[..reply.len().min(80)])
    );

    let r = reqwest::Client::new()
        .put(format!("{}/_ngsim/faults", s.base_url()))
        .body(vec![b' '; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn shutdown_waits_for_in_flight_exchanges_and_stops_listening() {
    let s = sim(HttpLimits::default()).await;
    let addr = s.http_addr();
    s.shutdown().await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is gone"
    );
}
