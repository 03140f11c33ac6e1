//! Reads the published messages of a message board (留言板, 县长信箱, 咨询投诉) with no per-site
//! setup: when each was posted, whether and when it was answered, by which unit, with what.
//!
//! Two layouts cover what government CMSs publish:
//! - **tables** whose header names the columns (`标题 | 留言时间 | 答复时间 | 答复单位 | 状态`);
//! - **labelled blocks**, a list or a page of them: `留言时间：2026-11-01 … 答复单位：县住建局
//!   答复时间：2026-11-05 答复内容：…`. A message is the largest element that holds exactly one
//!   "posted" label, so neighbouring messages never mix.
//!
//! Labels vary by CMS; the word lists below are the ones boards use. Pure: a parsed page in, the
//! messages out.

use jiff::civil::Date;
use xunjian_shared::time::Published;
use xunjian_shared::time::parse::{date_cell, dates_in_text};

use super::html::{Document, NodeData, NodeId};
use super::select::SelectorList;

/// One published message as the board shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    pub title: String,
    /// The message's own link (its detail page), as written.
    pub link: Option<String>,
    pub posted: Option<Published>,
    pub replied: Option<Published>,
    pub reply_unit: Option<String>,
    pub reply_content: Option<String>,
    /// A status the board shows (已回复, 办理中 …), if any.
    pub status: Option<String>,
    /// The category the board files the message under (咨询, 投诉, 建议 …), if it shows one.
    pub category: Option<String>,
    /// All the message's text, for keywords such as 简单咨询.
    pub text: String,
}

impl Message {
    /// Whether the board says or shows a reply.
    pub fn answered(&self) -> bool {
        if let Some(status) = &self.status
            && UNANSWERED_WORDS.iter().any(|word| status.contains(word))
        {
            return false;
        }
        self.replied.is_some()
            || self.reply_content.as_ref().is_some_and(|c| !c.is_empty())
            || self.status.as_ref().is_some_and(|status| ANSWERED_WORDS.iter().any(|word| status.contains(word)))
    }
}

/// Which part of a message a label names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Title,
    Posted,
    Replied,
    Unit,
    Content,
    Status,
    /// The board's category of the message (类型: 咨询, 投诉 …).
    Category,
    /// A label the board uses for something else (留言内容, 姓名): it ends the previous field's value.
    Other,
}

/// Labels, longest first within a field so `答复内容` wins over `答复`.
const LABELS: &[(&str, Field)] = &[
    ("留言标题", Field::Title),
    ("信件标题", Field::Title),
    ("来信标题", Field::Title),
    ("咨询标题", Field::Title),
    ("标题", Field::Title),
    ("主题", Field::Title),
    ("留言时间", Field::Posted),
    ("留言日期", Field::Posted),
    ("提问时间", Field::Posted),
    ("来信时间", Field::Posted),
    ("来信日期", Field::Posted),
    ("咨询时间", Field::Posted),
    ("提交时间", Field::Posted),
    ("写信时间", Field::Posted),
    ("投诉时间", Field::Posted),
    ("答复时间", Field::Replied),
    ("答复日期", Field::Replied),
    ("回复时间", Field::Replied),
    ("回复日期", Field::Replied),
    ("办结时间", Field::Replied),
    ("处理时间", Field::Replied),
    ("反馈时间", Field::Replied),
    ("答复单位", Field::Unit),
    ("答复部门", Field::Unit),
    ("回复单位", Field::Unit),
    ("回复部门", Field::Unit),
    ("办理单位", Field::Unit),
    ("处理单位", Field::Unit),
    ("承办单位", Field::Unit),
    ("受理单位", Field::Unit),
    ("答复内容", Field::Content),
    ("回复内容", Field::Content),
    ("答复意见", Field::Content),
    ("处理结果", Field::Content),
    ("办理结果", Field::Content),
    ("办理状态", Field::Status),
    ("处理状态", Field::Status),
    ("答复状态", Field::Status),
    ("回复状态", Field::Status),
    ("状态", Field::Status),
    ("留言内容", Field::Other),
    ("来信内容", Field::Other),
    ("咨询内容", Field::Other),
    ("留言人", Field::Other),
    ("来信人", Field::Other),
    ("姓名", Field::Other),
    ("编号", Field::Other),
    ("留言类型", Field::Category),
    ("信件类型", Field::Category),
    ("咨询类型", Field::Category),
    ("留言类别", Field::Category),
    ("信件类别", Field::Category),
    ("类型", Field::Category),
    ("类别", Field::Category),
    ("分类", Field::Category),
];
const ANSWERED_WORDS: &[&str] = &["已回复", "已答复", "已办结", "已处理", "已反馈", "办结", "已回"];
const UNANSWERED_WORDS: &[&str] =
    &["未回复", "未答复", "待回复", "待答复", "办理中", "处理中", "受理中", "未办结", "待处理", "未处理"];

