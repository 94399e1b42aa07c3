#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eventgrid_fuzz::simulator_settings::run(data));
