//! Records what each connection saw: an HDR histogram of ACK latency, a
//! throughput series, and error counts. Each connection has its own recorder
//! (no locking on the hot path); they are merged when the run ends.

use std::time::Duration;

use hdrhistogram::Histogram;
use reports::{HistogramBucket, Metric, SeriesPoint};
use serde::{Deserialize, Serialize};

/// Width of one throughput-series bucket.
pub const SERIES_BUCKET: Duration = Duration::from_millis(100);
/// Highest latency the histogram tracks exactly (larger values are clamped).
const MAX_TRACKED_US: u64 = 3_600_000_000;

/// Why a message did not count as acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// AE, AR, CE or CR.
    Nak,
    /// No ACK within the timeout.
    Timeout,
    /// The ACK's MSA-2 named another message.
    WrongControlId,
    /// The reply was not a readable ACK.
    Unreadable,
    /// Connect, write or read failed.
    Connection,
}

/// Error counts by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    pub nak: u64,
    pub timeout: u64,
    pub wrong_control_id: u64,
    pub unreadable: u64,
    pub connection: u64,
}

impl ErrorCounts {
    /// All errors.
    pub fn total(&self) -> u64 {
        self.nak + self.timeout + self.wrong_control_id + self.unreadable + self.connection
    }

    fn add(&mut self, o: &ErrorCounts) {
        self.nak += o.nak;
        self.timeout += o.timeout;
        self.wrong_control_id += o.wrong_control_id;
        self.unreadable += o.unreadable;
        self.connection += o.connection;
    }
}

/// One connection's (or, merged, the run's) record.
#[derive(Debug, Clone)]
pub struct Recorder {
    latency_us: Histogram<u64>,
    /// Acknowledged messages per [`SERIES_BUCKET`] since the run started.
    acked_per_bucket: Vec<u64>,
    pub(crate) sent: u64,
    pub(crate) errors: ErrorCounts,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, MAX_TRACKED_US, 3)
                .expect("static histogram bounds are valid"),
            acked_per_bucket: Vec::new(),
            sent: 0,
            errors: ErrorCounts::default(),
        }
    }
}

impl Recorder {
    /// A message was written to the wire.
    pub fn sent(&mut self) {
        self.sent += 1;
    }

    /// A positive ACK arrived `latency` after the message was due, `at` after
    /// the run started.
    pub fn acked(&mut self, latency: Duration, at: Duration) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, MAX_TRACKED_US);
        self.latency_us.saturating_record(us);
        let bucket = (at.as_millis() / SERIES_BUCKET.as_millis()) as usize;
        if self.acked_per_bucket.len() <= bucket {
            self.acked_per_bucket.resize(bucket + 1, 0);
        }
        self.acked_per_bucket[bucket] += 1;
    }

    /// A message failed.
    pub fn error(&mut self, kind: ErrorKind) {
        let e = &mut self.errors;
        match kind {
            ErrorKind::Nak => e.nak += 1,
            ErrorKind::Timeout => e.timeout += 1,
            ErrorKind::WrongControlId => e.wrong_control_id += 1,
            ErrorKind::Unreadable => e.unreadable += 1,
            ErrorKind::Connection => e.connection += 1,
        }
    }

    /// Folds another recorder into this one.
    pub fn merge(&mut self, other: &Recorder) {
        self.latency_us
            .add(&other.latency_us)
            .expect("recorders share bounds");
        if self.acked_per_bucket.len() < other.acked_per_bucket.len() {
            self.acked_per_bucket
                .resize(other.acked_per_bucket.len(), 0);
        }
        for (a, b) in self
            .acked_per_bucket
            .iter_mut()
            .zip(&other.acked_per_bucket)
        {
            *a += b;
        }
        self.sent += other.sent;
        self.errors.add(&other.errors);
    }

    /// The run's figures, given how long it took.
    pub fn figures(&self, elapsed: Duration) -> Figures {
        let h = &self.latency_us;
        let ms = |us: u64| us as f64 / 1000.0;
        let acked = h.len();
        let latency = LatencyMs {
            mean: if acked == 0 {
                f64::NAN
            } else {
                h.mean() / 1000.0
            },
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        };
        let secs = elapsed.as_secs_f64();
        Figures {
            sent: self.sent,
            acked,
            errors: self.errors,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            throughput: if secs > 0.0 { acked as f64 / secs } else { 0.0 },
            latency_ms: latency,
            histogram: self.histogram(),
            series: self.series(),
        }
    }

    /// Log-scale buckets (powers of two from 16 µs), up to the maximum.
    fn histogram(&self) -> Vec<HistogramBucket> {
        if self.latency_us.is_empty() {
            return Vec::new();
        }
        self.latency_us
            .iter_log(16, 2.0)
            .map(|v| HistogramBucket {
                upper_us: v.value_iterated_to(),
                count: v.count_since_last_iteration(),
            })
            .collect()
    }

    /// Acknowledged messages per second, one point per bucket.
    fn series(&self) -> Vec<SeriesPoint> {
        let per_sec = 1000.0 / SERIES_BUCKET.as_millis() as f64;
        self.acked_per_bucket
            .iter()
            .enumerate()
            .map(|(i, n)| SeriesPoint {
                t_ms: (i as u64 + 1) * SERIES_BUCKET.as_millis() as u64,
                value: *n as f64 * per_sec,
            })
            .collect()
    }
}

