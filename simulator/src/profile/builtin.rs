//! Built-in profiles, embedded in the binary so `ngsim` works outside a checkout.

/// `(name, file label, TOML source)` of every shipped version profile.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "nge-base",
        "profiles/versions/nge-base.toml",
        include_str!("../../../profiles/versions/nge-base.toml"),
    ),
    (
        "nge-5.9.0",
        "profiles/versions/nge-5.9.0.toml",
        include_str!("../../../profiles/versions/nge-5.9.0.toml"),
    ),
    (
        "nge-5.9.2",
        "profiles/versions/nge-5.9.2.toml",
        include_str!("../../../profiles/versions/nge-5.9.2.toml"),
    ),
    (
        "nge-office",
        "profiles/versions/nge-office.toml",
        include_str!("../../../profiles/versions/nge-office.toml"),
    ),
];

/// Names of the built-in profiles, in shipping order.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _, _)| *n)
}

/// The file label and source of a built-in profile.
pub fn builtin_source(name: &str) -> Option<(&'static str, &'static str)> {
    BUILTIN
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, f, s)| (*f, *s))
}
