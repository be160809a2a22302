//! Property tests of the SMART scope parser: it never panics, and a parsed
//! scope displays back to the text it came from (and parses to itself again).

use proptest::prelude::*;
use simulator::auth::scopes::{Scope, ScopeSet};

fn resource_scope() -> impl Strategy<Value = String> {
    let ctx = prop_oneof!["patient", "user", "system"];
    let ty = prop_oneof![Just("*".to_owned()), "[A-Z][a-zA-Z]{0,20}".prop_map(|s| s),];
    let v1 = prop_oneof![Just("read"), Just("write"), Just("*")].prop_map(str::to_owned);
    let v2 = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_filter("non-empty", |t| t.0 || t.1 || t.2 || t.3 || t.4)
        .prop_map(|(c, r, u, d, s)| {
            [(c, 'c'), (r, 'r'), (u, 'u'), (d, 'd'), (s, 's')]
                .iter()
                .filter(|x| x.0)
                .map(|x| x.1)
                .collect::<String>()
        });
    let params = proptest::collection::vec(("[a-z][a-z-]{0,10}", "[a-zA-Z0-9:/.|-]{1,30}"), 0..3);
    prop_oneof![
        (ctx.clone(), ty.clone(), v1).prop_map(|(c, t, v)| format!("{c}/{t}.{v}")),
        (ctx, ty, v2, params).prop_map(|(c, t, v, ps)| {
            let mut s = format!("{c}/{t}.{v}");
            for (i, (k, val)) in ps.iter().enumerate() {
                s.push(if i == 0 { '?' } else { '&' });
                s.push_str(&format!("{k}={val}"));
            }
            s
        }),
    ]
}

fn any_scope() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => resource_scope(),
        1 => prop_oneof![
            Just("openid"),
            Just("fhirUser"),
            Just("launch"),
            Just("launch/patient"),
            Just("launch/encounter"),
            Just("offline_access"),
            Just("online_access"),
        ]
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,80}") {
        let _ = Scope::parse(&s);
        let _ = ScopeSet::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_near_misses(s in "(patient|user|system|launch)[/.?&=*a-zA-Z|]{0,40}") {
        let _ = Scope::parse(&s);
    }

    #[test]
    fn valid_scopes_round_trip(text in any_scope()) {
        let parsed = Scope::parse(&text).unwrap();
        prop_assert_eq!(parsed.to_string(), text.clone());
        prop_assert_eq!(Scope::parse(&parsed.to_string()).unwrap(), parsed);
    }

    #[test]
    fn scope_sets_round_trip(texts in proptest::collection::vec(any_scope(), 0..6)) {
        let set = ScopeSet::parse(&texts.join(" ")).unwrap();
        let again = ScopeSet::parse(&set.to_string()).unwrap();
        prop_assert_eq!(again, set);
    }

    #[test]
    fn granting_never_widens(max in proptest::collection::vec(any_scope(), 0..5),
                             asked in proptest::collection::vec(any_scope(), 0..5)) {
        let max = ScopeSet::parse(&max.join(" ")).unwrap();
        let asked = ScopeSet::parse(&asked.join(" ")).unwrap();
        if let Ok(granted) = max.grant(&asked) {
            for s in granted.resources() {
                prop_assert!(max.resources().any(|m| m.covers(s)), "{} not covered", s.verb.bits());
            }
        }
    }
}
