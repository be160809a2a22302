//! The ngsim conformance runner and command-line interface.
