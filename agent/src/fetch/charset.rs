//! Decoding page bytes to text the way browsers decide: byte-order mark, then the HTTP
//! `charset`, then `<meta>`, then detection.
//!
//! Government sites still serve GBK/GB2312 pages, and some label them wrongly (a server default
//! of UTF-8 in front of a GBK CMS). When the declared encoding does not decode cleanly but the
//! detected one does, the detected one wins and the mismatch is reported.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{DecoderResult, Encoding, UTF_8};

/// How many leading bytes are searched for `<meta charset>`. Browsers look at 1024; CMS
/// templates often put a long `<script>` or comment first, so look further.
const META_PRESCAN_BYTES: usize = 8 * 1024;
/// Bytes fed to detection; enough for a confident guess, bounded for speed on huge pages.
const DETECTION_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The WHATWG name of the encoding used (`UTF-8`, `GBK`, `gb18030`).
    pub encoding: &'static str,
    /// Where the encoding came from.
    pub source: CharsetSource,
    /// The label the page declared, when it was overruled by detection.
    pub declared_but_wrong: Option<&'static str>,
    /// Byte sequences the encoding used could not decode (each shown as U+FFFD, what a visitor
    /// sees as 乱码); a character cut at the end of a truncated body is not one.
    pub invalid_sequences: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharsetSource {
    Bom,
    Header,
    Meta,
    Detected,
}

/// Decodes `body` as a browser would. `complete`: false when the body was cut at a size cap, so
/// a multibyte character cut in two at the end is not counted as invalid.
pub fn decode(body: &[u8], content_type: Option<&str>, complete: bool) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let (text, invalid_sequences) = decode_counting(encoding, &body[bom_len..], complete);
        return Decoded {
            text,
            encoding: encoding.name(),
            source: CharsetSource::Bom,
            declared_but_wrong: None,
            invalid_sequences,
        };
    }
    // Browsers ignore an XML declaration on an HTML page; feeds are decoded by theirs.
    let is_html = content_type.is_some_and(|kind| kind.to_ascii_lowercase().contains("html"));
    let declared = content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .map(|encoding| (encoding, CharsetSource::Header))
        .or_else(|| xml_declared(body).filter(|_| !is_html).map(|encoding| (encoding, CharsetSource::Meta)))
        .or_else(|| meta_charset(body).map(|encoding| (encoding, CharsetSource::Meta)));
    if let Some((encoding, source)) = declared {
        let (text, invalid_sequences) = decode_counting(encoding, body, complete);
        // windows-1252 (what an ISO-8859-1 label means) decodes any bytes without error, and on
        // a Chinese government site it is a server default, never the truth.
        let suspicious = encoding == encoding_rs::WINDOWS_1252 && !body.is_ascii();
        let declared = |text, invalid_sequences| Decoded {
            text,
            encoding: encoding.name(),
            source,
            declared_but_wrong: None,
            invalid_sequences,
        };
        if invalid_sequences == 0 && !suspicious {
            return declared(text, 0);
        }
        let guess = detect(body);
        if guess != encoding {
            let (guessed_text, guess_invalid) = decode_counting(guess, body, complete);
            // The detected charset wins when it reads the page cleanly, or nearly (a GBK page
            // with one title cut mid-character, served as UTF-8, is still GBK).
            if guess_invalid == 0 || guess_invalid.saturating_mul(20) < invalid_sequences {
                return Decoded {
                    text: guessed_text,
                    encoding: guess.name(),
                    source: CharsetSource::Detected,
                    declared_but_wrong: Some(encoding.name()),
                    invalid_sequences: guess_invalid,
                };
            }
        }
        return declared(text, invalid_sequences);
    }
    let guess = detect(body);
    let (text, invalid_sequences) = decode_counting(guess, body, complete);
    Decoded {
        text,
        encoding: guess.name(),
        source: CharsetSource::Detected,
        declared_but_wrong: None,
        invalid_sequences,
    }
}

/// `body` decoded with `encoding` (no BOM sniffing), each malformed sequence replaced by U+FFFD
/// and counted. An incomplete sequence at the end of an incomplete body is left out.
fn decode_counting(encoding: &'static Encoding, body: &[u8], complete: bool) -> (String, u32) {
    if encoding == UTF_8 {
        // Valid UTF-8 (most pages) is copied as it is, without a decoder's spare room.
        match std::str::from_utf8(body) {
            Ok(text) => return (text.to_owned(), 0),
            Err(error) if !complete && error.error_len().is_none() => {
                return (String::from_utf8_lossy(&body[..error.valid_up_to()]).into_owned(), 0);
            }
            Err(_) => {}
        }
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(body.len() + body.len() / 2 + 16);
    let mut invalid: u32 = 0;
    let mut at = 0;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(&body[at..], &mut text, complete);
        at += read;
        match result {
            DecoderResult::InputEmpty => {
                text.shrink_to_fit();
                return (text, invalid);
            }
            DecoderResult::OutputFull => text.reserve((body.len() - at) * 3 / 2 + 16),
            DecoderResult::Malformed(..) => {
                invalid = invalid.saturating_add(1);
                text.push('\u{FFFD}');
            }
        }
    }
}

