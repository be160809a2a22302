//! Errors of load runs, split the way the exit code needs them.

/// Why a load run or a baseline operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The user's input is wrong: a flag, a scenario, a baseline, a journal.
    #[error("{0}")]
    Invalid(String),
    /// The environment failed: the SUT can't be reached, a file can't be written.
    #[error("{0}")]
    Infrastructure(String),
}

/// Result of load operations.
pub type Result<T> = std::result::Result<T, LoadError>;

/// A bad-input error.
pub(crate) fn invalid(message: impl Into<String>) -> LoadError {
    LoadError::Invalid(message.into())
}

/// An infrastructure error.
pub(crate) fn infra(message: impl Into<String>) -> LoadError {
    LoadError::Infrastructure(message.into())
}
