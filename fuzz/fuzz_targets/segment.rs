//! Fuzzes segment files: see the harness (src/lib.rs) for the input's layout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use segment_fuzz::Fixture;

fuzz_target!(|input: &[u8]| {
    Fixture::get().run(input);
});
