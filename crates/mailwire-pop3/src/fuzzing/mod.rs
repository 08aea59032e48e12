//! Fuzz checks.
