//! What a load run does: the target, the pacing, the message mix and the stop
//! condition. Built from CLI flags or from a load scenario file.

use std::net::SocketAddr;
use std::time::Duration;

use super::error::{Result, invalid};
use serde::{Deserialize, Serialize};
use simulator::hl7::generators::MessageType;

/// How messages are paced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Pacing {
    /// Closed loop: each connection sends its next message as soon as the
    /// previous one is acknowledged. Measures capacity.
    AsFastAsPossible,
    /// Open loop at a fixed total rate (messages per second across all
    /// connections). Latency is measured from each message's *scheduled* send
    /// time, so a stalled receiver cannot hide its queueing delay
    /// (coordinated omission).
    Fixed {
        /// Messages per second.
        rate: f64,
    },
    /// Open loop whose rate rises linearly from `from` to `to` over the run.
    Ramp {
        /// Starting rate, messages per second.
        from: f64,
        /// Final rate, messages per second.
        to: f64,
    },
}

/// When the run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopAfter {
    /// After this many messages have been sent.
    Messages(u64),
    /// After this long.
    #[serde(with = "simulator::profile::duration")]
    Duration(Duration),
}

/// One load run against an MLLP receiver (the SUT).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSpec {
    /// The SUT's MLLP listener.
    pub target: SocketAddr,
    /// Concurrent connections, each stop-and-wait as real senders are.
    pub connections: usize,
    /// Pacing.
    pub pacing: Pacing,
    /// Stop condition.
    pub stop: StopAfter,
    /// Message types and their relative weights.
    pub mix: Vec<(String, u32)>,
    /// How long to wait for each ACK before counting a timeout and
    /// reconnecting (as Mirth does after a timeout).
    #[serde(with = "simulator::profile::duration")]
    pub ack_timeout: Duration,
    /// Seed of the message content.
    pub seed: u64,
}

impl LoadSpec {
    /// The default mix of a NextGen outbound feed: registrations, scheduling,
    /// results and immunizations.
    pub fn default_mix() -> Vec<(String, u32)> {
        [
            ("ADT^A04", 3),
            ("ADT^A08", 2),
            ("SIU^S12", 2),
            ("ORU^R01", 2),
            ("VXU^V04", 1),
        ]
        .into_iter()
        .map(|(t, w)| (t.to_owned(), w))
        .collect()
    }

    /// Checks the spec is runnable.
    pub fn validate(&self) -> Result<()> {
        if self.connections == 0 {
            return Err(invalid("connections must be at least 1"));
        }
        match self.pacing {
            Pacing::Fixed { rate } if !(rate > 0.0 && rate.is_finite()) => {
                return Err(invalid(format!(
                    "rate must be a positive number of messages per second, got {rate}"
                )));
            }
            Pacing::Ramp { from, to }
                if !(from >= 0.0 && to > 0.0 && from.is_finite() && to.is_finite()) =>
            {
                return Err(invalid(format!(
                    "a ramp needs 0 <= from and 0 < to (messages per second), got {from}..{to}"
                )));
            }
            _ => {}
        }
        match self.stop {
            StopAfter::Messages(0) => {
                return Err(invalid("the run must send at least one message"));
            }
            StopAfter::Duration(d) if d.is_zero() => {
                return Err(invalid("the run duration must be positive"));
            }
            _ => {}
        }
        if self.mix.is_empty() || self.mix.iter().all(|(_, w)| *w == 0) {
            return Err(invalid("the message mix is empty"));
        }
        for (t, _) in &self.mix {
            message_type(t)?;
        }
        Ok(())
    }

    /// The mix as generator kinds with cumulative weights, for drawing.
    pub(crate) fn weighted_kinds(&self) -> Result<Vec<(MessageType, u32)>> {
        let mut total = 0u32;
        let mut out = Vec::with_capacity(self.mix.len());
        for (t, w) in &self.mix {
            if *w == 0 {
                continue;
            }
            total = total
                .checked_add(*w)
                .ok_or_else(|| invalid("mix weights overflow"))?;
            out.push((message_type(t)?, total));
        }
        Ok(out)
    }

    /// The run length used to stretch a ramp: the duration, or for a message
    /// count the time the ramp takes to send that many.
    pub(crate) fn ramp_length(&self) -> Option<Duration> {
        let Pacing::Ramp { from, to } = self.pacing else {
            return None;
        };
        Some(match self.stop {
            StopAfter::Duration(d) => d,
            StopAfter::Messages(n) => Duration::from_secs_f64(2.0 * n as f64 / (from + to)),
        })
    }

