//! The OData `$filter` parser: never panics on any input, and its canonical
//! rendering re-parses to the same tree.

use proptest::prelude::*;
use simulator::enterprise::odata::{CmpOp, Expr, Func, Literal, parse_filter, parse_orderby};

fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,12}(/[a-zA-Z_][a-zA-Z0-9_]{0,8})?".prop_filter("not a keyword", |s| {
        let l = s.to_ascii_lowercase();
        ![
            "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null",
        ]
        .contains(&l.as_str())
    })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        ".{0,12}".prop_map(Literal::Str),
        any::<u128>().prop_map(|n| Literal::Guid(uuid::Uuid::from_u128(n).to_string())),
        (1900u32..2100, 1u32..13, 1u32..29, 0u32..24, 0u32..60).prop_map(|(y, m, d, h, mi)| {
            Literal::DateTime(format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:00"))
        }),
        (-1.0e12f64..1.0e12).prop_map(Literal::Number),
        any::<i32>().prop_map(|n| Literal::Number(f64::from(n))),
        any::<bool>().prop_map(Literal::Bool),
        Just(Literal::Null),
    ]
}

fn op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (ident(), op(), literal()).prop_map(|(prop, op, lit)| Expr::Cmp { prop, op, lit }),
        (
            prop_oneof![
                Just(Func::SubstringOf),
                Just(Func::StartsWith),
                Just(Func::EndsWith)
            ],
            ident(),
            ".{0,8}"
        )
            .prop_map(|(func, prop, arg)| Expr::Call { func, prop, arg }),
    ];
    leaf.prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(s in ".{0,80}") {
        let _ = parse_filter(&s);
        let _ = parse_orderby(&s);
    }

    #[test]
    fn never_panics_on_filter_like_text(s in "[a-z() ',0-9.-]{0,60}( (eq|and|or|not|guid'|datetime') ?[a-z0-9'()]{0,10}){0,4}") {
        if let Err(e) = parse_filter(&s) {
            prop_assert!(e.position <= s.chars().count());
        }
    }

    #[test]
    fn canonical_form_round_trips(e in expr()) {
        let text = e.to_string();
        let back = parse_filter(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err:?}")))?;
        prop_assert_eq!(&back, &e, "{}", text);
        prop_assert_eq!(back.to_string(), text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}a eq 1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_filter(&deep).is_err());
    let long = vec!["a eq 1"; 10_000].join(" and ");
    assert!(parse_filter(&long).is_err());
    let nots = format!("{}a eq 1", "not ".repeat(10_000));
    assert!(parse_filter(&nots).is_err());
}
