//! Reads a service guide (办事指南) page: which of the national indicator's element categories
//! it shows with content (事项名称, 设定依据, 申请条件, 办理材料, 办理地点, 办理机构, 收费标准,
//! 办理时间, 联系电话, 办理流程), with no per-site setup.
//!
//! Government CMSs and 政务服务网 guide pages label each element in one of a few ways, and
//! the content sits where the label's kind says:
//! - a **table**: a label cell with its content in the next cell of the row, or a header row
//!   of labels with the contents in the row below;
//! - a **definition list**: `<dt>` label, `<dd>` content;
//! - a **heading or bold label** (`<h3>`, `<strong>`, `<span class="title">`, `<label>`)
//!   followed by its content up to the next label, on its own level or its parent's;
//! - **inline**: `办理地点：县政务服务中心一楼` in one paragraph;
//! - **tabs**: a bar of labels (`<li>办理材料</li>`) whose panels follow in the same order or
//!   are named by `href="#…"`, `data-target` or `aria-controls`.
//!
//! A category counts as present only when some label of it has content: `无` is content; an
//! empty cell, `暂无…`, `待补充` or only punctuation and white space is not. The categories
//! and their synonyms are data ([`Categories`]), which configuration may extend. Pure: a parsed
//! page in, the reading out.

use super::html::{Document, NodeData, NodeId};

/// One element category: its canonical name and the labels pages use for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub name: String,
    pub synonyms: Vec<String>,
}

/// The categories a guide is checked for, in the indicator's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Categories(pub Vec<Category>);

/// The national indicator's categories and the labels CMSs give them.
const DEFAULT_CATEGORIES: &[(&str, &[&str])] = &[
    ("事项名称", &["事项名称", "服务事项名称", "事项全称", "办事事项名称", "服务名称", "项目名称"]),
    ("设定依据", &["设定依据", "实施依据", "法定依据", "法律依据", "办理依据", "受理依据", "政策依据"]),
    ("申请条件", &["申请条件", "受理条件", "办理条件", "申办条件", "申报条件", "受理标准", "准予条件"]),
    (
        "办理材料",
        &[
            "办理材料",
            "申请材料",
            "申报材料",
            "所需材料",
            "提交材料",
            "申办材料",
            "办事材料",
            "材料清单",
            "所需资料",
            "申请资料",
        ],
    ),
    ("办理地点", &["办理地点", "受理地点", "办公地点", "办理地址", "受理地址", "窗口地址", "办理窗口", "受理窗口"]),
    (
        "办理机构",
        &[
            "办理机构",
            "实施主体",
            "实施机构",
            "实施机关",
            "受理机构",
            "受理单位",
            "办理单位",
            "办理部门",
            "受理部门",
            "实施部门",
            "承办机构",
            "责任部门",
        ],
    ),
    ("收费标准", &["收费标准", "是否收费", "收费依据及标准", "收费情况", "收费项目", "收费依据"]),
    ("办理时间", &["办理时间", "受理时间", "办公时间", "工作时间", "窗口办公时间"]),
    ("联系电话", &["联系电话", "咨询电话", "咨询方式", "联系方式", "咨询途径"]),
    ("办理流程", &["办理流程", "办理程序", "办事流程", "办理步骤", "受理程序", "审批流程", "办理环节", "流程图"]),
];

impl Default for Categories {
    fn default() -> Self {
        Categories(
            DEFAULT_CATEGORIES
                .iter()
                .map(|(name, synonyms)| Category {
                    name: (*name).to_string(),
                    synonyms: synonyms.iter().map(|s| (*s).to_string()).collect(),
                })
                .collect(),
        )
    }
}

impl Categories {
    /// These categories with `extra` added: synonyms of a known category join it, an unknown
    /// name is a new category (its own name a label of it).
    pub fn extended(mut self, extra: &[Category]) -> Categories {
        for added in extra {
            match self.0.iter_mut().find(|known| known.name == added.name) {
                Some(known) => {
                    for synonym in &added.synonyms {
                        if !known.synonyms.contains(synonym) {
                            known.synonyms.push(synonym.clone());
                        }
                    }
                }
                None => {
                    let mut synonyms = vec![added.name.clone()];
                    synonyms.extend(added.synonyms.iter().filter(|s| **s != added.name).cloned());
                    self.0.push(Category { name: added.name.clone(), synonyms });
                }
            }
        }
        self
    }

