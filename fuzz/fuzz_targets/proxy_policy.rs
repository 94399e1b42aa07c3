#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eventgrid_fuzz::proxy_policy::run(data));
