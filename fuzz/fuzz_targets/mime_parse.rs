#![no_main]
//! Fuzz target: mailwire_mime::fuzzing::parse.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailwire_mime::fuzzing::parse(data);
});