/// Reads every message on a board page.
pub fn read_messages(document: &Document, today: Date, item_selector: Option<&SelectorList>) -> Vec<Message> {
    if let Some(selector) = item_selector {
        return selector
            .select(document, Document::ROOT)
            .into_iter()
            .filter_map(|item| labelled_message(document, item, today, false))
            .filter(|message| message.posted.is_some() || !is_pager(&message.text))
            .collect();
    }
    let tables = table_messages(document, today);
    if !tables.is_empty() {
        return tables;
    }
    block_messages(document, today)
}

/// Whether the page labels anything a message shows (留言时间：, 答复单位：, 标题： …).
pub fn shows_labels(document: &Document) -> bool {
    !labels_in(&document.text(Document::ROOT)).is_empty()
}

/// One message's detail page: its labelled fields, read from the whole page.
pub fn read_detail(document: &Document, today: Date) -> Option<Message> {
    labelled_message(document, Document::ROOT, today, false)
}

/// Messages from tables whose header row names the fields.
fn table_messages(document: &Document, today: Date) -> Vec<Message> {
    let mut messages = Vec::new();
    for table in document.descendants(Document::ROOT).filter(|n| document.is_element(*n, "table")) {
        let rows: Vec<NodeId> = document
            .descendants(table)
            .filter(|n| document.is_element(*n, "tr") && nearest_table(document, *n) == Some(table))
            .collect();
        let Some((header_index, columns)) = rows.iter().enumerate().take(3).find_map(|(index, row)| {
            let columns: Vec<Option<Field>> =
                cells(document, *row).iter().map(|cell| header_field(&document.text(*cell))).collect();
            let posted = columns.contains(&Some(Field::Posted));
            let reply = columns.iter().any(|c| matches!(c, Some(Field::Replied | Field::Status | Field::Unit)));
            (posted && reply).then_some((index, columns))
        }) else {
            continue;
        };
        for row in &rows[header_index + 1..] {
            let cells = cells(document, *row);
            if cells.len() < 2 {
                continue;
            }
            let mut message = Message { text: document.text(*row), ..Message::default() };
            for (cell, field) in cells.iter().zip(&columns) {
                let text = document.text(*cell);
                match field {
                    Some(Field::Title) => {
                        message.title = text;
                        message.link = first_link(document, *cell);
                    }
                    Some(Field::Posted) => message.posted = date_of(&text, today),
                    Some(Field::Replied) => message.replied = date_of(&text, today),
                    Some(Field::Unit) => message.reply_unit = non_empty(&text),
                    Some(Field::Content) => message.reply_content = non_empty(&text),
                    Some(Field::Status) => message.status = non_empty(&text),
                    Some(Field::Category) => message.category = non_empty(&text),
                    _ => {}
                }
            }
            if message.title.is_empty() {
                message.link = first_link(document, *row);
                message.title = message.link.as_ref().map(|_| first_link_text(document, *row)).unwrap_or_default();
            }
            // A row without 留言时间 is a message missing a field, when it is one: a linked title,
            // not the pager some tables end with.
            if message.posted.is_some()
                || (message.link.is_some() && !message.title.trim().is_empty() && !is_pager(&message.text))
            {
                messages.push(message);
            }
        }
    }
    messages
}

/// Messages from labelled blocks: one per "posted" label, in the largest element holding only it.
fn block_messages(document: &Document, today: Date) -> Vec<Message> {
    let count = document.len();
    // Posted labels in each subtree, summed bottom-up (children have larger ids).
    let mut posted = vec![0u32; count];
    let mut hidden = vec![false; count];
    for node in 0..count {
        hidden[node] = document.parent(node).is_some_and(|p| hidden[p])
            || document.element(node).is_some_and(|e| e.name.is_hidden());
    }
    for node in (0..count).rev() {
        if let NodeData::Text(text) = &document.node(node).data
            && !hidden[node]
        {
            posted[node] += labels_in(text).iter().filter(|(_, field)| *field == Field::Posted).count() as u32;
        }
        if let Some(parent) = document.parent(node) {
            posted[parent] += posted[node];
        }
    }
    let mut containers: Vec<NodeId> = Vec::new();
    for node in 0..count {
        if posted[node] != 1 || !matches!(document.node(node).data, NodeData::Text(_)) {
            continue;
        }
        let mut container = node;
        while let Some(parent) = document.parent(container) {
            if posted[parent] != 1 || parent == Document::ROOT {
                break;
            }
            container = parent;
        }
        if !containers.contains(&container) {
            containers.push(container);
        }
    }
    containers.into_iter().filter_map(|container| labelled_message(document, container, today, true)).collect()
}