    /// The category a label names, if any: the label is a synonym, maybe with a parenthesis
    /// or a short qualifier after it (`收费标准及依据`, `办理时间（工作日）`). The longest
    /// synonym wins, so `收费依据` is not read as 设定依据's `依据`.
    fn of_label(&self, label: &str) -> Option<usize> {
        let label = normalize_label(label);
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return None;
        }
        let mut best: Option<(usize, usize)> = None;
        for (index, category) in self.0.iter().enumerate() {
            for synonym in &category.synonyms {
                if label_names(&label, synonym) && best.is_none_or(|(_, length)| synonym.len() > length) {
                    best = Some((index, synonym.len()));
                }
            }
        }
        best.map(|(index, _)| index)
    }

    /// Whether `text` begins with one of the labels.
    fn opens(&self, text: &str) -> bool {
        let text = normalize_label(text);
        self.0.iter().any(|category| category.synonyms.iter().any(|synonym| text.starts_with(synonym.as_str())))
    }
}

/// What a guide page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuideReading {
    /// The page's heading (or title), the guide's name as a person sees it.
    pub title: Option<String>,
    /// Canonical names of the categories shown with content, in the categories' order.
    pub present: Vec<String>,
    /// Canonical names of the categories not shown with content, in the categories' order.
    pub missing: Vec<String>,
    /// Labels of any category found, with content or without: none means the page is not a
    /// guide as served (a script-rendered page, a challenge page, a soft 404), not a guide
    /// missing everything.
    pub labels: usize,
}

/// A label is short; longer text is content that happens to start with a label's word.
const MAX_LABEL_CHARS: usize = 14;
/// Content read for one label at most (enough to tell empty from not).
const MAX_CONTENT_CHARS: usize = 400;
/// Nodes a label's element may hold at most.
const MAX_LABEL_NODES: usize = 64;
/// Nodes read for one label's content at most.
const MAX_CONTENT_NODES: usize = 4096;
/// Labels whose content is looked for at most (a hostile page of 100,000 labels costs no more).
const MAX_LABELS: usize = 400;

/// Reads which categories `document` shows with content.
pub fn read_guide(document: &Document, categories: &Categories) -> GuideReading {
    let mut found = vec![false; categories.0.len()];
    let mut labels = 0;
    for node in document.descendants(Document::ROOT) {
        if labels >= MAX_LABELS {
            break;
        }
        let Some(element) = document.element(node) else { continue };
        if !LABEL_TAGS.contains(&element.name.as_str()) {
            continue;
        }
        let (prefix, whole) = text_prefix(document, node, MAX_LABEL_CHARS * 4 + 8);
        let alone = if whole { categories.of_label(&prefix) } else { None };
        let inline = split_inline(&prefix).and_then(|(label, rest)| Some((categories.of_label(label)?, rest)));
        let Some(category) = alone.or(inline.map(|(category, _)| category)) else { continue };
        if document.is_hidden(node) || in_page_chrome(document, node) {
            continue;
        }
        labels += 1;
        if found[category] {
            continue;
        }
        // A label alone in its element: the content is where the element's kind says.
        if let Some(category) = alone {
            if has_content(&content_of_label(document, node, categories)) {
                found[category] = true;
            }
            continue;
        }
        // `办理地点：县政务服务中心` in one element: the content follows the colon.
        if let Some((category, rest)) = inline {
            let content =
                if has_content(rest) { rest.to_string() } else { following_content(document, node, categories) };
            if has_content(&content) {
                found[category] = true;
            }
        }
    }
    let heading = page_heading(document);
    // A guide names its item in its heading when no cell says 事项名称 (a browser tab's
    // `<title>` is the site's, not the guide's).
    if let Some(name) = categories.0.iter().position(|c| c.name == "事项名称")
        && !found[name]
        && labels > 0
        && heading.as_deref().is_some_and(has_content)
    {
        found[name] = true;
    }
    let title = heading.or_else(|| page_title(document));
    let (present, missing) = categories.0.iter().zip(&found).fold(
        (Vec::new(), Vec::new()),
        |(mut present, mut missing), (category, found)| {
            if *found { &mut present } else { &mut missing }.push(category.name.clone());
            (present, missing)
        },
    );
    GuideReading { title, present, missing, labels }
}

