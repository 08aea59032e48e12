//! Fuzz `mailwire_core::sasl`: server and client exchanges for every mechanism, the base64
//! wire helpers, and client-server agreement. See `mailwire_core::sasl::fuzzing::check`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailwire_core::sasl::fuzzing::check(data));
