//! mailwire-pop3 (being written)