/// Elements a label's content is never looked for beyond.
const WALLS: &[&str] = &["td", "th", "dd", "dt", "li", "tr", "tbody", "table", "ul", "ol", "dl", "body", "html"];

/// Elements that may hold a label.
const LABEL_TAGS: &[&str] = &[
    "th", "td", "dt", "label", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "span", "li", "a", "p", "div",
    "font", "section", "header",
];

/// The content a label element stands for, by the element's kind.
fn content_of_label(document: &Document, label: NodeId, categories: &Categories) -> String {
    let Some(element) = document.element(label) else { return String::new() };
    match element.name.as_str() {
        "th" | "td" => cell_content(document, label, categories),
        "dt" => next_element_sibling(document, label)
            .filter(|next| document.is_element(*next, "dd"))
            .map(|dd| bounded_text(document, dd))
            .unwrap_or_default(),
        // A link is a label only as a tab: elsewhere it is navigation (联系方式 in a footer).
        "a" => tab_panel(document, label, categories).map(|panel| bounded_text(document, panel)).unwrap_or_default(),
        _ => {
            if let Some(panel) = tab_panel(document, label, categories) {
                return bounded_text(document, panel);
            }
            following_content(document, label, categories)
        }
    }
}

/// A table cell's content: the next cell of its row, or, in a header row of labels, the cell
/// below it.
fn cell_content(document: &Document, cell: NodeId, categories: &Categories) -> String {
    if let Some(next) = next_element_sibling(document, cell)
        && matches!(document.element(next).map(|e| e.name.as_str()), Some("td" | "th"))
    {
        let text = bounded_text(document, next);
        if categories.of_label(&text).is_none() {
            return text;
        }
        // The next cell is a label too: a header row.
    }
    let Some(row) = document.parent(cell).filter(|row| document.is_element(*row, "tr")) else {
        return String::new();
    };
    let column = cells(document, row).iter().position(|c| *c == cell).unwrap_or(0);
    let Some(below) = next_element_sibling(document, row).filter(|next| document.is_element(*next, "tr")) else {
        return String::new();
    };
    cells(document, below).get(column).map(|c| bounded_text(document, *c)).unwrap_or_default()
}

fn cells(document: &Document, row: NodeId) -> Vec<NodeId> {
    document
        .child_elements(row)
        .filter(|c| matches!(document.element(*c).map(|e| e.name.as_str()), Some("td" | "th")))
        .collect()
}

/// The panel of a tab: named by the tab (`href="#id"`, `data-target`, `aria-controls`), or the
/// same-numbered child of the first container after the tab bar that has as many children.
fn tab_panel(document: &Document, label: NodeId, categories: &Categories) -> Option<NodeId> {
    // The tab is the label or its nearest list item or link, or an element that says it is one.
    let tab = std::iter::once(label).chain(document.ancestors(label).take(2)).find(|n| {
        document.element(*n).is_some_and(|e| {
            matches!(e.name.as_str(), "li" | "a")
                || e.attr("role") == Some("tab")
                || e.classes().any(|c| {
                    let c = c.to_ascii_lowercase();
                    c.contains("tab") && !c.contains("table")
                })
        })
    })?;
    for node in std::iter::once(tab).chain(document.descendants(tab)).chain(document.ancestors(tab).take(1)) {
        let Some(element) = document.element(node) else { continue };
        let named = element
            .attr("href")
            .and_then(|h| h.strip_prefix('#'))
            .or_else(|| element.attr("data-target").map(|t| t.trim_start_matches('#')))
            .or_else(|| element.attr("aria-controls"))
            .filter(|id| !id.is_empty());
        if let Some(id) = named
            && let Some(panel) = element_by_id(document, id)
        {
            return Some(panel);
        }
    }
    // A bar: the tab's parent whose element children are (almost) all labels.
    let bar = document.parent(tab)?;
    let tabs: Vec<NodeId> = document.child_elements(bar).collect();
    let labelled =
        tabs.iter().filter(|t| short_text(document, **t).is_some_and(|x| categories.of_label(&x).is_some())).count();
    if tabs.len() < 2 || labelled * 2 < tabs.len() {
        return None;
    }
    let index = tabs.iter().position(|t| *t == tab)?;
    // The panels' container follows the bar, or the bar's parent (a tab header block).
    for start in [bar, document.parent(bar)?] {
        let mut next = next_element_sibling(document, start);
        while let Some(container) = next {
            let panels: Vec<NodeId> = document.child_elements(container).collect();
            if panels.len() == tabs.len() {
                return panels.get(index).copied();
            }
            next = next_element_sibling(document, container);
        }
    }
    None
}

