//! See `mailwire_pop3::fuzzing::command`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailwire_pop3::fuzzing::command(data);
});