/// A message from the labelled text of one element; without `require_posted`, one that shows
/// no 留言时间 is still a message when it shows a title or a reply.
fn labelled_message(document: &Document, container: NodeId, today: Date, require_posted: bool) -> Option<Message> {
    let text = document.text(container);
    let mut message = Message { text: text.clone(), link: first_link(document, container), ..Message::default() };
    let labels = labels_in(&text);
    for (index, (at, field)) in labels.iter().enumerate() {
        let label_len = LABELS
            .iter()
            .find(|(label, f)| f == field && text[*at..].starts_with(label))
            .map(|(l, _)| l.len())
            .unwrap_or(0);
        let end = labels.get(index + 1).map(|(next, _)| *next).unwrap_or(text.len());
        let value = text[*at + label_len..end].trim().trim_start_matches([':', '：']).trim();
        match field {
            Field::Title if message.title.is_empty() => message.title = value.to_string(),
            Field::Posted => message.posted = message.posted.or_else(|| date_of(value, today)),
            Field::Replied => message.replied = message.replied.or_else(|| date_of(value, today)),
            Field::Unit => message.reply_unit = message.reply_unit.take().or_else(|| non_empty(value)),
            Field::Content => message.reply_content = message.reply_content.take().or_else(|| non_empty(value)),
            Field::Status => message.status = message.status.take().or_else(|| non_empty(value)),
            Field::Category => message.category = message.category.take().or_else(|| non_empty(value)),
            _ => {}
        }
    }
    if message.status.is_none() {
        message.status =
            ANSWERED_WORDS.iter().chain(UNANSWERED_WORDS).find(|word| text.contains(*word)).map(|w| w.to_string());
    }
    if message.title.is_empty() {
        message.title = first_link_text(document, container);
    }
    if message.title.is_empty() {
        // Unlinked blocks lead with their heading: the text before the first label.
        let lead = labels.first().map(|(at, _)| text[..*at].trim()).unwrap_or("");
        if !lead.is_empty() && lead.chars().count() <= 100 {
            message.title = lead.to_string();
        }
    }
    let shows_something = !message.title.is_empty()
        || message.replied.is_some()
        || message.reply_unit.is_some()
        || message.reply_content.is_some();
    (message.posted.is_some() || (!require_posted && shows_something)).then_some(message)
}

/// Positions of labels (followed by a colon, or ending a table header) in `text`, in order,
/// longest label first where they overlap.
fn labels_in(text: &str) -> Vec<(usize, Field)> {
    let mut found: Vec<(usize, usize, Field)> = Vec::new();
    for (label, field) in LABELS {
        let mut from = 0;
        while let Some(offset) = text[from..].find(label) {
            let at = from + offset;
            let after = text[at + label.len()..].trim_start();
            if after.starts_with(':') || after.starts_with('：') {
                found.push((at, label.len(), *field));
            }
            from = at + label.len();
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut labels: Vec<(usize, Field)> = Vec::new();
    let mut covered_until = 0;
    for (at, len, field) in found {
        if at >= covered_until {
            labels.push((at, field));
            covered_until = at + len;
        }
    }
    labels
}

/// The field a table header cell names, if any.
fn header_field(text: &str) -> Option<Field> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace() && *c != ':' && *c != '：').collect();
    if compact.is_empty() || compact.chars().count() > 8 {
        return None;
    }
    LABELS.iter().find(|(label, _)| compact == *label || compact.contains(label)).map(|(_, field)| *field)
}

/// Text of a pager some lists end with (下一页, 尾页 …), not a message.
fn is_pager(text: &str) -> bool {
    ["下一页", "上一页", "尾页", "首页", "末页"].iter().any(|word| text.contains(word))
}

fn date_of(text: &str, today: Date) -> Option<Published> {
    date_cell(text, today).or_else(|| dates_in_text(text, today).into_iter().next()).filter(|p| p.date <= today)
}

fn non_empty(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty() && trimmed != "-" && trimmed != "无").then(|| trimmed.to_string())
}

fn cells(document: &Document, row: NodeId) -> Vec<NodeId> {
    document.child_elements(row).filter(|c| document.is_element(*c, "td") || document.is_element(*c, "th")).collect()
}

fn nearest_table(document: &Document, node: NodeId) -> Option<NodeId> {
    document.ancestors(node).find(|a| document.is_element(*a, "table"))
}

fn first_link(document: &Document, node: NodeId) -> Option<String> {
    document
        .descendants(node)
        .filter_map(|n| document.element(n).filter(|e| e.name == "a").and_then(|e| e.attr("href")))
        .map(str::trim)
        .find(|href| {
            !href.is_empty() && !href.starts_with('#') && !href.to_ascii_lowercase().starts_with("javascript:")
        })
        .map(str::to_string)
}

