//! Lists that exist only in a page's script: an empty `<ul>` filled from a JavaScript array of
//! objects (`var news = [{title: "…", url: "…", date: "2026-11-20"}, …]`, JSON in a string
//! handed to `JSON.parse`, arrays of arrays), or markup written by `document.write('<li>…')`.
//!
//! Nothing is executed. A small lexer reads the script's tokens (strings with their escapes,
//! comments and regular expressions skipped), and two readers look at them: the string
//! arguments of `document.write` joined into markup, and the string fields of object and array
//! literals, grouped by the array that holds them. Everything is bounded: tokens, records and
//! written markup stop at fixed caps, whatever the script's size.

/// Tokens read from one script, at most.
const MAX_TOKENS: usize = 500_000;
/// Records kept from one script, at most (a column page shows tens).
const MAX_RECORDS: usize = 2_000;
/// Markup `document.write` produces that is kept, at most.
const MAX_WRITTEN_BYTES: usize = 1 << 20;
/// Literals nested deeper than this are not read.
const MAX_DEPTH: usize = 32;
/// How deep JSON in a string inside a script is read.
const MAX_NESTED_JSON: u8 = 2;

/// What one script holds of a list.
#[derive(Debug, Default, PartialEq)]
pub struct ScriptLists {
    /// The markup `document.write` / `document.writeln` calls write with literal strings.
    pub written: String,
    /// Records of each array of objects (or of arrays) with at least two of them.
    pub arrays: Vec<Vec<Record>>,
}

/// One object (or array) literal's string and number fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// The key in lower case (None in an array) and the value.
    pub fields: Vec<(Option<String>, String)>,
}

/// Reads the list-like literals and the written markup of one script's source.
pub fn read_script(source: &str) -> ScriptLists {
    let mut lists = ScriptLists::default();
    let mut records = 0;
    read_into(source, &mut lists, &mut records, 0);
    lists
}

fn read_into(source: &str, lists: &mut ScriptLists, records: &mut usize, depth: u8) {
    let tokens = lex(source);
    written_markup(&tokens, &mut lists.written);
    literals(&tokens, lists, records, depth);
}

#[derive(Clone, Debug, PartialEq)]
enum Token<'s> {
    Str(String),
    /// An identifier, keyword or number.
    Word(&'s str),
    Punct(u8),
}

/// The script's tokens, up to [`MAX_TOKENS`]; comments and regular expressions dropped.
fn lex(source: &str) -> Vec<Token<'_>> {
    let bytes = source.as_bytes();
    let mut tokens: Vec<Token<'_>> = Vec::new();
    let mut at = 0;
    while at < bytes.len() && tokens.len() < MAX_TOKENS {
        let byte = bytes[at];
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => at += 1,
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = bytes[at..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| at + i);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = find(&bytes[at + 2..], b"*/").map_or(bytes.len(), |i| at + 2 + i + 2);
            }
            b'/' if regex_may_start(tokens.last()) => at = skip_regex(bytes, at),
            b'"' | b'\'' | b'`' => {
                let (text, end) = string_literal(source, at);
                tokens.push(Token::Str(text));
                at = end;
            }
            _ if is_word_byte(byte) => {
                let end = at + bytes[at..].iter().take_while(|b| is_word_byte(**b)).count();
                tokens.push(Token::Word(&source[at..end]));
                at = end;
            }
            _ if byte.is_ascii() => {
                tokens.push(Token::Punct(byte));
                at += 1;
            }
            // Other non-ASCII outside strings: part of an identifier; skip the whole character.
            _ => at += source[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
    tokens
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$'
}

/// Whether a `/` after `previous` starts a regular expression rather than dividing.
fn regex_may_start(previous: Option<&Token<'_>>) -> bool {
    match previous {
        None => true,
        Some(Token::Punct(p)) => !matches!(p, b')' | b']' | b'}'),
        Some(Token::Word(word)) => {
            matches!(
                *word,
                "return" | "typeof" | "case" | "do" | "else" | "in" | "of" | "new" | "delete" | "void" | "throw"
            )
        }
        Some(Token::Str(_)) => false,
    }
}

/// The end of the regular expression starting at `start` (`/a[/]b/gi`); a line break ends a
/// malformed one.
fn skip_regex(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    let mut in_class = false;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'/' if !in_class => {
                at += 1;
                return at + bytes[at..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
            }
            b'\n' => return at,
            _ => {}
        }
        at += 1;
    }
    at
}