fn element_by_id(document: &Document, id: &str) -> Option<NodeId> {
    document.descendants(Document::ROOT).find(|n| document.element(*n).is_some_and(|e| e.attr("id") == Some(id)))
}

/// The text after a heading-like label up to the next label: its following siblings, or, when
/// it is wrapped alone in a title block, the block's.
fn following_content(document: &Document, label: NodeId, categories: &Categories) -> String {
    let own = short_text(document, label).map(|text| normalize_label(&text));
    let mut node = label;
    for _ in 0..3 {
        let mut content = String::new();
        let mut sibling = next_sibling(document, node);
        while let Some(next) = sibling {
            let text = match &document.node(next).data {
                NodeData::Text(text) => text.trim().to_string(),
                NodeData::Element(_) if document.is_hidden(next) => String::new(),
                NodeData::Element(_) => {
                    let (prefix, whole) = text_prefix(document, next, MAX_LABEL_CHARS * 4 + 8);
                    // The next label, alone, inline, or opening the next block (`<div class=
                    // "item"><h3>办理时间</h3>…`), ends this label's content.
                    if (whole && categories.of_label(&prefix).is_some())
                        || split_inline(&prefix).is_some_and(|(l, _)| categories.of_label(l).is_some())
                        || categories.opens(&prefix)
                    {
                        break;
                    }
                    bounded_text(document, next)
                }
                NodeData::Document => String::new(),
            };
            content.push_str(&text);
            if content.chars().count() >= MAX_CONTENT_CHARS {
                break;
            }
            sibling = next_sibling(document, next);
        }
        if !content.trim().is_empty() {
            return content;
        }
        // Up only out of a wrapper that holds nothing but the label (`<div class="tit"><h3>`),
        // never out of a cell, an item or a row (those are labels of their own): a label whose
        // siblings ran into the next label has no content.
        let wrapper = document.parent(node).filter(|parent| {
            *parent != Document::ROOT
                && !document.element(*parent).is_some_and(|e| WALLS.contains(&e.name.as_str()))
                && own.is_some()
                && short_text(document, *parent).map(|text| normalize_label(&text)) == own
        });
        match wrapper {
            Some(parent) => node = parent,
            None => break,
        }
    }
    String::new()
}

fn next_sibling(document: &Document, node: NodeId) -> Option<NodeId> {
    let parent = document.parent(node)?;
    let siblings = document.children(parent);
    let at = siblings.iter().position(|s| *s == node)?;
    siblings.get(at + 1).copied()
}

fn next_element_sibling(document: &Document, node: NodeId) -> Option<NodeId> {
    let mut next = next_sibling(document, node);
    while let Some(candidate) = next {
        if document.element(candidate).is_some() {
            return Some(candidate);
        }
        next = next_sibling(document, candidate);
    }
    None
}

/// The start of the visible text under `node` (about `max` characters, from at most
/// [`MAX_LABEL_NODES`] nodes) and whether that is all of it: a label is short, and reading no
/// further keeps a hostile page (100,000 empty elements) from costing a walk per element.
fn text_prefix(document: &Document, node: NodeId, max: usize) -> (String, bool) {
    let mut out = String::new();
    let mut chars = 0;
    let mut stack = vec![node];
    let mut visited = 0;
    while let Some(next) = stack.pop() {
        visited += 1;
        if visited > MAX_LABEL_NODES || chars > max {
            return (out, false);
        }
        match &document.node(next).data {
            NodeData::Text(text) => {
                let text = text.trim();
                chars += text.chars().count();
                out.push_str(text);
            }
            NodeData::Element(element) if element.name.is_hidden() => {}
            _ => stack.extend(document.children(next).iter().rev()),
        }
    }
    (out, chars <= max)
}

