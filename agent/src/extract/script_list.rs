//! Lists that exist only in a page's script: an empty `<ul>` filled from a JavaScript array of
//! objects (`var news = [{title: "…", url: "…", date: "2026-11-20"}, …]`, JSON in a string
//! handed to `JSON.parse`, arrays of arrays), or markup written by `document.write('<li>…')`.
//!
//! Nothing is executed. A small lexer reads the script's tokens one at a time (strings with
//! their escapes; comments and regular expressions skipped), and one pass over them, with the
//! last three and the next token in view, collects the string arguments of `document.write`
//! and the string fields of object and array literals, grouped by the array that holds them.
//! Nothing is held per token: tokens, records, fields and written markup stop at fixed caps,
//! whatever the script's size.

use std::borrow::Cow;

/// Tokens read from one script, at most.
const MAX_TOKENS: usize = 500_000;
/// Records kept from one script, at most (a column page shows tens).
const MAX_RECORDS: usize = 2_000;
/// Fields kept of one record, at most.
const MAX_FIELDS: usize = 64;
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
    scan(source, &mut lists, &mut records, 0);
    lists
}

#[derive(Clone, Debug, PartialEq)]
enum Token<'s> {
    Str(Cow<'s, str>),
    /// An identifier, keyword or number.
    Word(&'s str),
    Punct(u8),
}

struct Frame {
    /// `{` or `[`.
    opener: u8,
    fields: Vec<(Option<String>, String)>,
    records: Vec<Record>,
}

/// One pass over the script's tokens: `document.write` arguments into `lists.written`, records
/// of literals into `lists.arrays`.
fn scan(source: &str, lists: &mut ScriptLists, records: &mut usize, depth: u8) {
    let mut lexer = Lexer { source, at: 0, produced: 0, last_allows_regex: true };
    // The three tokens before the current one, and the one after it.
    let mut before: [Option<Token<'_>>; 3] = [None, None, None];
    let Some(mut current) = lexer.next() else { return };
    let mut stack: Vec<Frame> = Vec::new();
    // Inside `document.write(`: how many parentheses deep.
    let mut writing: Option<usize> = None;
    loop {
        let next = lexer.next();
        if let Some(depth) = writing.as_mut() {
            match &current {
                Token::Punct(b'(') => *depth += 1,
                Token::Punct(b')') if *depth == 0 => {
                    writing = None;
                    lists.written.push('\n');
                }
                Token::Punct(b')') => *depth -= 1,
                Token::Str(text) if lists.written.len() + text.len() <= MAX_WRITTEN_BYTES => {
                    lists.written.push_str(text)
                }
                _ => {}
            }
        } else if current == Token::Punct(b'(')
            && matches!(before[2], Some(Token::Word("write" | "writeln")))
            && before[1] == Some(Token::Punct(b'.'))
            && before[0] == Some(Token::Word("document"))
        {
            writing = Some(0);
        }
        literal(&current, &before, next.as_ref(), &mut stack, lists, records, depth);
        let Some(following) = next else { return };
        before.rotate_left(1);
        before[2] = Some(std::mem::replace(&mut current, following));
    }
}

/// What `token` does to the literals being read: opens or closes one, or is one's value.
fn literal<'s>(
    token: &Token<'s>,
    before: &[Option<Token<'s>>; 3],
    next: Option<&Token<'s>>,
    stack: &mut Vec<Frame>,
    lists: &mut ScriptLists,
    records: &mut usize,
    depth: u8,
) {
    match token {
        // Deeper than any list a page renders: a hostile script; start afresh.
        Token::Punct(b'{' | b'[') if stack.len() >= MAX_DEPTH => stack.clear(),
        Token::Punct(opener @ (b'{' | b'[')) => {
            stack.push(Frame { opener: *opener, fields: Vec::new(), records: Vec::new() })
        }
        Token::Punct(closer @ (b'}' | b']')) => {
            let Some(frame) = stack.pop() else { return };
            if frame.opener != if *closer == b'}' { b'{' } else { b'[' } {
                // Unbalanced: start afresh rather than misgroup.
                stack.clear();
                return;
            }
            if frame.records.len() >= 2 {
                lists.arrays.push(frame.records);
            }
            // An object, or an array of plain values, is a record of the array around it.
            if frame.fields.len() >= 2
                && let Some(parent) = stack.last_mut()
                && parent.opener == b'['
                && *records < MAX_RECORDS
            {
                *records += 1;
                parent.records.push(Record { fields: frame.fields });
            }
        }
        Token::Str(text) => {
            let text = text.trim();
            // JSON in a string (`JSON.parse('[{"title": …}]')`): read it too.
            if depth < MAX_NESTED_JSON && (text.starts_with('[') || text.starts_with('{')) && text.contains(':') {
                scan(text, lists, records, depth + 1);
                return;
            }
            if let Some(frame) = stack.last_mut().filter(|_| *records < MAX_RECORDS) {
                push_value(frame, before, next, text);
            }
        }
        Token::Word(word) if word.bytes().all(|b| b.is_ascii_digit()) => {
            if let Some(frame) = stack.last_mut().filter(|_| *records < MAX_RECORDS) {
                push_value(frame, before, next, word);
            }
        }
        _ => {}
    }
}

/// Records `value` in `frame`: in an array as it stands, in an object under the key before its
/// `:`. A key itself is not a value, nor is part of an expression (`title: "a" + b`).
fn push_value(frame: &mut Frame, before: &[Option<Token<'_>>; 3], next: Option<&Token<'_>>, value: &str) {
    if frame.fields.len() >= MAX_FIELDS {
        return;
    }
    if frame.opener == b'[' {
        if matches!(next, Some(Token::Punct(b',' | b']'))) {
            frame.fields.push((None, value.to_string()));
        }
        return;
    }
    let key = match (&before[1], &before[2]) {
        (Some(Token::Word(key)), Some(Token::Punct(b':'))) => key.to_ascii_lowercase(),
        (Some(Token::Str(key)), Some(Token::Punct(b':'))) => key.to_lowercase(),
        _ => return,
    };
    if !matches!(next, Some(Token::Punct(b',' | b'}')) | None) {
        return;
    }
    frame.fields.push((Some(key), value.to_string()));
}

/// The script's tokens one at a time, up to [`MAX_TOKENS`]; comments and regular expressions
/// dropped.
struct Lexer<'s> {
    source: &'s str,
    at: usize,
    produced: usize,
    /// Whether a `/` here would start a regular expression (after an operator or a keyword),
    /// not divide.
    last_allows_regex: bool,
}

impl<'s> Iterator for Lexer<'s> {
    type Item = Token<'s>;

    fn next(&mut self) -> Option<Token<'s>> {
        let source = self.source;
        let bytes = source.as_bytes();
        if self.produced >= MAX_TOKENS {
            return None;
        }
        while self.at < bytes.len() {
            let byte = bytes[self.at];
            let token = match byte {
                b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => {
                    self.at += 1;
                    continue;
                }
                b'/' if bytes.get(self.at + 1) == Some(&b'/') => {
                    self.at = bytes[self.at..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| self.at + i);
                    continue;
                }
                b'/' if bytes.get(self.at + 1) == Some(&b'*') => {
                    self.at = find(&bytes[self.at + 2..], b"*/").map_or(bytes.len(), |i| self.at + 2 + i + 2);
                    continue;
                }
                b'/' if self.last_allows_regex => {
                    self.at = skip_regex(bytes, self.at);
                    self.last_allows_regex = false;
                    continue;
                }
                b'"' | b'\'' | b'`' => {
                    let (text, end) = string_literal(source, self.at);
                    self.at = end;
                    self.last_allows_regex = false;
                    Token::Str(text)
                }
                _ if is_word_byte(byte) => {
                    let end = self.at + bytes[self.at..].iter().take_while(|b| is_word_byte(**b)).count();
                    let word = &source[self.at..end];
                    self.at = end;
                    self.last_allows_regex = matches!(
                        word,
                        "return"
                            | "typeof"
                            | "case"
                            | "do"
                            | "else"
                            | "in"
                            | "of"
                            | "new"
                            | "delete"
                            | "void"
                            | "throw"
                    );
                    Token::Word(word)
                }
                _ if byte.is_ascii() => {
                    self.at += 1;
                    self.last_allows_regex = !matches!(byte, b')' | b']' | b'}');
                    Token::Punct(byte)
                }
                // Other non-ASCII outside strings: part of an identifier; skip the whole character.
                _ => {
                    self.at += source[self.at..].chars().next().map_or(1, char::len_utf8);
                    continue;
                }
            };
            self.produced += 1;
            return Some(token);
        }
        None
    }
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$'
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

/// The string literal opening at `start`, unescaped, and where it ends: borrowed from the
/// source when it has no escapes. A quote's string ends at a line break if unterminated; a
/// template's `${…}` is kept as written.
fn string_literal(source: &str, start: usize) -> (Cow<'_, str>, usize) {
    let bytes = source.as_bytes();
    let quote = bytes[start];
    let body = start + 1;
    // Quotes, backslashes and line breaks are ASCII, never inside a multibyte character: every
    // position found here is a character boundary.
    let mut at = body;
    while at < bytes.len() {
        match bytes[at] {
            b if b == quote => return (Cow::Borrowed(&source[body..at]), at + 1),
            b'\n' if quote != b'`' => return (Cow::Borrowed(&source[body..at]), at),
            b'\\' => break,
            _ => at += 1,
        }
    }
    if at >= bytes.len() {
        return (Cow::Borrowed(&source[body..]), bytes.len());
    }
    let mut text = String::from(&source[body..at]);
    while at < bytes.len() {
        match bytes[at] {
            b if b == quote => return (Cow::Owned(text), at + 1),
            b'\n' if quote != b'`' => return (Cow::Owned(text), at),
            b'\\' => {
                let Some(&escaped) = bytes.get(at + 1) else { break };
                at += 2;
                match escaped {
                    b'n' => text.push('\n'),
                    b't' => text.push('\t'),
                    b'r' => text.push('\r'),
                    // A line continuation.
                    b'\n' => {}
                    b'u' => {
                        if let Some((character, used)) = unicode_escape(&bytes[at..]) {
                            text.extend(character);
                            at += used;
                        }
                    }
                    b'x' => {
                        if let Some(code) = bytes.get(at..at + 2).and_then(hex_value) {
                            text.extend(char::from_u32(code));
                            at += 2;
                        }
                    }
                    // Any other character stands for itself (`\'`, `\/`, `\\`, a multibyte one).
                    _ => {
                        let character = source[at - 1..].chars().next().unwrap_or('\u{FFFD}');
                        text.push(character);
                        at = at - 1 + character.len_utf8();
                    }
                }
            }
            _ => {
                let character = source[at..].chars().next().unwrap_or('\u{FFFD}');
                text.push(character);
                at += character.len_utf8();
            }
        }
    }
    (Cow::Owned(text), bytes.len())
}

/// The character of a `\u` escape whose digits start `bytes` (`4e00`, `{4e00}`, a surrogate
/// pair `d840\udc00`), and how many bytes it used; None when it is not one.
fn unicode_escape(bytes: &[u8]) -> Option<(Option<char>, usize)> {
    if bytes.first() == Some(&b'{') {
        let end = bytes.iter().take(8).position(|b| *b == b'}')?;
        let code = hex_value(&bytes[1..end])?;
        return Some((char::from_u32(code), end + 1));
    }
    let code = hex_value(bytes.get(..4)?)?;
    if (0xD800..=0xDBFF).contains(&code)
        && bytes.get(4..6) == Some(b"\\u")
        && let Some(low) = bytes.get(6..10).and_then(hex_value).filter(|low| (0xDC00..=0xDFFF).contains(low))
    {
        return Some((char::from_u32(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 10));
    }
    Some((char::from_u32(code), 4))
}

/// Hex digits (and nothing else, not even a sign) as a number.
fn hex_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
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
        // 30,000 records in one array that closes (fewer tokens than the cap): 2,000 kept.
        let huge = format!("var list = [{}];", "{t:'县政',d:'2026-11-20'},".repeat(30_000));
        let lists = read_script(&huge);
        let kept: usize = lists.arrays.iter().map(Vec::len).sum();
        assert_eq!(kept, MAX_RECORDS);
        // `\u{` without its brace, over and over: read in one pass, not one per escape.
        let escapes = format!("var s = \"{}\";", "\\u{x".repeat(200_000));
        let started = std::time::Instant::now();
        assert!(read_script(&escapes).arrays.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
        // Unbalanced, unterminated, nested without end: read without a panic.
        for script in [
            "[[[[{{{{",
            "'abc",
            "a = /unterminated",
            "]]]}}}",
            "\"\\u12",
            "`${`",
            "document.write(",
            "\\",
            "'\\x",
            "'\\u{é",
            "'\\é'",
            "'\\u+041'",
        ] {
            let _ = read_script(script);
        }
        let deep = "[".repeat(100_000);
        assert!(read_script(&deep).arrays.is_empty());
    }
}
