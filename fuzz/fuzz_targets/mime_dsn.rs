#![no_main]
//! Fuzz target: mailwire_mime::dsn::fuzzing::build (a delivery status notification
//! built from arbitrary fields must stay well formed).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailwire_mime::dsn::fuzzing::build(data);
});
