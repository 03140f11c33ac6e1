//! Any text through every date reader.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let today = jiff::civil::Date::constant(2026, 11, 26);
    let now = jiff::Timestamp::from_second(1_795_000_000).expect("literal time");
    let _ = xunjian_shared::time::parse::date_cell(&text, today);
    let _ = xunjian_shared::time::parse::dates_in_text(&text, today);
    let _ = xunjian_shared::time::parse::post_date(&text, now);
    let _ = xunjian_shared::time::parse::date_in_url(&text, today);
});
