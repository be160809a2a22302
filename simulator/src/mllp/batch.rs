//! FHS/BHS batch files and one-message-per-file directories.
