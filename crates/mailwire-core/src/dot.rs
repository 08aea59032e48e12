//! Dot-stuffing (being written).
