//! Markdown: the outline as headings, paragraphs and pipe tables.

use super::{Block, outline};
use crate::report::model::Report;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for block in outline(report) {
        match block {
            Block::DocumentNumber(text) => out.push_str(&format!("{}\n\n", escape(&text))),
            Block::Title(text) => out.push_str(&format!("# {}\n\n", escape(&text))),
            Block::Heading(level, text) => {
                out.push_str(&format!("{} {}\n\n", "#".repeat(usize::from(level) + 1), escape(&text)))
            }
            Block::Paragraph(text) | Block::Addressees(text) => out.push_str(&format!("{}\n\n", escape(&text))),
            Block::Note(text) => out.push_str(&format!("*{}*\n\n", escape(&text))),
            Block::Signature(lines) => {
                for line in lines {
                    out.push_str(&format!("{}  \n", escape(&line)));
                }
                out.push('\n');
            }
            Block::PageBreak => out.push_str("---\n\n"),
            Block::Table(table) => {
                out.push_str(&format!("| {} |\n", table.header.join(" | ")));
                out.push_str(&format!("|{}\n", " --- |".repeat(table.header.len())));
                for row in &table.rows {
                    let cells: Vec<String> = row.iter().map(|cell| escape(cell)).collect();
                    out.push_str(&format!("| {} |\n", cells.join(" | ")));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Text as Markdown shows it and nothing more: punctuation that would start markup is
/// escaped, markup-like HTML is entity-encoded, lines are joined (a table cell is one line),
/// and URLs are broken with a zero-width space so no renderer turns them into links.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' | '\n' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out.replace("://", ":\u{200B}//").replace("www.", "www\u{200B}.").replace('@', "@\u{200B}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_text() {
        let escaped =
            escape("<script>x</script> [点此](http://evil.example/) | www.evil.example a@evil.example\n# 标题");
        assert!(!escaped.contains('<') && !escaped.contains("](http") && !escaped.contains("http://"));
        assert!(!escaped.contains("www.") && !escaped.contains("a@e"), "no autolinks: {escaped}");
        assert!(escaped.contains("\\|") && !escaped.contains('\n'));
    }
}
