//! The practice session: `PUT users/me/login-defaults` → `x-ng-sessionid`.
//!
//! The id is base64 of `enterprise|practice|<32-hex location>|<32-hex provider>|<time zone>|<user>`
//! (zeros for an absent location or provider, empty for an absent time zone).
//! It is a pure function of its inputs: the same login defaults always give the
//! same id, and ids never expire.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Name of the session header.
pub const HEADER: &str = "x-ng-sessionid";

const ZERO_GUID: &str = "00000000000000000000000000000000";

/// A decoded practice session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// 5-digit enterprise id.
    pub enterprise_id: String,
    /// 4-digit practice id.
    pub practice_id: String,
    /// Location GUID as 32 lower-case hex digits (zeros when none).
    pub location: String,
    /// Provider GUID as 32 lower-case hex digits (zeros when none).
    pub provider: String,
    /// Time zone name, possibly empty.
    pub time_zone: String,
    /// The user number the session belongs to.
    pub user: u32,
}

impl Session {
    /// A session with no location, provider or time zone.
    pub fn new(enterprise_id: &str, practice_id: &str, user: u32) -> Session {
        Session {
            enterprise_id: enterprise_id.to_owned(),
            practice_id: practice_id.to_owned(),
            location: ZERO_GUID.to_owned(),
            provider: ZERO_GUID.to_owned(),
            time_zone: String::new(),
            user,
        }
    }

    /// The `x-ng-sessionid` value.
    pub fn encode(&self) -> String {
        STANDARD.encode(format!(
            "{}|{}|{}|{}|{}|{}",
            self.enterprise_id,
            self.practice_id,
            self.location,
            self.provider,
            self.time_zone,
            self.user
        ))
    }

    /// Decode an `x-ng-sessionid` value; the error says what is wrong.
    pub fn decode(value: &str) -> Result<Session, &'static str> {
        let bytes = STANDARD
            .decode(value.trim())
            .map_err(|_| "the x-ng-sessionid header is not base64")?;
        let text = String::from_utf8(bytes).map_err(|_| "the session id is not text")?;
        let parts: Vec<&str> = text.split('|').collect();
        let [ent, prac, loc, prov, tz, user] = parts.as_slice() else {
            return Err("the session id does not have six fields");
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(ent, 5) || !digits(prac, 4) {
            return Err("the session id does not name an enterprise and a practice");
        }
        let hex32 = |s: &str| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex32(loc) || !hex32(prov) {
            return Err("the session id's location or provider is not a GUID");
        }
        let user = user
            .parse::<u32>()
            .map_err(|_| "the session id's user number is not a number")?;
        Ok(Session {
            enterprise_id: (*ent).to_owned(),
            practice_id: (*prac).to_owned(),
            location: loc.to_ascii_lowercase(),
            provider: prov.to_ascii_lowercase(),
            time_zone: (*tz).to_owned(),
            user,
        })
    }

    /// The location GUID in dashed form, when one was chosen.
    pub fn location_guid(&self) -> Option<String> {
        dashed(&self.location)
    }

    /// The provider GUID in dashed form, when one was chosen.
    pub fn provider_guid(&self) -> Option<String> {
        dashed(&self.provider)
    }
}

/// A GUID (dashed or not, any case) as 32 lower-case hex digits.
pub fn hex32(guid: &str) -> Option<String> {
    uuid::Uuid::parse_str(guid.trim())
        .ok()
        .map(|u| u.simple().to_string())
}

fn dashed(hex: &str) -> Option<String> {
    if hex == ZERO_GUID {
        return None;
    }
    uuid::Uuid::parse_str(hex)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// A stable user number for a service account (NextGen's `user_id`), derived
/// from the client id so the same account always gets the same session ids.
pub fn user_number(client_id: &str) -> u32 {
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let mut h: u32 = 0x811c_9dc5;
    for b in client_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    10_000 + h % 90_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_shape_round_trips() {
        let s = Session::new("00002", "0006", 27650);
        assert_eq!(
            STANDARD.decode(s.encode()).unwrap(),
            b"00002|0006|00000000000000000000000000000000|00000000000000000000000000000000||27650"
        );
        assert_eq!(Session::decode(&s.encode()).unwrap(), s);
        assert!(s.encode().starts_with("MDAwMDJ8MDAwNnwwMDAw"));
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert!(Session::decode("%%%").is_err());
        assert!(Session::decode(&STANDARD.encode("a|b")).is_err());
        assert!(Session::decode(&STANDARD.encode("1|2|3|4|5|6")).is_err());
    }
}
