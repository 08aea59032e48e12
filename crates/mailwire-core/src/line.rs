//! CRLF line framing (being written).
