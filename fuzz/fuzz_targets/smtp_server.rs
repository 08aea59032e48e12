//! A server session fed arbitrary bytes in arbitrary pieces. See
//! `mailwire_smtp::fuzzing::server`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailwire_smtp::fuzzing::server::server(data);
});
