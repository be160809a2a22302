//! The HTTP clients the runner and the reference integrations talk to a
//! simulator (or a NextGen site) with.
//!
//! A server may close a keep-alive connection once it has sat idle for its
//! own timeout (the simulator: [`HttpLimits::header_read_timeout`], 10 s by
//! default). reqwest keeps idle connections for 90 s, so a request written
//! into a pooled connection just as the server closes it fails with
//! "connection closed before message completed", and a GET is not retried.
//! Dropping idle connections well before the server does means the client
//! is always the side that closes, and a reused connection is never one the
//! server is about to drop.

use std::time::Duration;

use simulator::server::HttpLimits;

/// How long an idle pooled connection is kept: half the simulator's
/// keep-alive (NextGen's own is not published).
pub fn pool_idle_timeout() -> Duration {
    HttpLimits::default().header_read_timeout / 2
}

/// A reqwest client builder with [`pool_idle_timeout`] set; callers add
/// their own options (redirect policy, timeouts).
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().pool_idle_timeout(pool_idle_timeout())
}

/// [`builder`] with nothing else set.
pub fn client() -> reqwest::Client {
    builder()
        .build()
        .expect("a reqwest client with default TLS and pool settings builds")
}
