//! mailwire-maildir (being written)