/// The string literal opening at `start`, unescaped, and where it ends. A quote's string ends
/// at a line break if unterminated; a template's `${…}` is kept as written.
fn string_literal(source: &str, start: usize) -> (String, usize) {
    let bytes = source.as_bytes();
    let quote = bytes[start];
    let mut text = String::new();
    let mut chars = source[start + 1..].char_indices();
    while let Some((offset, c)) = chars.next() {
        let at = start + 1 + offset;
        match c {
            _ if c as u32 == u32::from(quote) => return (text, at + 1),
            '\n' if quote != b'`' => return (text, at),
            '\\' => match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, 'r')) => text.push('\r'),
                Some((_, 'u')) => {
                    let rest = &source[at + 2..];
                    let (code, used) = if let Some(braced) = rest.strip_prefix('{') {
                        let end = braced.find('}').unwrap_or(0);
                        (u32::from_str_radix(&braced[..end], 16).ok(), end + 2)
                    } else {
                        (rest.get(..4).and_then(|hex| u32::from_str_radix(hex, 16).ok()), 4)
                    };
                    match code {
                        // A surrogate pair: `\uD840\uDC00`.
                        Some(high @ 0xD800..=0xDBFF) if rest.get(4..6) == Some("\\u") => {
                            let low = rest.get(6..10).and_then(|hex| u32::from_str_radix(hex, 16).ok());
                            if let Some(low @ 0xDC00..=0xDFFF) = low {
                                text.extend(char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)));
                                for _ in 0..10 {
                                    chars.next();
                                }
                                continue;
                            }
                        }
                        Some(code) => text.extend(char::from_u32(code)),
                        None => {}
                    }
                    for _ in 0..used.min(rest.len()) {
                        chars.next();
                    }
                }
                Some((_, 'x')) => {
                    let code = source.get(at + 2..at + 4).and_then(|hex| u32::from_str_radix(hex, 16).ok());
                    text.extend(code.and_then(char::from_u32));
                    chars.next();
                    chars.next();
                }
                // A line continuation.
                Some((_, '\n')) => {}
                Some((_, other)) => text.push(other),
                None => return (text, bytes.len()),
            },
            _ => text.push(c),
        }
    }
    (text, bytes.len())
}

