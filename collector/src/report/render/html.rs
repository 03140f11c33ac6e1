//! One self-contained page (no external asset: the office intranet is offline), laid out for
//! A4 with 公文 fonts where installed; PDF is this page printed by Chromium. A Content Security
//! Policy forbids everything but the inline style, so nothing in it can load or run.

use super::{Block, outline};
use crate::report::model::Report;
use crate::web::status_page::escape;

const STYLE: &str = r#"
@page { size: A4; margin: 37mm 26mm 35mm 28mm; }
html { color: #000; background: #fff; }
body { margin: 0; font-family: "仿宋_GB2312", "FangSong_GB2312", "FangSong", "仿宋", "STFangsong", "Noto Serif CJK SC", "Source Han Serif SC", "WenQuanYi Micro Hei", serif; font-size: 16pt; line-height: 1.7; }
h1 { font-family: "方正小标宋简体", "FZXiaoBiaoSong-B05S", "FZXiaoBiaoSong-B05", "SimSun", "宋体", "Noto Serif CJK SC", "WenQuanYi Micro Hei", serif; font-size: 22pt; font-weight: normal; text-align: center; line-height: 1.5; margin: 0.5em 0 1em; }
h2 { font-family: "黑体", "SimHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; font-size: 16pt; font-weight: normal; margin: 0.6em 0 0.2em; text-indent: 2em; break-after: avoid; }
h3 { font-family: "楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "WenQuanYi Micro Hei", serif; font-size: 16pt; font-weight: normal; margin: 0.4em 0 0.2em; text-indent: 2em; break-after: avoid; }
p { margin: 0; text-indent: 2em; }
p.number { text-align: center; text-indent: 0; margin-bottom: 0.5em; }
p.addressees { text-indent: 0; }
p.note { font-size: 10.5pt; text-indent: 0; margin: 0 0 1em; }
.signature { text-align: right; margin: 2em 2em 0 0; }
.signature p { text-indent: 0; }
.page-break { break-after: page; page-break-after: always; height: 0; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 10.5pt; line-height: 1.4; margin: 0.4em 0 0.8em; }
th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; overflow-wrap: anywhere; word-break: break-all; }
th { font-family: "黑体", "SimHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; font-weight: normal; background: #f2f2f2; }
thead { display: table-header-group; }
tr, td, th { break-inside: avoid; page-break-inside: avoid; }
@media screen {
  html { background: #e8e8e8; }
  main { background: #fff; width: 210mm; margin: 1em auto; padding: 37mm 26mm 35mm 28mm; box-sizing: border-box; }
  .page-break { border-top: 1px dashed #999; margin: 2em 0; }
}
"#;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str(&format!("<title>{}</title><style>{STYLE}</style></head><body><main>\n", escape(&report.title)));
    for block in outline(report) {
        match block {
            Block::DocumentNumber(text) => out.push_str(&format!("<p class=\"number\">{}</p>\n", escape(&text))),
            Block::Title(text) => out.push_str(&format!("<h1>{}</h1>\n", escape(&text))),
            Block::Addressees(text) => out.push_str(&format!("<p class=\"addressees\">{}</p>\n", escape(&text))),
            Block::Heading(level, text) => {
                let tag = if level <= 1 { "h2" } else { "h3" };
                out.push_str(&format!("<{tag}>{}</{tag}>\n", escape(&text)));
            }
            Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", escape(&text))),
            Block::Note(text) => out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(&text))),
            Block::Signature(lines) => {
                out.push_str("<div class=\"signature\">");
                for line in lines {
                    out.push_str(&format!("<p>{}</p>", escape(&line)));
                }
                out.push_str("</div>\n");
            }
            Block::PageBreak => out.push_str("<div class=\"page-break\"></div>\n"),
            Block::Table(table) => {
                out.push_str("<table><colgroup>");
                for width in &table.widths {
                    out.push_str(&format!("<col style=\"width:{width}%\">"));
                }
                out.push_str("</colgroup><thead><tr>");
                for header in &table.header {
                    out.push_str(&format!("<th>{}</th>", escape(header)));
                }
                out.push_str("</tr></thead><tbody>\n");
                for row in &table.rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str(&format!("<td>{}</td>", escape(cell)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody></table>\n");
            }
        }
    }
    out.push_str("</main></body></html>\n");
    out
}