fn first_link_text(document: &Document, node: NodeId) -> String {
    document.descendants(node).find(|n| document.is_element(*n, "a")).map(|a| document.text(a)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date::constant(2026, 11, 26);

    fn read(html: &str) -> Vec<Message> {
        read_messages(&Document::parse(html), TODAY, None)
    }

    #[test]
    fn table_with_a_header_row() {
        let messages = read(
            "<table><tr><th>编号</th><th>标题</th><th>留言时间</th><th>答复时间</th><th>答复单位</th><th>状态</th></tr>\
             <tr><td>101</td><td><a href='m/101.html'>小区路灯不亮</a></td><td>2026-11-02</td><td>2026-11-05</td><td>县住建局</td><td>已回复</td></tr>\
             <tr><td>102</td><td><a href='m/102.html'>学位咨询</a></td><td>2026-11-20</td><td></td><td></td><td>办理中</td></tr></table>",
        );
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].title, "小区路灯不亮");
        assert_eq!(messages[0].replied.map(|p| p.date), Some(Date::constant(2026, 11, 5)));
        assert_eq!(messages[0].reply_unit.as_deref(), Some("县住建局"));
        assert!(messages[0].answered());
        assert!(!messages[1].answered());
        assert_eq!(messages[1].link.as_deref(), Some("m/102.html"));
    }

    #[test]
    fn labelled_blocks_do_not_mix() {
        let messages = read(
            "<div class='list'>\
             <div class='item'><h4><a href='/x/1'>关于停车难的建议</a></h4><p>留言人：张先生 留言时间：2026-10-08 09:12</p><p>留言内容：希望增加车位。</p>\
             <div class='reply'><p>答复单位：县交通运输局</p><p>答复时间：2026年10月20日</p><p>答复内容：已纳入明年计划。</p></div></div>\
             <div class='item'><h4><a href='/x/2'>供水问题</a></h4><p>留言时间：2026-11-21</p><p>状态：待回复</p></div>\
             </div>",
        );
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0].title, "关于停车难的建议");
        assert_eq!(messages[0].posted.map(|p| p.to_string()).as_deref(), Some("2026-10-08T09:12:00+08:00"));
        assert_eq!(messages[0].replied.map(|p| p.date), Some(Date::constant(2026, 10, 20)));
        assert_eq!(messages[0].reply_unit.as_deref(), Some("县交通运输局"));
        assert_eq!(messages[0].reply_content.as_deref(), Some("已纳入明年计划。"));
        assert!(messages[0].answered());
        assert!(!messages[1].answered());
        assert_eq!(messages[1].reply_unit, None);

        let unlinked = read(
            "<div class='item'><h4>农村宅基地审批进度</h4><p>留言时间：2026-08-19</p><p>状态：待回复</p></div>\
             <div class='item'><h4>充电桩建设</h4><p>留言时间：2026-11-01</p><p>答复时间：2026-11-03</p></div>",
        );
        let titles: Vec<&str> = unlinked.iter().map(|m| m.title.as_str()).collect();
        assert_eq!(titles, ["农村宅基地审批进度", "充电桩建设"], "an unlinked block's heading is its title");
    }

    #[test]
    fn a_row_without_its_date_is_kept_and_the_category_read() {
        let messages = read(
            "<table><tr><th>标题</th><th>类型</th><th>留言时间</th><th>答复时间</th><th>状态</th></tr>\
             <tr><td><a href='m/1.html'>办事大厅几点开门</a></td><td>咨询</td><td>2026-11-02</td><td>2026-11-04</td><td>已回复</td></tr>\
             <tr><td><a href='m/2.html'>噪音扰民</a></td><td>投诉</td><td></td><td>2026-11-06</td><td>已回复</td></tr>\
             <tr><td>共2页</td><td><a href='?page=2'>下一页</a></td></tr></table>",
        );
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0].category.as_deref(), Some("咨询"));
        assert_eq!((messages[1].title.as_str(), messages[1].posted), ("噪音扰民", None));
        assert_eq!(messages[1].category.as_deref(), Some("投诉"));
        let block = read_detail(&Document::parse("<p>信件标题：路灯维修</p><p>答复单位：县住建局</p>"), TODAY).unwrap();
        assert_eq!(
            (block.title.as_str(), block.posted, block.reply_unit.as_deref()),
            ("路灯维修", None, Some("县住建局"))
        );
    }

    #[test]
    fn a_firewalls_page_labels_nothing_a_message_shows() {
        assert!(!shows_labels(&Document::parse(
            "<html><body><h1>安全验证</h1><a href='/'>请开启JavaScript后刷新</a></body></html>"
        )));
        assert!(shows_labels(&Document::parse("<p>信件标题：路灯维修</p><p>答复单位：县住建局</p>")));
    }

    #[test]
    fn a_page_without_messages_has_none() {
        assert!(read("<ul><li><a href='/1'>新闻</a><span>2026-11-20</span></li></ul>").is_empty());
    }
}
