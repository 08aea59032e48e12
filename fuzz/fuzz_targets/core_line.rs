//! Fuzz `mailwire_core::line::LineBuffer`: see `mailwire_core::fuzzing::line::check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailwire_core::fuzzing::line::check(data));
