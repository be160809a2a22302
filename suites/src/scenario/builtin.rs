//! Built-in scenarios, embedded so `ngsim run --scenario NAME` works anywhere.

/// `(id, TOML source)` of every shipped scenario.
pub const BUILTIN_SCENARIOS: &[(&str, &str)] = &[
    (
        "ack-receiver",
        include_str!("../../../profiles/scenarios/ack-receiver.toml"),
    ),
    (
        "part2-segmentation",
        include_str!("../../../profiles/scenarios/part2-segmentation.toml"),
    ),
    (
        "write-back-scopes",
        include_str!("../../../profiles/scenarios/write-back-scopes.toml"),
    ),
    (
        "enterprise-pre-beta",
        include_str!("../../../profiles/scenarios/enterprise-pre-beta.toml"),
    ),
    (
        "ack-sender",
        include_str!("../../../profiles/scenarios/ack-sender.toml"),
    ),
    (
        "resilience",
        include_str!("../../../profiles/scenarios/resilience.toml"),
    ),
    (
        "bulk-client",
        include_str!("../../../profiles/scenarios/bulk-client.toml"),
    ),
    (
        "smart-client",
        include_str!("../../../profiles/scenarios/smart-client.toml"),
    ),
    (
        "smart-discovery",
        include_str!("../../../profiles/scenarios/smart-discovery.toml"),
    ),
];

/// The source of a built-in scenario.
pub fn builtin_scenario(id: &str) -> Option<&'static str> {
    BUILTIN_SCENARIOS
        .iter()
        .find(|(n, _)| *n == id)
        .map(|(_, s)| *s)
}
