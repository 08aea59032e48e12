//! mailwire-mime (work in progress)
