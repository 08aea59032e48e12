#![no_main]
//! Fuzz target: mailwire_mime::fuzzing::downgrade (a message converted to 7 bit is ASCII
//! and decodes, part by part, to what the original decodes to).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailwire_mime::fuzzing::downgrade(data);
});
