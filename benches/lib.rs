//! Criterion benches live in `[[bench]]` targets; this crate has no library code.
