//! mailwire-tokio (being written)
