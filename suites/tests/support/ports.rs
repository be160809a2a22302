//! Loopback addresses for an embedded simulator that must listen where the
//! SUT was configured to call, so the port is chosen before `ngsim run`
//! starts.
//!
//! A port from `bind(0)` is an ephemeral one: between dropping the probe and
//! ngsim's own bind, any outgoing connection of the test (the reference SUT
//! and runner make many) may take it as its local port, and the bind fails
//! with "address in use". Ports below the kernel's ephemeral range are never
//! handed out that way, so a free one stays free unless something binds it
//! by number.

use std::net::{SocketAddr, TcpListener};

/// `n` distinct free loopback addresses below the ephemeral port range.
#[allow(dead_code)] // not every test binary that includes this file uses both
pub fn free_addrs(n: usize) -> Vec<SocketAddr> {
    let ephemeral_low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let (low, span) = (10_000u32, ephemeral_low.saturating_sub(10_000).max(1));
    let mut seed = u64::from(std::process::id())
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    // Hold every probe until all are chosen, so the addresses are distinct.
    let mut held = Vec::with_capacity(n);
    for _ in 0..10_000 {
        if held.len() == n {
            break;
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let port = low + ((seed >> 33) as u32 % span);
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port as u16)) {
            held.push(l);
        }
    }
    assert_eq!(
        held.len(),
        n,
        "no free loopback ports below {ephemeral_low}"
    );
    held.iter().map(|l| l.local_addr().unwrap()).collect()
}

/// A loopback port that refuses connections for as long as the returned
/// socket lives: bound, so no parallel test can take it, but not listening.
/// (Binding a listener and dropping it left a window in which another test
/// could take the port.)
#[allow(dead_code)] // not every test binary that includes this file uses both
pub fn refused_port() -> (tokio::net::TcpSocket, u16) {
    let s = tokio::net::TcpSocket::new_v4().unwrap();
    s.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = s.local_addr().unwrap().port();
    (s, port)
}
