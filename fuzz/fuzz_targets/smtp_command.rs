//! Parses arbitrary bytes as pipelined SMTP commands; every command that parses must
//! encode to one line that re-parses to an equal value. See
//! `mailwire_smtp::fuzzing::command`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailwire_smtp::fuzzing::command::command(data);
});