/// Appends what `document.write("…" + "…")` and `document.writeln` write with literal strings.
fn written_markup(tokens: &[Token<'_>], written: &mut String) {
    let mut index = 0;
    while index + 3 < tokens.len() {
        let is_write = tokens[index] == Token::Word("document")
            && tokens[index + 1] == Token::Punct(b'.')
            && matches!(tokens[index + 2], Token::Word("write" | "writeln"))
            && tokens[index + 3] == Token::Punct(b'(');
        if !is_write {
            index += 1;
            continue;
        }
        index += 4;
        let mut depth = 0usize;
        while let Some(token) = tokens.get(index) {
            match token {
                Token::Punct(b'(') => depth += 1,
                Token::Punct(b')') if depth == 0 => break,
                Token::Punct(b')') => depth -= 1,
                Token::Str(text) if written.len() + text.len() <= MAX_WRITTEN_BYTES => written.push_str(text),
                _ => {}
            }
            index += 1;
        }
        written.push('\n');
    }
}

struct Frame {
    /// `{` or `[`.
    opener: u8,
    fields: Vec<(Option<String>, String)>,
    records: Vec<Record>,
}

/// Groups the string fields of object and array literals by the array holding them.
fn literals(tokens: &[Token<'_>], lists: &mut ScriptLists, records: &mut usize, depth: u8) {
    let mut stack: Vec<Frame> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        if *records >= MAX_RECORDS {
            return;
        }
        match token {
            // Deeper than any list a page renders: a hostile script; start afresh.
            Token::Punct(b'{' | b'[') if stack.len() >= MAX_DEPTH => stack.clear(),
            Token::Punct(opener @ (b'{' | b'[')) => {
                stack.push(Frame { opener: *opener, fields: Vec::new(), records: Vec::new() })
            }
            Token::Punct(closer @ (b'}' | b']')) => {
                let Some(frame) = stack.pop() else { continue };
                if frame.opener != if *closer == b'}' { b'{' } else { b'[' } {
                    // Unbalanced: start afresh rather than misgroup.
                    stack.clear();
                    continue;
                }
                if frame.records.len() >= 2 {
                    *records += frame.records.len();
                    lists.arrays.push(frame.records);
                }
                // An object, or an array of plain values, is a record of the array around it.
                if frame.fields.len() >= 2
                    && let Some(parent) = stack.last_mut()
                    && parent.opener == b'['
                {
                    parent.records.push(Record { fields: frame.fields });
                }
            }
            Token::Str(text) => {
                let text = text.trim();
                // JSON in a string (`JSON.parse('[{"title": …}]')`): read it too.
                if depth < MAX_NESTED_JSON && (text.starts_with('[') || text.starts_with('{')) && text.contains(':') {
                    read_into(text, lists, records, depth + 1);
                    continue;
                }
                let Some(frame) = stack.last_mut() else { continue };
                push_value(frame, tokens, index, text);
            }
            Token::Word(word) if word.bytes().all(|b| b.is_ascii_digit()) => {
                let Some(frame) = stack.last_mut() else { continue };
                push_value(frame, tokens, index, word);
            }
            _ => {}
        }
    }
}

/// Records the value at `index` in `frame`: in an array as it stands, in an object under the
/// key before its `:`. A key itself is not a value.
fn push_value(frame: &mut Frame, tokens: &[Token<'_>], index: usize, value: &str) {
    if frame.fields.len() >= 64 {
        return;
    }
    if frame.opener == b'[' {
        if matches!(tokens.get(index + 1), Some(Token::Punct(b',' | b']'))) {
            frame.fields.push((None, value.to_string()));
        }
        return;
    }
    let key = match (index.checked_sub(2).map(|i| &tokens[i]), index.checked_sub(1).map(|i| &tokens[i])) {
        (Some(Token::Word(key)), Some(Token::Punct(b':'))) => key.to_ascii_lowercase(),
        (Some(Token::Str(key)), Some(Token::Punct(b':'))) => key.to_lowercase(),
        _ => return,
    };
    // Only a whole value: `title: "a" + b` is not the title.
    if !matches!(tokens.get(index + 1), Some(Token::Punct(b',' | b'}')) | None) {
        return;
    }
    frame.fields.push((Some(key), value.to_string()));
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'r>(record: &'r Record, key: &str) -> Option<&'r str> {
        record.fields.iter().find(|(k, _)| k.as_deref() == Some(key)).map(|(_, v)| v.as_str())
    }

    #[test]
    fn arrays_of_objects_in_their_usual_spellings() {
        let script = r##"
            // 新闻列表
            var newsList = [
              {"title": "县政府召开常务会议", "url": "/a/1.html", "pubDate": "2026-11-20"},
              {title: '县领导调研\'秋冬种\'', url: "/a/2.html", date: '2026/11/19'}, /* 注释 } ] */
              { name: `乡村振兴\u5de5作`, link: '/a/3.html', time: 1763500000000 }
            ];
            var re = /[\]"']+/g, x = a / b / c;
            $("#list").html(render(newsList));
        "##;
        let lists = read_script(script);
        assert_eq!(lists.arrays.len(), 1, "{lists:?}");
        let records = &lists.arrays[0];
        assert_eq!(records.len(), 3);
        assert_eq!(field(&records[0], "pubdate"), Some("2026-11-20"));
        assert_eq!(field(&records[1], "title"), Some("县领导调研'秋冬种'"));
        assert_eq!(field(&records[2], "name"), Some("乡村振兴工作"));
        assert_eq!(field(&records[2], "time"), Some("1763500000000"));
    }

    #[test]
    fn json_in_a_string_and_arrays_of_arrays() {
        let script = r#"var data = JSON.parse('{"total":2,"list":[{"docTitle":"\u53bf\u6c11\u653f\u5c40","docPubUrl":"/c/1.html"},{"docTitle":"b","docPubUrl":"/c/2.html"}]}');
            var rows = [["关于做好冬季安全生产工作的通知", "2026-11-18", "/d/1.html"], ["县应急管理局演练", "2026-11-02", "/d/2.html"]];"#;
        let lists = read_script(script);
        assert_eq!(lists.arrays.len(), 2, "{lists:?}");
        assert_eq!(field(&lists.arrays[0][0], "doctitle"), Some("县民政局"));
        assert_eq!(lists.arrays[1][1].fields[1], (None, "2026-11-02".to_string()));
    }

    #[test]
    fn document_write_markup_is_joined() {
        let script = "document.write('<li><a href=\"/n/1.html\">县政府常务会议<\\/a><span>2026-11-20</span></li>');\n\
                      document.writeln(\"<li><a href='/n/2.html'>\" + \"县领导调研</a></li>\");";
        let lists = read_script(script);
        assert!(
            lists.written.contains("<a href=\"/n/1.html\">县政府常务会议</a><span>2026-11-20</span>"),
            "{}",
            lists.written
        );
        assert!(lists.written.contains("<li><a href='/n/2.html'>县领导调研</a></li>"), "{}", lists.written);
    }

    #[test]
    fn hostile_scripts_are_bounded() {
        let huge = format!("var list = [{}];", "{title:'县政府召开常务会议',date:'2026-11-20'},".repeat(60_000));
        let lists = read_script(&huge);
        let kept: usize = lists.arrays.iter().map(Vec::len).sum();
        assert!(kept <= MAX_RECORDS + 64, "{kept}");
        // Unbalanced, unterminated, nested without end: read without a panic.
        for script in ["[[[[{{{{", "'abc", "a = /unterminated", "]]]}}}", "\"\\u12", "`${`", "document.write(", "\\"] {
            let _ = read_script(script);
        }
        let deep = "[".repeat(100_000);
        assert!(read_script(&deep).arrays.is_empty());
    }
}