fn detect(body: &[u8]) -> &'static Encoding {
    let sample = &body[..body.len().min(DETECTION_BYTES)];
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(sample, sample.len() == body.len());
    let guess = detector.guess(Some(b"cn"), Utf8Detection::Allow);
    if guess == encoding_rs::WINDOWS_1252 && std::str::from_utf8(sample).is_ok() { UTF_8 } else { guess }
}

/// `text/html; charset="gb2312"` → `gb2312`.
fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// `<meta charset="gbk">` or `<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`.
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(META_PRESCAN_BYTES)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(offset) = find(&lower[from..], b"<meta") {
        let start = from + offset;
        let end = find(&lower[start..], b">").map(|i| start + i).unwrap_or(lower.len());
        let tag = &lower[start..end];
        if let Some(at) = find(tag, b"charset") {
            let rest = &tag[at + 7..];
            let rest = rest.iter().skip_while(|b| b.is_ascii_whitespace()).copied().collect::<Vec<u8>>();
            if let Some(value) = rest.strip_prefix(b"=") {
                let value: Vec<u8> = value
                    .iter()
                    .skip_while(|b| b.is_ascii_whitespace() || **b == b'"' || **b == b'\'')
                    .take_while(|b| !(b.is_ascii_whitespace() || matches!(**b, b'"' | b'\'' | b';' | b'/' | b'>')))
                    .copied()
                    .collect();
                if let Some(encoding) = Encoding::for_label(&value) {
                    // A page cannot be UTF-16 if its bytes were readable as ASCII here.
                    return Some(if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
                        UTF_8
                    } else {
                        encoding
                    });
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

/// `<?xml version="1.0" encoding="GB18030"?>` at the start of a feed.
fn xml_declared(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(256)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = find(head, b"?>")?;
    let declaration = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let value = declaration.split("encoding").nth(1)?.trim_start().strip_prefix('=')?.trim_start();
    let label = value.strip_prefix(['"', '\''])?.split(['"', '\'']).next()?;
    Encoding::for_label(label.as_bytes())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "<html><head><title>龙川县人民政府</title></head><body><ul><li><a href='/a'>关于做好冬季安全生产工作的通知</a><span>2026-11-20</span></li></ul></body></html>";

    fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    #[test]
    fn decides_in_browser_order() {
        let with_meta =
            TEXT.replace("<head>", "<head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">");
        let decoded = decode(&gbk(&with_meta), None, true);
        assert_eq!((decoded.encoding, decoded.source), ("GBK", CharsetSource::Meta));
        assert!(decoded.text.contains("龙川县人民政府"));

        let decoded = decode(&gbk(TEXT), Some("text/html; charset=GBK"), true);
        assert_eq!((decoded.encoding, decoded.source), ("GBK", CharsetSource::Header));

        let decoded = decode(&gbk(TEXT), None, true);
        assert_eq!(decoded.source, CharsetSource::Detected);
        assert!(decoded.text.contains("关于做好冬季安全生产工作的通知"), "{}", decoded.text);

        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(TEXT.as_bytes());
        let decoded = decode(&bom, Some("text/html; charset=gbk"), true);
        assert_eq!((decoded.encoding, decoded.source), ("UTF-8", CharsetSource::Bom));
        assert!(decoded.text.starts_with("<html>"));

        let decoded = decode(gb18030_bytes().as_slice(), Some("text/html; charset=gb18030"), true);
        assert_eq!(decoded.encoding, "gb18030");
        assert!(decoded.text.contains("𠀀"));
    }

    fn gb18030_bytes() -> Vec<u8> {
        encoding_rs::GB18030.encode("<p>四字节字符𠀀</p>").0.into_owned()
    }

    #[test]
    fn a_wrong_label_is_overruled_and_reported() {
        let decoded = decode(&gbk(TEXT), Some("text/html; charset=utf-8"), true);
        assert_eq!(decoded.encoding, "GBK");
        assert_eq!(decoded.declared_but_wrong, Some("UTF-8"));
        assert!(decoded.text.contains("龙川县人民政府"));

        let decoded = decode(&gbk(TEXT), Some("text/html; charset=iso-8859-1"), true);
        assert_eq!((decoded.encoding, decoded.declared_but_wrong), ("GBK", Some("windows-1252")));
    }

    #[test]
    fn a_utf8_page_labelled_gb2312_is_a_mismatch() {
        let page = TEXT.replace("<head>", "<head><meta charset=\"gb2312\">");
        let decoded = decode(page.as_bytes(), None, true);
        assert_eq!((decoded.encoding, decoded.declared_but_wrong), ("UTF-8", Some("GBK")));
        assert!(decoded.text.contains("关于做好冬季安全生产工作的通知"));
        assert_eq!(decoded.invalid_sequences, 0);
    }

    #[test]
    fn invalid_sequences_are_counted_but_a_cut_last_character_is_not() {
        let mut bytes = gbk(TEXT);
        let at = bytes.windows(4).position(|w| w == b"<ul>").unwrap();
        // Two lead bytes before bytes that cannot follow one: two sequences no GBK decoder reads.
        bytes.splice(at..at, [0x81, b' ', 0xFE, b'"']);
        let decoded = decode(&bytes, Some("text/html; charset=gbk"), true);
        assert_eq!((decoded.encoding, decoded.declared_but_wrong, decoded.invalid_sequences), ("GBK", None, 2));
        assert_eq!(decoded.text.matches('\u{FFFD}').count(), 2);

        // A body cut inside its last character: nothing invalid when the cut is known.
        let whole = gbk("<p>龙川县人民政府</p><p>龙川");
        let cut = &whole[..whole.len() - 1];
        assert_eq!(decode(cut, Some("text/html; charset=gbk"), false).invalid_sequences, 0);
        assert_eq!(decode(cut, Some("text/html; charset=gbk"), true).invalid_sequences, 1);
        let utf8 = "<p>龙川县人民政府</p>".as_bytes();
        let cut = &utf8[..utf8.len() - 5];
        let decoded = decode(cut, Some("text/html; charset=utf-8"), false);
        assert_eq!((decoded.encoding, decoded.declared_but_wrong, decoded.invalid_sequences), ("UTF-8", None, 0));
    }

    #[test]
    fn a_mislabelled_page_with_one_cut_character_is_still_read_in_its_charset() {
        let mut bytes = gbk(&TEXT.repeat(20));
        let at = bytes.windows(4).position(|w| w == b"<ul>").unwrap();
        bytes.insert(at, 0x81);
        let decoded = decode(&bytes, Some("text/html; charset=utf-8"), true);
        assert_eq!(
            (decoded.encoding, decoded.declared_but_wrong, decoded.invalid_sequences),
            ("GBK", Some("UTF-8"), 1)
        );
        assert!(decoded.text.contains("关于做好冬季安全生产工作的通知"));
    }

    #[test]
    fn an_xml_declaration_does_not_name_an_html_pages_charset() {
        let page = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><html><head><meta charset=\"gbk\"></head>{TEXT}");
        let decoded = decode(&gbk(&page), Some("text/html"), true);
        assert_eq!((decoded.encoding, decoded.declared_but_wrong, decoded.source), ("GBK", None, CharsetSource::Meta));
        // A declaration a hostile page writes with other bytes than quotes is no label, not a panic.
        for head in ["<?xml encoding=\u{e9}gbk\u{e9}?>", "<?xml encoding=?>", "<?xml encoding"] {
            let _ = decode(head.as_bytes(), None, true);
        }
    }

    #[test]
    fn xml_declaration_names_the_feed_encoding() {
        let feed = "<?xml version=\"1.0\" encoding=\"GB18030\"?><rss><channel><item><title>客家围屋修缮工程𠀀</title></item></channel></rss>";
        let bytes = encoding_rs::GB18030.encode(feed).0.into_owned();
        let decoded = decode(&bytes, Some("application/rss+xml"), true);
        assert_eq!((decoded.encoding, decoded.source), ("gb18030", CharsetSource::Meta));
        assert!(decoded.text.contains("客家围屋修缮工程𠀀"));
    }

    #[test]
    fn meta_forms() {
        let check = |html: &str, expected: Option<&str>| {
            assert_eq!(meta_charset(html.as_bytes()).map(|e| e.name()), expected, "{html}");
        };
        check("<meta charset=\"gbk\">", Some("GBK"));
        check("<META CHARSET=GB2312 />", Some("GBK"));
        check("<meta http-equiv=Content-Type content='text/html;charset=utf-8'>", Some("UTF-8"));
        check("<meta name=\"keywords\" content=\"x\">", None);
        check("<meta charset=\"no-such-thing\">", None);
    }
}
