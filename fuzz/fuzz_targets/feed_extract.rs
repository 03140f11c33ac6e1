//! Any text as a feed (RSS, Atom, JSON Feed) and as a JSON API with pointers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let now = jiff::Timestamp::from_second(1_795_000_000).expect("literal time");
    let text = String::from_utf8_lossy(data);
    let _ = xunjian_agent::extract::feed::read_feed(&text, now);
    let _ = xunjian_agent::extract::json_api::read_api(
        &text,
        "/data/cards",
        "/mblog/created_at",
        Some("/mblog/comments_open"),
        now,
    );
});
