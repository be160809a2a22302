//! The ngsim result model and its report writers.
