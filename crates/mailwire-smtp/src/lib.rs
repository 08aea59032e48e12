//! mailwire-smtp (work in progress)
