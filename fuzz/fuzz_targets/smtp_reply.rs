//! Fuzz the SMTP reply codec and EHLO reply: see `mailwire_smtp::fuzzing::reply::reply`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailwire_smtp::fuzzing::reply::reply(data));
