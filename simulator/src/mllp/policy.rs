//! Which acknowledgments a message gets under the active profile.
//!
//! - Profile `ack-mode = original`: one application ACK, `AA`/`AE`/`AR`,
//!   whatever MSH-15/16 say.
//! - Profile `ack-mode = enhanced`: when MSH-15/16 are both blank, original
//!   mode; otherwise an accept ACK (`CA`/`CR`) per MSH-15, then, once
//!   committed, an application ACK (`AA`/`AE`) per MSH-16 (table 0155).
//! - `msh15-gate` (Mirth's "MSH-15 ACK Accept"): MSH-15 alone decides whether
//!   one original-mode ACK is sent (`NE` never, `ER` on error, `SU` on
//!   success, `AL` or blank always).
//!
//! Rejections (`AR`, or `CR` at the accept level) are for an MSH-9 not in
//! `accepted-messages` (ERR-3 200) or an MSH-12 not in `accepted-versions`
//! (ERR-3 203); processing errors are `AE`.

use super::header::Header;
use crate::hl7::ack::{AckCondition, AckPolicy, ErrorLocation, codes};
use crate::hl7::{AckCode, AckMode};
use crate::profile::{AckMode as ProfileAckMode, Hl7Profile};

/// A reason to answer with an error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// HL7 table 0357 code for ERR-3 (e.g. 200, 203, 204).
    pub code: u16,
    /// ERR-2 location.
    pub location: Option<ErrorLocation>,
    /// Diagnostic text (ERR-8 / MSA-3 for 2.3).
    pub text: String,
}

impl Problem {
    /// A problem at `segment`-`field` (first occurrence).
    pub fn at(code: u16, segment: &[u8; 3], field: usize, text: impl Into<String>) -> Problem {
        Problem {
            code,
            location: Some(ErrorLocation {
                segment: *segment,
                sequence: 1,
                field,
            }),
            text: text.into(),
        }
    }
}

/// How processing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted and applied.
    Accepted,
    /// Processing error (AE).
    Error,
    /// Rejected before processing (AR / CR).
    Rejected,
}

impl Outcome {
    /// The journal word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Error => "error",
            Outcome::Rejected => "rejected",
        }
    }
}

/// The ACK frames to send, in order: an accept ACK, an application ACK, both
/// or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    /// Enhanced-mode accept ACK (`CA`/`CE`/`CR`).
    pub accept: Option<AckCode>,
    /// Application ACK (`AA`/`AE`/`AR`).
    pub application: Option<AckCode>,
}

impl Plan {
    /// The codes in wire order.
    pub fn codes(&self) -> impl Iterator<Item = AckCode> {
        self.accept.into_iter().chain(self.application)
    }
}

fn original(outcome: Outcome) -> AckCode {
    match outcome {
        Outcome::Accepted => AckCode::AA,
        Outcome::Error => AckCode::AE,
        Outcome::Rejected => AckCode::AR,
    }
}

/// The ACK plan for `m` under profile `p`, given how processing ended.
pub fn plan(p: &Hl7Profile, h: &Header<'_>, outcome: Outcome) -> Plan {
    let success = outcome == Outcome::Accepted;
    if p.msh15_gate {
        let send = AckCondition::parse(h.accept_ack)
            .unwrap_or(AckCondition::Always)
            .requires(success);
        return Plan {
            accept: None,
            application: send.then(|| original(outcome)),
        };
    }
    let policy = AckPolicy::from_fields(h.accept_ack, h.application_ack);
    if p.ack_mode == ProfileAckMode::Original || policy.mode == AckMode::Original {
        return Plan {
            accept: None,
            application: Some(original(outcome)),
        };
    }
    let committed = outcome != Outcome::Rejected;
    let accept = policy.wants_accept_ack(committed).then_some(if committed {
        AckCode::CA
    } else {
        AckCode::CR
    });
    let application = if committed {
        policy
            .wants_application_ack(success)
            .then(|| original(outcome))
    } else if accept.is_none() && policy.wants_application_ack(false) {
        Some(AckCode::AR)
    } else {
        None
    };
    Plan {
        accept,
        application,
    }
}

/// `AR`-level checks: MSH-9 in `accepted-messages`, MSH-12 in `accepted-versions`.
pub fn admit(p: &Hl7Profile, h: &Header<'_>) -> Result<(), Problem> {
    let (kind, event) = (h.message_code, h.trigger_event);
    let known = p.accepted_messages.iter().any(|a| {
        let mut it = a.split('^');
        it.next().map(str::as_bytes) == Some(kind) && it.next().map(str::as_bytes) == Some(event)
    });
    if !known {
        return Err(Problem::at(
            codes::UNSUPPORTED_MESSAGE_TYPE,
            b"MSH",
            9,
            format!(
                "message type {}^{} is not accepted",
                String::from_utf8_lossy(kind),
                String::from_utf8_lossy(event)
            ),
        ));
    }
    let version = h.version;
    if !p.accepted_versions.iter().any(|v| v.as_bytes() == version) {
        return Err(Problem::at(
            codes::UNSUPPORTED_VERSION,
            b"MSH",
            12,
            format!(
                "version {} is not accepted",
                String::from_utf8_lossy(version)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7::Message;

    fn msg(msh15: &str, msh16: &str) -> Vec<u8> {
        format!("MSH|^~\\&|A|B|C|D|20260101||ADT^A04|1|P|2.5.1|||{msh15}|{msh16}\rPID|1\r")
            .into_bytes()
    }

    fn codes_of(p: &Hl7Profile, raw: &[u8], o: Outcome) -> Vec<&'static str> {
        let m = Message::parse(raw).unwrap();
        plan(p, &Header::read(&m), o)
            .codes()
            .map(AckCode::as_str)
            .collect()
    }

    #[test]
    fn modes_and_gate() {
        let mut p = Hl7Profile::default();
        assert_eq!(codes_of(&p, &msg("AL", "AL"), Outcome::Accepted), ["AA"]);
        p.ack_mode = ProfileAckMode::Enhanced;
        assert_eq!(
            codes_of(&p, &msg("AL", "AL"), Outcome::Accepted),
            ["CA", "AA"]
        );
        assert_eq!(codes_of(&p, &msg("", ""), Outcome::Error), ["AE"]);
        assert_eq!(codes_of(&p, &msg("AL", "NE"), Outcome::Accepted), ["CA"]);
        assert_eq!(codes_of(&p, &msg("NE", "ER"), Outcome::Accepted), [""; 0]);
        assert_eq!(codes_of(&p, &msg("NE", "ER"), Outcome::Error), ["AE"]);
        assert_eq!(codes_of(&p, &msg("AL", "AL"), Outcome::Rejected), ["CR"]);
        assert_eq!(codes_of(&p, &msg("NE", "AL"), Outcome::Rejected), ["AR"]);
        assert_eq!(codes_of(&p, &msg("NE", "NE"), Outcome::Accepted), [""; 0]);
        p.msh15_gate = true;
        assert_eq!(codes_of(&p, &msg("NE", "AL"), Outcome::Accepted), [""; 0]);
        assert_eq!(codes_of(&p, &msg("ER", "AL"), Outcome::Error), ["AE"]);
        assert_eq!(codes_of(&p, &msg("ER", ""), Outcome::Accepted), [""; 0]);
        assert_eq!(codes_of(&p, &msg("SU", ""), Outcome::Accepted), ["AA"]);
        assert_eq!(codes_of(&p, &msg("", ""), Outcome::Rejected), ["AR"]);
    }
}
