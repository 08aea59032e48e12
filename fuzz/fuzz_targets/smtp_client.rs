//! Fuzz the SMTP client state machine: see `mailwire_smtp::fuzzing::client::client`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailwire_smtp::fuzzing::client::client(data));
