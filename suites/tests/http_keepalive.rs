//! The runner's and reference integrations' HTTP clients drop idle pooled
//! connections before a server would (`suites::http_client`).
//!
//! The server here answers the first request on each connection and closes
//! the connection when a second request arrives on it, without answering:
//! what a client meets when it writes into a keep-alive connection just as
//! the server's idle timeout closes it. A client that keeps idle connections
//! for reqwest's default 90 s reuses the connection and fails; the
//! `http_client` one opens a new connection and succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Read one request head (up to the blank line); false on EOF or error.
async fn read_head(s: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// A server that answers one request per connection and drops the second;
/// returns its URL and the number of connections it accepted.
async fn one_answer_per_connection() -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if read_head(&mut s).await {
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
                // The next request finds the connection closing.
                let _ = read_head(&mut s).await;
            });
        }
    });
    (url, accepted)
}

async fn get_twice(http: reqwest::Client, url: String, gap: Duration) -> reqwest::Result<String> {
    let first = http.get(&url).send().await?.text().await?;
    assert_eq!(first, "ok");
    tokio::time::sleep(gap).await;
    http.get(&url).send().await?.text().await
}

#[tokio::test]
async fn idle_connections_are_dropped_before_the_server_drops_them() {
    let gap = suites::http_client::pool_idle_timeout() + Duration::from_secs(1);
    assert!(
        gap < simulator::server::HttpLimits::default().header_read_timeout,
        "the pool must let go before the simulator's keep-alive closes"
    );
    let (default_url, default_conns) = one_answer_per_connection().await;
    let (ours_url, our_conns) = one_answer_per_connection().await;
    let (default_client, ours) = tokio::join!(
        get_twice(reqwest::Client::new(), default_url, gap),
        get_twice(suites::http_client::client(), ours_url, gap),
    );
    // reqwest's default pool reuses the connection the server is closing.
    let e = default_client.expect_err("the stale connection was reused");
    assert!(e.is_request(), "{e:?}");
    assert_eq!(default_conns.load(Ordering::SeqCst), 1);
    // Ours let it go and opened a fresh one.
    assert_eq!(ours.expect("a fresh connection"), "ok");
    assert_eq!(our_conns.load(Ordering::SeqCst), 2);
}
