//! Route-use report (placeholder).
