//! Generators (filled in below).
