//! SMART scopes: the v1 (`patient/Observation.read`, `user/*.*`) and v2
//! (`patient/Observation.rs`, `system/*.cruds`, `…rs?category=…`) grammars plus
//! the launch and identity scopes.
//!
//! A scope keeps the spelling it was requested in (v1 or v2), so a granted v1
//! scope is echoed back as v1, as the SMART spec asks. Permissions are compared
//! as `cruds` bit sets whatever the spelling.

use std::fmt;

/// Who a resource scope acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// `patient/`: the patient in context only.
    Patient,
    /// `user/`: whatever the user may see.
    User,
    /// `system/`: a backend service.
    System,
}

impl Context {
    /// The prefix without its slash.
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Patient => "patient",
            Context::User => "user",
            Context::System => "system",
        }
    }
}

/// `cruds` permission bits.
pub mod perm {
    /// create
    pub const C: u8 = 1;
    /// read
    pub const R: u8 = 2;
    /// update
    pub const U: u8 = 4;
    /// delete
    pub const D: u8 = 8;
    /// search
    pub const S: u8 = 16;
    /// All five.
    pub const ALL: u8 = 31;
}

/// How the permission part was spelt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// v1 `read` (= `rs`).
    Read,
    /// v1 `write` (= `cud`).
    Write,
    /// v1 `*` (= `cruds`).
    Star,
    /// v2 letters, a non-empty in-order subset of `cruds` (the bits).
    V2(u8),
}

impl Verb {
    /// The permission bits.
    pub fn bits(self) -> u8 {
        match self {
            Verb::Read => perm::R | perm::S,
            Verb::Write => perm::C | perm::U | perm::D,
            Verb::Star => perm::ALL,
            Verb::V2(b) => b,
        }
    }
}

/// A resource scope such as `patient/Observation.rs?category=…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceScope {
    /// `patient`, `user` or `system`.
    pub context: Context,
    /// The resource type; `None` for `*`.
    pub resource: Option<String>,
    /// The permission as spelt.
    pub verb: Verb,
    /// Granular `?name=value` constraints (v2 only), in request order.
    pub params: Vec<(String, String)>,
}

impl ResourceScope {
    /// Whether this scope names `resource_type` (or `*`).
    pub fn names(&self, resource_type: &str) -> bool {
        self.resource.as_deref().is_none_or(|r| r == resource_type)
    }

    /// Whether `self` grants at least everything `other` asks for.
    pub fn covers(&self, other: &ResourceScope) -> bool {
        self.context == other.context
            && (self.resource.is_none() || self.resource == other.resource)
            && other.verb.bits() & !self.verb.bits() == 0
            && self.params.iter().all(|p| other.params.contains(p))
    }

    /// The part of `self` that `max` allows, if any: the same spelling when
    /// nothing is lost, otherwise the intersection spelt in v2.
    pub fn narrow_to(&self, max: &ResourceScope) -> Option<ResourceScope> {
        if self.context != max.context {
            return None;
        }
        let resource = match (&self.resource, &max.resource) {
            (a, None) => a.clone(),
            (None, Some(b)) => Some(b.clone()),
            (Some(a), Some(b)) if a == b => Some(a.clone()),
            _ => return None,
        };
        let bits = self.verb.bits() & max.verb.bits();
        if bits == 0 {
            return None;
        }
        let mut params = self.params.clone();
        for p in &max.params {
            if !params.contains(p) {
                params.push(p.clone());
            }
        }
        let verb = if bits == self.verb.bits() {
            self.verb
        } else {
            Verb::V2(bits)
        };
        Some(ResourceScope {
            context: self.context,
            resource,
            verb,
            params,
        })
    }
}

/// One scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A resource scope.
    Resource(ResourceScope),
    /// `openid`.
    OpenId,
    /// `fhirUser`.
    FhirUser,
    /// `launch` (EHR launch).
    Launch,
    /// `launch/patient`.
    LaunchPatient,
    /// `launch/encounter`.
    LaunchEncounter,
    /// `offline_access`.
    OfflineAccess,
    /// `online_access`.
    OnlineAccess,
}

/// A scope that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope `{scope}`: {reason}")]
pub struct ScopeError {
    /// The scope as given.
    pub scope: String,
    /// What is wrong.
    pub reason: &'static str,
}