/// The whole text under `node` when it is short enough to be a label.
fn short_text(document: &Document, node: NodeId) -> Option<String> {
    let (text, whole) = text_prefix(document, node, MAX_LABEL_CHARS * 4 + 8);
    whole.then_some(text)
}

/// The text of `node`, at most [`MAX_CONTENT_CHARS`] characters of it; a picture counts as
/// its `alt` or as 图片 (a 办理流程 is often a flow chart).
fn bounded_text(document: &Document, node: NodeId) -> String {
    let mut out = String::new();
    let mut stack = vec![node];
    let mut visited = 0;
    while let Some(next) = stack.pop() {
        visited += 1;
        if visited > MAX_CONTENT_NODES {
            break;
        }
        match &document.node(next).data {
            NodeData::Text(text) => {
                out.push_str(text.trim());
                if out.chars().count() >= MAX_CONTENT_CHARS {
                    break;
                }
            }
            NodeData::Element(element) if element.name.is_hidden() => {}
            NodeData::Element(element)
                if element.name == "img" && element.attr("src").is_some_and(|s| !s.is_empty()) =>
            {
                out.push_str(element.attr("alt").filter(|alt| !alt.trim().is_empty()).unwrap_or("图片"));
            }
            _ => stack.extend(document.children(next).iter().rev()),
        }
    }
    out
}

/// `label：rest` (full- or half-width colon), the label short.
fn split_inline(text: &str) -> Option<(&str, &str)> {
    let at = text.find(['：', ':'])?;
    let label = &text[..at];
    let colon = text[at..].chars().next()?.len_utf8();
    (label.chars().count() <= MAX_LABEL_CHARS + 4).then(|| (label, &text[at + colon..]))
}

/// A label without white space, enumeration (`一、`, `1.`, `（三）`, `①`), marks (`*`) or a
/// trailing colon.
fn normalize_label(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let mut label = compact.trim_end_matches(['：', ':']).trim_matches(['*', '★', '●', '■', '◆', '·']);
    // Enumerations in front.
    loop {
        let before = label;
        label = label.trim_start_matches(|c: char| {
            c.is_ascii_digit() || "一二三四五六七八九十①②③④⑤⑥⑦⑧⑨⑩（）()、.．".contains(c)
        });
        if label == before {
            break;
        }
    }
    label.trim_end_matches(['：', ':']).to_string()
}

/// Whether `label` names `synonym`: equal, or the synonym followed by a parenthesis or a short
/// qualifier (`及依据`, `目录`, `清单`, `（工作日）`).
fn label_names(label: &str, synonym: &str) -> bool {
    let Some(rest) = label.strip_prefix(synonym) else { return false };
    rest.is_empty()
        || rest.starts_with(['（', '(', '【', '['])
        || QUALIFIERS.iter().any(|q| rest == *q || rest.strip_prefix(q).is_some_and(|r| r.starts_with(['（', '('])))
}

const QUALIFIERS: &[&str] =
    &["及依据", "依据", "目录", "清单", "要求", "及要求", "及标准", "标准", "方式", "说明", "信息", "图", "示意图"];

/// Whether text is content: something left after white space and punctuation, other than a
/// placeholder (`暂无`, `待补充`). `无` is content: it says there is none.
fn has_content(text: &str) -> bool {
    let meaningful: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    !meaningful.is_empty() && !PLACEHOLDERS.iter().any(|p| meaningful == *p)
}

const PLACEHOLDERS: &[&str] =
    &["暂无", "暂无信息", "暂无数据", "暂无内容", "暂无相关信息", "待补充", "待完善", "null", "NULL", "undefined"];

/// Whether `node` sits in the page's frame rather than the guide: a footer, the site's
/// navigation or a menu (the site's own 联系电话 in a footer says nothing of a guide). Not a
/// class `nav` alone: Bootstrap's tab bars are `nav nav-tabs`.
fn in_page_chrome(document: &Document, node: NodeId) -> bool {
    std::iter::once(node).chain(document.ancestors(node)).any(|n| {
        document.element(n).is_some_and(|e| {
            matches!(e.name.as_str(), "footer" | "nav")
                || [e.attr("id").unwrap_or(""), e.attr("class").unwrap_or("")].iter().any(|names| {
                    let names = names.to_ascii_lowercase();
                    ["foot", "bottom", "copyright", "navbar", "menu"].iter().any(|word| names.contains(word))
                })
        })
    })
}