    /// When message number `k` (0-based) is due, from the start of the run;
    /// `None` in closed loop.
    pub(crate) fn scheduled_at(&self, k: u64) -> Option<Duration> {
        match self.pacing {
            Pacing::AsFastAsPossible => None,
            Pacing::Fixed { rate } => Some(Duration::from_secs_f64(k as f64 / rate)),
            Pacing::Ramp { from, to } => {
                // Messages sent by time t: n(t) = from·t + (to-from)·t²/(2T).
                // Solve n(t) = k for t.
                let length = self.ramp_length()?.as_secs_f64();
                let a = (to - from) / (2.0 * length);
                let k = k as f64;
                let t = if a.abs() < f64::EPSILON {
                    k / from
                } else {
                    (-from + (from * from + 4.0 * a * k).sqrt()) / (2.0 * a)
                };
                Some(Duration::from_secs_f64(t.max(0.0)))
            }
        }
    }
}

/// Parses `ADT^A04` (or `adt-a04`) into a generator kind.
pub fn message_type(name: &str) -> Result<MessageType> {
    let normal = name.trim().to_ascii_uppercase().replace(['-', '_'], "^");
    MessageType::ALL
        .into_iter()
        .find(|k| {
            let (t, e, _) = k.code();
            normal.split_once('^') == Some((t, e))
        })
        .ok_or_else(|| {
            let known: Vec<String> = MessageType::ALL
                .iter()
                .map(|k| {
                    let (t, e, _) = k.code();
                    format!("{t}^{e}")
                })
                .collect();
            invalid(format!(
                "unknown message type `{name}` (known: {})",
                known.join(", ")
            ))
        })
}

/// Parses `ADT^A04=3,SIU^S12=1` (weights default to 1).
pub fn parse_mix(s: &str) -> Result<Vec<(String, u32)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|part| {
            let (name, weight) = match part.split_once('=') {
                Some((n, w)) => (
                    n.trim(),
                    w.trim().parse::<u32>().map_err(|_| {
                        invalid(format!(
                            "mix weight `{w}` in `{part}` is not a whole number"
                        ))
                    })?,
                ),
                None => (part.trim(), 1),
            };
            message_type(name)?;
            Ok((name.to_owned(), weight))
        })
        .collect()
}

/// Parses `100..2000` (messages per second) into a ramp.
pub fn parse_ramp(s: &str) -> Result<Pacing> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| invalid("a ramp is FROM..TO in messages per second, e.g. `100..2000`"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| invalid(format!("ramp bound `{v}` is not a number")))
    };
    Ok(Pacing::Ramp {
        from: num(a)?,
        to: num(b)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pacing: Pacing, stop: StopAfter) -> LoadSpec {
        LoadSpec {
            target: "127.0.0.1:1".parse().unwrap(),
            connections: 1,
            pacing,
            stop,
            mix: LoadSpec::default_mix(),
            ack_timeout: Duration::from_secs(1),
            seed: 1,
        }
    }

    #[test]
    fn fixed_rate_schedule_is_evenly_spaced() {
        let s = spec(Pacing::Fixed { rate: 1000.0 }, StopAfter::Messages(10));
        assert_eq!(s.scheduled_at(0), Some(Duration::ZERO));
        assert_eq!(s.scheduled_at(500), Some(Duration::from_millis(500)));
    }

    #[test]
    fn ramp_schedule_sends_the_count_over_the_ramp_length() {
        let s = spec(
            Pacing::Ramp {
                from: 100.0,
                to: 300.0,
            },
            StopAfter::Messages(2000),
        );
        // 2000 messages at an average of 200/s take 10 s.
        assert_eq!(s.ramp_length(), Some(Duration::from_secs(10)));
        let last = s.scheduled_at(2000).unwrap().as_secs_f64();
        assert!((last - 10.0).abs() < 1e-6, "{last}");
        // Faster at the end: the last 10% of messages take less than the first 10%.
        let first = s.scheduled_at(200).unwrap().as_secs_f64();
        let tail = last - s.scheduled_at(1800).unwrap().as_secs_f64();
        assert!(tail < first, "{tail} !< {first}");
    }

    #[test]
    fn mix_and_ramp_parse_with_clear_errors() {
        assert_eq!(
            parse_mix("ADT^A04=3, oru-r01").unwrap(),
            vec![("ADT^A04".to_owned(), 3), ("oru-r01".to_owned(), 1)]
        );
        let e = parse_mix("ADT^Z99=1").unwrap_err().to_string();
        assert!(e.contains("unknown message type `ADT^Z99`"), "{e}");
        let e = parse_mix("ADT^A04=x").unwrap_err().to_string();
        assert!(e.contains("not a whole number"), "{e}");
        assert!(parse_ramp("10..20").is_ok());
        assert!(parse_ramp("10").is_err());
    }

    #[test]
    fn validation_names_the_problem() {
        let mut s = spec(Pacing::Fixed { rate: 0.0 }, StopAfter::Messages(1));
        assert!(s.validate().unwrap_err().to_string().contains("rate"));
        s.pacing = Pacing::AsFastAsPossible;
        s.connections = 0;
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("connections")
        );
        s.connections = 1;
        s.stop = StopAfter::Messages(0);
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("at least one")
        );
    }
}
