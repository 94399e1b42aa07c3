#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eventgrid_fuzz::jwt_token::run(data));
