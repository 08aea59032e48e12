//! SASL (being written).
