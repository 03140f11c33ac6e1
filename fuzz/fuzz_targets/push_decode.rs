//! The collector's push decoder on any bytes: gzip or not, never a panic, never more than the
//! size limit inflated.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((flag, body)) = data.split_first() else { return };
    let limits = xunjian_shared::config::collector::PushLimits::default();
    let _ = xunjian_collector::ingest::decode_push(body, flag & 1 == 1, 1 << 20, &limits);
});
