//! Fuzz the Maildir name handling of `mailwire_maildir`: file name parsing, flag round
//! trips, user and folder validation (no path escapes), host name sanitising. See
//! `mailwire_maildir::fuzzing::names`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mailwire_maildir::fuzzing::names(data));
