//! Checking logic for the cargo-fuzz targets in `fuzz/`, kept in the crate so that the
//! seed corpora can be replayed by ordinary tests. Not a stable API.

pub mod client;
pub mod command;
pub mod reply;
pub mod server;