fn is_resource_type(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

fn parse_verb(v: &str) -> Option<Verb> {
    match v {
        "read" => return Some(Verb::Read),
        "write" => return Some(Verb::Write),
        "*" => return Some(Verb::Star),
        _ => {}
    }
    let order = [
        ('c', perm::C),
        ('r', perm::R),
        ('u', perm::U),
        ('d', perm::D),
        ('s', perm::S),
    ];
    let mut bits = 0u8;
    let mut pos = 0usize;
    for ch in v.chars() {
        let i = order[pos..].iter().position(|(c, _)| *c == ch)? + pos;
        bits |= order[i].1;
        pos = i + 1;
    }
    (bits != 0).then_some(Verb::V2(bits))
}

impl Scope {
    /// Parse one scope token.
    pub fn parse(s: &str) -> Result<Scope, ScopeError> {
        let err = |reason| ScopeError {
            scope: s.to_owned(),
            reason,
        };
        match s {
            "openid" => return Ok(Scope::OpenId),
            "fhirUser" => return Ok(Scope::FhirUser),
            "launch" => return Ok(Scope::Launch),
            "launch/patient" => return Ok(Scope::LaunchPatient),
            "launch/encounter" => return Ok(Scope::LaunchEncounter),
            "offline_access" => return Ok(Scope::OfflineAccess),
            "online_access" => return Ok(Scope::OnlineAccess),
            _ => {}
        }
        let (ctx, rest) = s.split_once('/').ok_or_else(|| err("unknown scope"))?;
        let context = match ctx {
            "patient" => Context::Patient,
            "user" => Context::User,
            "system" => Context::System,
            _ => return Err(err("the context must be patient, user or system")),
        };
        let (body, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (rest, None),
        };
        let (ty, verb) = body
            .split_once('.')
            .ok_or_else(|| err("expected <Type>.<permissions>"))?;
        let resource = match ty {
            "*" => None,
            t if is_resource_type(t) => Some(t.to_owned()),
            _ => return Err(err("the resource type must be `*` or a FHIR type name")),
        };
        let verb = parse_verb(verb).ok_or_else(|| {
            err("permissions must be read, write, * or an in-order subset of cruds")
        })?;
        let mut params = Vec::new();
        if let Some(q) = query {
            if matches!(verb, Verb::Read | Verb::Write | Verb::Star) {
                return Err(err("granular parameters need v2 permissions"));
            }
            for pair in q.split('&') {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| err("granular parameters must be name=value"))?;
                if k.is_empty() || v.is_empty() {
                    return Err(err("granular parameters must be name=value"));
                }
                params.push((k.to_owned(), v.to_owned()));
            }
        }
        Ok(Scope::Resource(ResourceScope {
            context,
            resource,
            verb,
            params,
        }))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = match self {
            Scope::OpenId => return f.write_str("openid"),
            Scope::FhirUser => return f.write_str("fhirUser"),
            Scope::Launch => return f.write_str("launch"),
            Scope::LaunchPatient => return f.write_str("launch/patient"),
            Scope::LaunchEncounter => return f.write_str("launch/encounter"),
            Scope::OfflineAccess => return f.write_str("offline_access"),
            Scope::OnlineAccess => return f.write_str("online_access"),
            Scope::Resource(r) => r,
        };
        write!(
            f,
            "{}/{}.",
            r.context.as_str(),
            r.resource.as_deref().unwrap_or("*")
        )?;
        match r.verb {
            Verb::Read => f.write_str("read")?,
            Verb::Write => f.write_str("write")?,
            Verb::Star => f.write_str("*")?,
            Verb::V2(b) => {
                for (c, bit) in [
                    ('c', perm::C),
                    ('r', perm::R),
                    ('u', perm::U),
                    ('d', perm::D),
                    ('s', perm::S),
                ] {
                    if b & bit != 0 {
                        write!(f, "{c}")?;
                    }
                }
            }
        }
        for (i, (k, v)) in r.params.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// A set of scopes, in request order, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(pub Vec<Scope>);

/// What a token may see of one resource type for one interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Nothing.
    Denied,
    /// Everything the scopes' contexts allow; each alternative is
    /// `(patient_only, granular params)`; a resource passes if any alternative does.
    Allowed(Vec<(bool, Vec<(String, String)>)>),
}

impl ScopeSet {
    /// Parse a space-separated scope string. Unknown tokens are errors.
    pub fn parse(s: &str) -> Result<ScopeSet, ScopeError> {
        let mut out = ScopeSet::default();
        for tok in s.split_ascii_whitespace() {
            out.insert(Scope::parse(tok)?);
        }
        Ok(out)
    }

    /// Add a scope unless present.
    pub fn insert(&mut self, s: Scope) {
        if !self.0.contains(&s) {
            self.0.push(s);
        }
    }

    /// Whether the exact scope is present.
    pub fn contains(&self, s: &Scope) -> bool {
        self.0.contains(s)
    }

    /// Resource scopes only.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceScope> {
        self.0.iter().filter_map(|s| match s {
            Scope::Resource(r) => Some(r),
            _ => None,
        })
    }

    /// Whether any resource scope has the `patient/` context.
    pub fn has_patient_context(&self) -> bool {
        self.resources().any(|r| r.context == Context::Patient)
    }

    /// What these scopes allow for `bits` (e.g. [`perm::R`]) on `resource_type`.
    pub fn access(&self, resource_type: &str, bits: u8) -> Access {
        let alts: Vec<_> = self
            .resources()
            .filter(|r| r.names(resource_type) && r.verb.bits() & bits == bits)
            .map(|r| (r.context == Context::Patient, r.params.clone()))
            .collect();
        if alts.is_empty() {
            Access::Denied
        } else {
            Access::Allowed(alts)
        }
    }

    /// Narrow `requested` to this (registered maximum) set. Returns the granted
    /// set, or the first requested scope that nothing here allows.
    pub fn grant(&self, requested: &ScopeSet) -> Result<ScopeSet, Scope> {
        let mut out = ScopeSet::default();
        for s in &requested.0 {
            match s {
                Scope::Resource(r) => {
                    if self.resources().any(|m| m.covers(r)) {
                        out.insert(s.clone());
                        continue;
                    }
                    let narrowed: Vec<_> =
                        self.resources().filter_map(|m| r.narrow_to(m)).collect();
                    if narrowed.is_empty() {
                        return Err(s.clone());
                    }
                    for n in narrowed {
                        out.insert(Scope::Resource(n));
                    }
                }
                other if self.contains(other) => out.insert(other.clone()),
                other => return Err(other.clone()),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn v1_and_v2_are_equivalent_in_bits() {
        let v1 = Scope::parse("patient/Observation.read").unwrap();
        let v2 = Scope::parse("patient/Observation.rs").unwrap();
        let (Scope::Resource(a), Scope::Resource(b)) = (v1, v2) else {
            panic!()
        };
        assert_eq!(a.verb.bits(), b.verb.bits());
        assert!(a.covers(&b) && b.covers(&a));
    }

    #[test]
    fn out_of_order_and_unknown_verbs_are_rejected() {
        for bad in [
            "patient/Observation.sr",
            "patient/Observation.dus",
            "patient/Observation.x",
            "patient/Observation.",
            "robot/Observation.rs",
            "patient/observation.rs",
            "patient/Observation.read?category=x",
            "patient/Observation.rs?category",
            "banana",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn split_r_and_s_grants_combine() {
        let s = set("patient/Observation.r patient/Observation.s");
        assert!(matches!(
            s.access("Observation", perm::R),
            Access::Allowed(_)
        ));
        assert!(matches!(
            s.access("Observation", perm::S),
            Access::Allowed(_)
        ));
        assert_eq!(s.access("Condition", perm::R), Access::Denied);
    }

    #[test]
    fn grant_narrows_to_the_registered_maximum() {
        let max = set("patient/*.rs launch/patient openid");
        let got = max
            .grant(&set(
                "patient/Observation.read patient/*.cruds launch/patient",
            ))
            .unwrap();
        assert_eq!(
            got.to_string(),
            "patient/Observation.read patient/*.rs launch/patient"
        );
        assert_eq!(
            max.grant(&set("system/*.rs")).unwrap_err().to_string(),
            "system/*.rs"
        );
        assert_eq!(max.grant(&set("fhirUser")).unwrap_err(), Scope::FhirUser);
        let gran = max
            .grant(&set(
                "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
            ))
            .unwrap();
        assert_eq!(gran.0.len(), 1);
    }
}
