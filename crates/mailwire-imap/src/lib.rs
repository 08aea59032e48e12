//! mailwire-imap (work in progress)