/// ACK latency quantiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyMs {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// What one repetition of a load run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Messages written.
    pub sent: u64,
    /// Messages positively acknowledged.
    pub acked: u64,
    pub errors: ErrorCounts,
    pub elapsed_ms: u64,
    /// Acknowledged messages per second over the whole run.
    pub throughput: f64,
    pub latency_ms: LatencyMs,
    #[serde(default)]
    pub histogram: Vec<HistogramBucket>,
    #[serde(default)]
    pub series: Vec<SeriesPoint>,
}

impl Figures {
    /// The latency as a report metric.
    pub fn latency_metric(&self, name: &str) -> Metric {
        let l = &self.latency_ms;
        Metric {
            name: name.to_owned(),
            unit: "ms".to_owned(),
            count: self.acked,
            mean: l.mean,
            p50: l.p50,
            p90: l.p90,
            p99: l.p99,
            p999: l.p999,
            max: l.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_histogram_and_series_follow_the_samples() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 0..900 {
            a.sent();
            a.acked(Duration::from_millis(2), Duration::from_millis(i));
        }
        for i in 0..100 {
            b.sent();
            b.acked(Duration::from_millis(20), Duration::from_millis(i));
        }
        b.error(ErrorKind::Nak);
        b.error(ErrorKind::Timeout);
        a.merge(&b);
        let f = a.figures(Duration::from_secs(1));
        assert_eq!((f.sent, f.acked, f.errors.total()), (1000, 1000, 2));
        assert!((f.latency_ms.p50 - 2.0).abs() < 0.01, "{:?}", f.latency_ms);
        assert!((f.latency_ms.p99 - 20.0).abs() < 0.05, "{:?}", f.latency_ms);
        assert!((f.throughput - 1000.0).abs() < 1e-9);
        assert_eq!(f.histogram.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert!(
            f.histogram
                .windows(2)
                .all(|w| w[0].upper_us < w[1].upper_us)
        );
        // Acks at 0..900 ms: nine 100 ms buckets; the first holds 200 (both
        // recorders), i.e. 2000 per second.
        assert_eq!(f.series.len(), 9);
        assert_eq!(f.series[0].value, 2000.0);
        assert_eq!(f.series[1].value, 1000.0);
    }

    #[test]
    fn an_empty_run_has_no_latency() {
        let f = Recorder::default().figures(Duration::from_secs(1));
        assert_eq!(f.acked, 0);
        assert!(f.latency_ms.mean.is_nan());
        assert!(f.histogram.is_empty());
    }
}
