//! Fuzz `mailwire_core::dot`: see `mailwire_core::fuzzing::dot::check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailwire_core::fuzzing::dot::check(data));