/// The page's first `<h1>` (else `<h2>`) outside its frame, short enough to be a heading.
fn page_heading(document: &Document) -> Option<String> {
    for tag in ["h1", "h2"] {
        let heading = document.descendants(Document::ROOT).find_map(|n| {
            if !document.is_element(n, tag) || document.is_hidden(n) || in_page_chrome(document, n) {
                return None;
            }
            let (text, whole) = text_prefix(document, n, MAX_TITLE_CHARS);
            (whole && !text.trim().is_empty()).then(|| text.trim().to_string())
        });
        if heading.is_some() {
            return heading;
        }
    }
    None
}

/// A heading longer than this is not one (an unclosed `<h1>` holding the page).
const MAX_TITLE_CHARS: usize = 120;

/// The page's `<title>`.
fn page_title(document: &Document) -> Option<String> {
    document
        .descendants(Document::ROOT)
        .find(|n| document.is_element(*n, "title"))
        .map(|n| document.raw_text(n).trim().chars().take(MAX_TITLE_CHARS).collect::<String>())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(html: &str) -> GuideReading {
        read_guide(&Document::parse(html), &Categories::default())
    }

    #[test]
    fn labels_are_read_with_qualifiers_and_enumerations() {
        let categories = Categories::default();
        let name = |label: &str| categories.of_label(label).map(|i| categories.0[i].name.as_str());
        assert_eq!(name("一、办理地点："), Some("办理地点"));
        assert_eq!(name("收费标准及依据"), Some("收费标准"));
        assert_eq!(name("收费依据"), Some("收费标准"), "the longer synonym wins over 依据");
        assert_eq!(name("（三）申请材料目录"), Some("办理材料"));
        assert_eq!(name("办理时间（工作日）"), Some("办理时间"));
        assert_eq!(name("* 受理条件"), Some("申请条件"));
        assert_eq!(name("办理时限"), None, "a time limit is not 办理时间");
        assert_eq!(name("办理地点在县政务服务中心一楼大厅请带好身份证"), None, "content, not a label");
    }

    #[test]
    fn placeholders_are_not_content_but_none_is() {
        assert!(has_content("无"));
        assert!(has_content("不收费"));
        assert!(!has_content("  "));
        assert!(!has_content("暂无"));
        assert!(!has_content("—— / ——"));
        assert!(!has_content("待补充。"));
    }

    #[test]
    fn a_two_column_table_with_empty_cells() {
        let html = "<h1>城乡居民养老保险参保登记</h1><table>\
            <tr><td>事项名称</td><td>城乡居民养老保险参保登记</td></tr>\
            <tr><td>设定依据</td><td>《社会保险法》第二十条</td></tr>\
            <tr><td>申请条件</td><td>年满16周岁</td></tr>\
            <tr><td>申请材料</td><td>居民身份证</td></tr>\
            <tr><td>办理地点</td><td></td></tr>\
            <tr><td>实施主体</td><td>县社保局</td></tr>\
            <tr><td>收费标准</td><td>无</td></tr>\
            <tr><td>办理时间</td><td>暂无</td></tr>\
            <tr><td>咨询电话</td><td>0762-1234567</td></tr>\
            </table>";
        let reading = read(html);
        assert_eq!(reading.missing, ["办理地点", "办理时间", "办理流程"]);
        assert_eq!(reading.title.as_deref(), Some("城乡居民养老保险参保登记"));
    }

    #[test]
    fn a_header_row_of_labels_takes_the_cells_below() {
        let html = "<table><tr><th>办理地点</th><th>办理时间</th><th>联系电话</th></tr>\
            <tr><td>县政务服务中心</td><td></td><td>0762-1</td></tr></table>";
        let reading = read(html);
        assert!(reading.present.contains(&"办理地点".to_string()) && reading.present.contains(&"联系电话".to_string()));
        assert!(reading.missing.contains(&"办理时间".to_string()));
    }

    #[test]
    fn definition_lists_headings_inline_and_tabs() {
        let dl = read("<dl><dt>办理流程</dt><dd>受理—审核—办结</dd><dt>收费标准：</dt><dd> </dd></dl>");
        assert!(dl.present.contains(&"办理流程".to_string()) && dl.missing.contains(&"收费标准".to_string()));
        let headings = read(
            "<div class=\"item\"><div class=\"tit\"><h3>申请条件</h3></div><div class=\"con\"><p>本县户籍居民</p></div></div>\
             <div class=\"item\"><div class=\"tit\"><h3>设定依据</h3></div><div class=\"con\"></div></div>",
        );
        assert!(headings.present.contains(&"申请条件".to_string()), "{headings:?}");
        assert!(headings.missing.contains(&"设定依据".to_string()), "{headings:?}");
        let inline =
            read("<p>办理地点：县行政服务中心二楼</p><p><strong>办理时间：</strong>工作日上午</p><p>联系电话：</p>");
        assert!(inline.present.contains(&"办理地点".to_string()) && inline.present.contains(&"办理时间".to_string()));
        assert!(inline.missing.contains(&"联系电话".to_string()), "{inline:?}");
        let tabs = read(
            "<ul class=\"tabs\"><li>申请材料</li><li>办理流程</li><li>设定依据</li></ul>\
             <div class=\"panels\"><div>身份证原件</div><div></div><div>《行政许可法》</div></div>",
        );
        assert!(tabs.present.contains(&"办理材料".to_string()) && tabs.present.contains(&"设定依据".to_string()));
        assert!(tabs.missing.contains(&"办理流程".to_string()), "{tabs:?}");
        let named = read(
            "<ul><li><a href=\"#p1\">办理流程</a></li><li><a href=\"#p2\">收费标准</a></li></ul>\
             <div id=\"p2\">不收费</div><div id=\"p1\">   </div>",
        );
        assert!(named.present.contains(&"收费标准".to_string()) && named.missing.contains(&"办理流程".to_string()));
    }

    #[test]
    fn an_empty_cell_never_borrows_the_next_row_or_item() {
        let table = read(
            "<table><tr><td><b>办理地点</b></td><td></td></tr><tr><td><font>收费标准</font></td><td>不收费</td></tr></table>",
        );
        assert!(table.missing.contains(&"办理地点".to_string()), "{table:?}");
        assert!(table.present.contains(&"收费标准".to_string()), "{table:?}");
        let blocks = read(
            "<div class=\"item\"><div class=\"tit\"><h3>办理地点</h3></div><div class=\"con\"></div></div>\
             <div class=\"item\"><div class=\"tit\"><h3>办理时间</h3></div><div class=\"con\">工作日</div></div>",
        );
        assert!(blocks.missing.contains(&"办理地点".to_string()), "{blocks:?}");
        assert!(blocks.present.contains(&"办理时间".to_string()), "{blocks:?}");
    }

    #[test]
    fn a_page_without_any_label_is_not_a_guide_and_its_title_names_nothing() {
        let page = read(
            "<html><head><title>城乡居民养老保险参保登记</title></head><body><div id=\"app\"></div></body></html>",
        );
        assert_eq!(page.labels, 0, "a script-rendered page shows no guide");
        let titled = read(
            "<html><head><title>某事项_政务服务网</title></head><body><p>办理地点：县政务服务中心</p></body></html>",
        );
        assert!(titled.missing.contains(&"事项名称".to_string()), "the tab's title is the site's: {titled:?}");
        assert_eq!(titled.labels, 1);
    }

    #[test]
    fn extra_categories_and_synonyms_come_from_configuration() {
        let categories = Categories::default().extended(&[
            Category { name: "办理地点".into(), synonyms: vec!["服务大厅".into()] },
            Category { name: "办结时限".into(), synonyms: vec!["承诺时限".into()] },
        ]);
        let reading =
            read_guide(&Document::parse("<p>服务大厅：县政务中心</p><p>承诺时限：5个工作日</p>"), &categories);
        assert!(reading.present.contains(&"办理地点".to_string()) && reading.present.contains(&"办结时限".to_string()));
    }
}
