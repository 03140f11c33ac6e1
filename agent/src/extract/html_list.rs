//! Reads the list of dated items off a column page or a home page, with no per-site setup.
//!
//! How a column's own list is told apart from everything else on the page:
//! 1. **Candidates.** Every run of like siblings (`<li>`, `<tr>`, `<dd>`, `<div class=x>` …) and
//!    every flat run of links (`<a>…</a><span>date</span><br>`) is a candidate list; records of
//!    Hanweb JCMS pages, which sit as CDATA in `<script type="text/xml"><datastore>`, are one
//!    more, and so are lists only a script holds (an array of records filling an empty `<ul>`,
//!    `document.write` of list markup; read by [`script_list`], never run). Lists a CMS split
//!    into several `<ul>`s of five are joined back together.
//! 2. **Items.** An item is small (≤ 4 links, a few hundred characters) and has a linked
//!    title. Its date is, in order of trust: a text node that *is* a date (`<span>2026-11-20</span>`,
//!    `[11-20]`, a table's 发布日期 column); a date a calendar block shows in pieces
//!    (`<span>20</span><span>2026-11</span>`); a full date in its text outside links; a date in its
//!    link (`t20261120_…`). A date inside a title (`关于2026年11月1日起…`) is never the item's date,
//!    nor is a clock (`2026年11月26日 星期四`, it has no link), a copyright range, an ICP or 公安备案
//!    number or a phone number (the date readers reject those shapes).
//! 3. **Choice.** Candidates are scored by dated items, links that lead under the column's own
//!    path (TRS WCM `./202611/t20261120_…`), pagination right after the list (`下一页`,
//!    `createPageHTML`), a heading naming the column, and container names: `side`, `hot`,
//!    `rank`, `related`, `footer`, `nav` … weigh down sidebars of other columns' news. With no
//!    dated list, a list of article titles where the column's list stands (main area, a heading
//!    naming the column, a pager) is its list without dates: undated, not blank.
//!
//! A home page has no single list: every dated list on it counts, outside navigation and footers.
//! The module is pure: a parsed page and `today` in, a reading out.

use std::collections::{BTreeSet, HashMap};

use jiff::civil::Date;
use url::Url;
use xunjian_shared::time::Published;
use xunjian_shared::time::parse::{DatePart, assemble_date, date_cell, date_in_url, date_part, dates_in_text};

use super::html::{Document, NodeData, NodeId, cdata_sections};
use super::script_list;
use super::select::SelectorList;

/// What was read off a page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListReading {
    /// The items of the chosen list (a column) or of every dated list (a home page).
    pub items: Vec<ListItem>,
    pub method: Method,
    /// Text that says the column is empty ("暂无信息"), when the page shows one.
    pub placeholder: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListItem {
    pub title: String,
    /// The item's link as the page wrote it (resolve against the page URL); None for
    /// script-only links.
    pub link: Option<String>,
    pub published: Option<Published>,
}

/// How the list was found; shown to people deciding whether to configure selectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// No list was found.
    #[default]
    None,
    /// The configured `item_selector` / `date_selector`.
    Selectors,
    /// Hanweb JCMS `<datastore>` records.
    Datastore,
    /// A run of like elements or links.
    List,
    /// A table with a date column named in its header.
    Table,
    /// A single article page with a labelled publication date.
    Article,
    /// A list only the page's script holds (an array of objects, `document.write`).
    Script,
}

impl Method {
    pub fn label_zh(self) -> &'static str {
        match self {
            Method::None => "未识别到列表",
            Method::Selectors => "按配置的选择器",
            Method::Datastore => "大汉JCMS数据记录",
            Method::List => "自动识别列表",
            Method::Table => "自动识别表格",
            Method::Article => "单篇文章页",
            Method::Script => "页面脚本中的列表",
        }
    }
}

impl ListReading {
    pub fn dated_items(&self) -> usize {
        self.items.iter().filter(|item| item.published.is_some()).count()
    }

    pub fn newest(&self) -> Option<Published> {
        self.items.iter().filter_map(|item| item.published).max()
    }
}

/// Configured selectors for one column.
#[derive(Clone, Debug)]
pub struct ColumnSelectors {
    pub items: Option<SelectorList>,
    pub dates: Option<SelectorList>,
}

/// Reads a column page: the one list that is the column's own.
pub fn read_column(
    document: &Document,
    page_url: &Url,
    today: Date,
    column_name: &str,
    selectors: Option<&ColumnSelectors>,
) -> ListReading {
    let reader = Reader::new(document, page_url, today);
    if let Some(selectors) = selectors {
        return reader.by_selectors(selectors);
    }
    let placeholder = reader.placeholder();
    let mut candidates = reader.candidates();
    candidates.extend(reader.datastore_candidates());
    candidates.extend(reader.script_candidates());
    // A page that says it is empty is empty, unless its list demonstrably is this column's
    // (links under its path, Hanweb records): the dated list beside "暂无信息" is a sidebar.
    let judged: Vec<Judged<'_, '_>> = candidates
        .iter()
        .filter_map(|candidate| reader.judge(candidate, column_name))
        .filter(|judged| placeholder.is_none() || judged.strongly_owned)
        .collect();
    let by_score = |a: &&Judged<'_, '_>, b: &&Judged<'_, '_>| {
        a.score.total_cmp(&b.score).then(a.candidate.items.len().cmp(&b.candidate.items.len()))
    };
    let best = judged.iter().max_by(by_score);
    let none = |placeholder| ListReading { items: Vec::new(), method: Method::None, placeholder };
    match best {
        Some(judged) if judged.candidate.dated() > 0 => ListReading {
            items: reader.list_items(&judged.candidate.items),
            method: judged.candidate.method,
            placeholder,
        },
        // No dated list of its own. Undated links under the column's own path (or Hanweb
        // records) are its list without dates, and so is a list of article titles where the
        // column's list stands (the main area, a heading naming the column, a pager after it,
        // a table); short link labels elsewhere are navigation.
        _ => {
            if placeholder.is_none()
                && let Some(article) = reader.article_date()
            {
                return ListReading { items: vec![article], method: Method::Article, placeholder };
            }
            let own_undated = judged
                .iter()
                .filter(|judged| {
                    judged.candidate.items.len() >= 2 && judged.strongly_owned
                        || judged.owned && judged.hint != Hint::Side && reads_as_titles(&judged.candidate.items)
                })
                .max_by(by_score);
            match own_undated {
                Some(judged) => ListReading {
                    items: reader.list_items(&judged.candidate.items),
                    method: judged.candidate.method,
                    placeholder,
                },
                None => none(placeholder),
            }
        }
    }
}

/// Reads a home page: every dated list outside navigation, footers and banners.
pub fn read_home(document: &Document, page_url: &Url, today: Date) -> ListReading {
    let reader = Reader::new(document, page_url, today);
    let mut candidates = reader.candidates();
    candidates.extend(reader.datastore_candidates());
    candidates.extend(reader.script_candidates());
    // An item listed twice (a tab and "more") counts once.
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for candidate in &candidates {
        if candidate.dated() == 0 || reader.container_hint(candidate.container) == Hint::Chrome {
            continue;
        }
        for item in &candidate.items {
            if item.published.is_none() {
                continue;
            }
            // The hash orders the set cheaply; the strings keep it exact.
            let hash = super::page_text::fnv1a(item.title.as_bytes());
            if seen.insert((hash, item.title.as_str(), item.href.as_deref())) {
                items.push(reader.list_item(item));
            }
        }
    }
    let method = if items.is_empty() { Method::None } else { Method::List };
    ListReading { items, method, placeholder: None }
}

/// Tags whose repeated siblings may be list items.
const ITEM_TAGS: &[&str] =
    &["li", "tr", "dd", "dt", "dl", "div", "p", "article", "section", "table", "h2", "h3", "h4", "h5", "span", "em"];
/// Tags that are items by position alone, whose class varies item by item (`odd`, `even`).
const CLASSLESS_TAGS: &[&str] = &["li", "tr", "dd", "dt", "dl", "article", "table"];
/// An item with more links than this is a container of items, not an item.
const MAX_ITEM_LINKS: u32 = 4;
/// Rows of a directory table may carry a few more links (title, attachment, 解读).
const MAX_ROW_LINKS: u32 = 6;
/// An item with more visible text than this is an article or a block, not a list entry.
const MAX_ITEM_CHARS: u32 = 400;
/// Nodes an item holds, at most: a row of a few cells and spans has tens; a wrapper around a
/// whole list (or a hostile page's 200,000 nested `<div>`s) is not an item, and reading it as
/// one would walk the subtree at every level.
const MAX_ITEM_NODES: u32 = 300;
/// Longest text a date cell can be (`发布时间：2026-11-20 09:30:05` plus brackets).
const MAX_CELL_CHARS: usize = 40;

/// Container names that mark chrome (navigation, footers) or side boxes of other columns.
const CHROME_WORDS: &[&str] = &["footer", "foot", "nav", "menu", "banner", "copyright", "yqlj", "friend", "toolbar"];
const SIDE_WORDS: &[&str] = &[
    "side",
    "aside",
    "hot",
    "rank",
    "top10",
    "tuijian",
    "recommend",
    "related",
    "xgwz",
    "xgxx",
    "xglj",
    "sidebar",
    "slide",
    "scroll",
    "marquee",
    "focus",
];
const MAIN_WORDS: &[&str] = &["list", "main", "content", "lb", "news", "article", "xxgk", "info", "result"];
/// Phrases a CMS shows in a column with nothing in it.
const PLACEHOLDERS: &[&str] = &[
    "暂无信息",
    "暂无数据",
    "暂无内容",
    "暂无记录",
    "暂无相关",
    "暂无文章",
    "暂无公开",
    "没有相关信息",
    "没有找到相关",
    "没有信息",
    "无相关记录",
    "无相关信息",
    "没有记录",
    "信息正在完善",
    "栏目建设中",
    "正在建设中",
    "暂未发布",
];
/// Header words naming a table's publication-date column, most specific first.
const DATE_HEADERS: &[&str] =
    &["发布日期", "发布时间", "公开日期", "公开时间", "公布日期", "更新日期", "更新时间", "日期", "时间"];
const PAGINATION_WORDS: &[&str] =
    &["下一页", "上一页", "尾页", "末页", "下页", "首页 上", "页次", "createPageHTML", "pageIndex", "共有"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hint {
    Chrome,
    Side,
    Main,
    Neutral,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Heading {
    NamesColumn,
    NamesOther,
    None,
}

struct Judged<'c, 'd> {
    candidate: &'c Candidate<'d>,
    score: f64,
    /// Links under the column's own path, or CMS records: this list is the column's.
    strongly_owned: bool,
    /// Where a column's own list stands: strongly owned, a pager after it, a heading naming the
    /// column, the main area, or a table with a date column.
    owned: bool,
    hint: Hint,
}

/// An item as read, before its link is resolved (only the chosen list's links are).
#[derive(Clone, Debug)]
struct Entry {
    title: String,
    /// The raw `href`, absent for script-only links.
    href: Option<String>,
    published: Option<Published>,
    /// Whether the link leads under the page's own directory.
    under_page_dir: bool,
}

/// Element name and class of a container, its parent and its items: lists with equal shapes
/// under one grandparent are one list split up.
type JoinKey<'d> = (NodeId, [&'d str; 6]);

#[derive(Clone, Debug)]
struct Candidate<'d> {
    container: NodeId,
    items: Vec<Entry>,
    method: Method,
    join_key: Option<JoinKey<'d>>,
}

impl Candidate<'_> {
    fn dated(&self) -> usize {
        self.items.iter().filter(|item| item.published.is_some()).count()
    }
}

/// Per-node facts, accumulated bottom-up once so item tests are O(1).
#[derive(Clone, Copy, Default)]
struct Stats {
    links: u32,
    text_chars: u32,
    /// Nodes in the subtree, itself included.
    nodes: u32,
}

struct Reader<'d> {
    document: &'d Document,
    page_url: &'d Url,
    today: Date,
    stats: Vec<Stats>,
    /// The date each short text node *is*, if it is one.
    cell_dates: Vec<Option<Published>>,
    /// Nodes inside elements whose text never shows (script, style, head, select).
    hidden: Vec<bool>,
    /// What the names of each element and its ancestors say about it.
    hints: Vec<Hint>,
    /// The page's directory (`/zwgk/gzdt/`); None at the site root, where every link would be "under" it.
    page_dir: Option<String>,
}

impl<'d> Reader<'d> {
    fn new(document: &'d Document, page_url: &'d Url, today: Date) -> Self {
        let count = document.len();
        let mut hidden = vec![false; count];
        let mut hints = vec![Hint::Neutral; count];
        // Parents always have smaller ids than their children: one forward sweep inherits.
        for node in 0..count {
            let parent = document.parent(node);
            let parent_hidden = parent.is_some_and(|parent| hidden[parent]);
            // Inline `display:none` is not hidden here: CMS tab panels use it for real content.
            hidden[node] = parent_hidden || document.element(node).is_some_and(|element| element.name.is_hidden());
            let inherited = parent.map(|parent| hints[parent]).unwrap_or(Hint::Neutral);
            let own = document.element(node).map(own_hint).unwrap_or(Hint::Neutral);
            // The nearest chrome or side marker decides; "main" holds only where neither is above.
            hints[node] = match (own, inherited) {
                (Hint::Chrome | Hint::Side, _) => own,
                (_, Hint::Chrome | Hint::Side) => inherited,
                (Hint::Main, _) | (_, Hint::Main) => Hint::Main,
                _ => Hint::Neutral,
            };
        }
        let mut stats = vec![Stats::default(); count];
        let mut cell_dates = vec![None; count];
        // Children always have larger ids than their parents: one reverse sweep sums subtrees.
        for node in (0..count).rev() {
            if hidden[node] {
                continue;
            }
            stats[node].nodes = stats[node].nodes.saturating_add(1);
            match &document.node(node).data {
                NodeData::Text(text) => {
                    let trimmed = text.trim();
                    let chars = trimmed.chars().count();
                    stats[node].text_chars = u32::try_from(chars).unwrap_or(u32::MAX);
                    if chars <= MAX_CELL_CHARS && may_be_date(trimmed) && !trimmed.contains("星期") {
                        cell_dates[node] = date_cell(trimmed, today);
                    }
                }
                NodeData::Element(element) if element.name == "a" && is_link(document, node) => {
                    stats[node].links += 1;
                }
                _ => {}
            }
            if let Some(parent) = document.parent(node) {
                let Stats { links, text_chars, nodes } = stats[node];
                stats[parent].links = stats[parent].links.saturating_add(links);
                stats[parent].text_chars = stats[parent].text_chars.saturating_add(text_chars);
                stats[parent].nodes = stats[parent].nodes.saturating_add(nodes);
            }
        }
        let path = page_url.path();
        let page_dir =
            Some(&path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)]).filter(|dir| dir.len() > 1).map(str::to_string);
        Reader { document, page_url, today, stats, cell_dates, hidden, hints, page_dir }
    }

    /// Every candidate list in the page's own markup.
    fn candidates(&self) -> Vec<Candidate<'d>> {
        let document = self.document;
        let mut found: Vec<Candidate<'d>> = Vec::new();
        let mut groups: Vec<((&'d str, &'d str), Vec<NodeId>)> = Vec::new();
        for container in document.descendants(Document::ROOT) {
            if self.hidden[container] || self.stats[container].links == 0 {
                continue;
            }
            let Some(container_element) = document.element(container) else { continue };
            let table_dates = self.table_date_column(container);
            // Runs of like siblings, grouped by tag (and class where the tag says little).
            groups.clear();
            for child in document.child_elements(container) {
                let Some(element) = document.element(child) else { continue };
                let name = element.name.as_str();
                if self.hidden[child] || !ITEM_TAGS.contains(&name) {
                    continue;
                }
                let class = if CLASSLESS_TAGS.contains(&name) { "" } else { element.attr("class").unwrap_or("") };
                match groups.iter_mut().find(|(signature, _)| *signature == (name, class)) {
                    Some((_, members)) => members.push(child),
                    None => groups.push(((name, class), vec![child])),
                }
            }
            let list_like = matches!(container_element.name.as_str(), "ul" | "ol" | "tbody" | "table" | "dl");
            for ((name, class), members) in groups.drain(..) {
                let is_row = name == "tr";
                let max_links = if is_row { MAX_ROW_LINKS } else { MAX_ITEM_LINKS };
                let date_column = table_dates.filter(|_| is_row);
                let items: Vec<Entry> =
                    members.iter().filter_map(|member| self.item(&[*member], max_links, date_column)).collect();
                if items.len() >= 2 || (items.len() == 1 && list_like) {
                    let join_key = self.join_key(container, name, class);
                    let method = if date_column.is_some() { Method::Table } else { Method::List };
                    found.push(Candidate { container, items, method, join_key });
                }
            }
            if let Some(candidate) = self.flat_candidate(container) {
                found.push(candidate);
            }
        }
        join_split_lists(found)
    }

    /// Lists that are one list split up share their container's shape up to a common
    /// grandparent: `<ul>`s of five under one `<div>`, or like boxes of sub-columns side by side.
    fn join_key(&self, container: NodeId, item_name: &'d str, item_class: &'d str) -> Option<JoinKey<'d>> {
        let document = self.document;
        let parent = document.parent(container)?;
        let grandparent = document.parent(parent)?;
        let shape = |node: NodeId| -> (&'d str, &'d str) {
            document.element(node).map(|e| (e.name.as_str(), e.attr("class").unwrap_or(""))).unwrap_or(("", ""))
        };
        let (container_name, container_class) = shape(container);
        let (parent_name, parent_class) = shape(parent);
        Some((grandparent, [container_name, container_class, parent_name, parent_class, item_name, item_class]))
    }

    /// `<a>title</a><span>date</span><br/>` runs directly inside one container.
    fn flat_candidate(&self, container: NodeId) -> Option<Candidate<'d>> {
        let document = self.document;
        let children = document.children(container);
        let anchors = children.iter().filter(|child| document.is_element(**child, "a")).count();
        if anchors < 2 {
            return None;
        }
        let breaks = children.iter().filter(|child| document.is_element(**child, "br")).count();
        let mut segments: Vec<Vec<NodeId>> = Vec::new();
        let mut current: Vec<NodeId> = Vec::new();
        for &child in children {
            if self.hidden[child] {
                continue;
            }
            let is_anchor = document.is_element(child, "a");
            let is_break = document.is_element(child, "br") || document.is_element(child, "hr");
            if (breaks >= 2 && is_break) || (breaks < 2 && is_anchor) {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
                if is_break {
                    continue;
                }
            }
            current.push(child);
        }
        if !current.is_empty() {
            segments.push(current);
        }
        let items: Vec<Entry> = segments
            .iter()
            .filter(|segment| segment.iter().any(|node| document.is_element(*node, "a")))
            .filter_map(|segment| self.item(segment, MAX_ITEM_LINKS, None))
            .collect();
        (items.len() >= 2).then_some(Candidate { container, items, method: Method::List, join_key: None })
    }

    /// Hanweb JCMS: `<script type="text/xml"><datastore>…<record><![CDATA[<li>…</li>]]></record>`.
    fn datastore_candidates(&self) -> Vec<Candidate<'d>> {
        let document = self.document;
        let mut found = Vec::new();
        for node in document.descendants(Document::ROOT) {
            if !document.is_element(node, "script") {
                continue;
            }
            let text = document.raw_text(node);
            if !text.contains("<datastore") && !text.contains("<recordset") {
                continue;
            }
            let mut items = Vec::new();
            for section in cdata_sections(&text) {
                let record = Document::parse(&text[section]);
                let reader = Reader::new(&record, self.page_url, self.today);
                if let Some(item) = reader.item(&[Document::ROOT], MAX_ITEM_LINKS * 2, None) {
                    items.push(item);
                }
            }
            if !items.is_empty() {
                found.push(Candidate {
                    container: document.parent(node).unwrap_or(node),
                    items,
                    method: Method::Datastore,
                    join_key: None,
                });
            }
        }
        found
    }

    /// Lists only the page's inline scripts hold: the markup `document.write` writes, and arrays
    /// of records (`[{title, url, date}, …]`, JSON handed to `JSON.parse`, arrays of arrays).
    /// Read without running anything ([`script_list`]); each list stands where its script does.
    fn script_candidates(&self) -> Vec<Candidate<'d>> {
        let document = self.document;
        let mut found = Vec::new();
        for node in document.descendants(Document::ROOT) {
            let Some(element) = document.element(node) else { continue };
            if element.name != "script" || element.attr("src").is_some() || !is_script_type(element.attr("type")) {
                continue;
            }
            let text = document.raw_text(node);
            // Hanweb's datastore is read as such; a script without a quote has no strings.
            if text.contains("<datastore") || text.contains("<recordset") || !text.contains(['"', '\'', '`']) {
                continue;
            }
            let lists = script_list::read_script(&text);
            let container = document.parent(node).unwrap_or(node);
            if !lists.written.trim().is_empty() {
                // Written items usually stand alone (`<li>…</li>`): give them a parent to be a run of.
                let written = Document::parse(&format!("<div>{}</div>", lists.written));
                let reader = Reader::new(&written, self.page_url, self.today);
                for candidate in reader.candidates() {
                    found.push(Candidate { container, items: candidate.items, method: Method::Script, join_key: None });
                }
            }
            for records in &lists.arrays {
                let items: Vec<Entry> = records.iter().filter_map(|record| self.record_entry(record)).collect();
                if items.len() >= 2 {
                    found.push(Candidate { container, items, method: Method::Script, join_key: None });
                }
            }
        }
        found
    }

    /// A script record as an item: its title, link and date by their keys (`title`, `url`,
    /// `pubDate` and their kin, exact names first), else by what the values look like. Like an
    /// item of the page's markup it needs a link to a page: a duty roster's names or a weather
    /// box's days are not a list of articles.
    fn record_entry(&self, record: &script_list::Record) -> Option<Entry> {
        let keyed = |exact: &[&str], wanted: fn(&str) -> bool| {
            let filled = |key: &Option<String>, value: &String, test: &dyn Fn(&str) -> bool| {
                key.as_deref().is_some_and(test) && !value.trim().is_empty()
            };
            record
                .fields
                .iter()
                .find(|(key, value)| filled(key, value, &|key| exact.contains(&key)))
                .or_else(|| record.fields.iter().find(|(key, value)| filled(key, value, &wanted)))
        };
        let title = keyed(&["title", "name", "bt", "标题"], is_title_key)
            .map(|(_, value)| clean_title(value))
            .or_else(|| {
                record
                    .fields
                    .iter()
                    .map(|(_, value)| value.trim())
                    .filter(|value| {
                        value.chars().any(is_cjk) && !looks_like_url(value) && date_cell(value, self.today).is_none()
                    })
                    .max_by_key(|value| value.chars().count())
                    .map(clean_title)
            })?;
        // Markup or a template's placeholder is not a title.
        if title.chars().count() < 2
            || title.chars().count() > 200
            || title.contains(['<', '{'])
            || is_pager_text(&title)
        {
            return None;
        }
        let href = keyed(&["url", "href", "link"], is_link_key)
            .or_else(|| record.fields.iter().find(|(_, value)| looks_like_url(value.trim())))
            .map(|(_, value)| value.trim().to_string())
            .filter(|href| is_followable(href) && !is_image(href))?;
        let date_of = |value: &str| {
            let value = value.trim();
            date_cell(value, self.today)
                .or_else(|| dates_in_text(value, self.today).into_iter().max())
                .or_else(|| epoch_date(value))
        };
        let published = keyed(&["date", "time", "pubdate"], is_date_key)
            .and_then(|(_, value)| date_of(value))
            .or_else(|| record.fields.iter().find_map(|(_, value)| date_cell(value.trim(), self.today)))
            .or_else(|| date_in_url(&href, self.today).map(Published::date))
            .filter(|date| date.date <= self.today);
        let under_page_dir = self.under_page_dir(&href);
        Some(Entry { title, href: Some(href), published, under_page_dir })
    }

    /// Reads one item made of the sibling nodes `roots`; None if it is not item-like.
    fn item(&self, roots: &[NodeId], max_links: u32, date_column: Option<usize>) -> Option<Entry> {
        let document = self.document;
        let links: u32 = roots.iter().map(|root| self.stats[*root].links).sum();
        let chars: u32 = roots.iter().map(|root| self.stats[*root].text_chars).sum();
        let nodes: u32 = roots.iter().map(|root| self.stats[*root].nodes).sum();
        if links == 0 || links > max_links || chars > MAX_ITEM_CHARS || nodes > MAX_ITEM_NODES {
            return None;
        }
        // The title: the link with the most text (its title attribute when the text is cut short).
        let mut best_link: Option<(NodeId, String)> = None;
        for root in roots {
            for node in document.descendants(*root) {
                if self.hidden[node] || !document.is_element(node, "a") || !is_link(document, node) {
                    continue;
                }
                let text = link_title(document, node);
                if best_link.as_ref().is_none_or(|(_, best)| text.chars().count() > best.chars().count()) {
                    best_link = Some((node, text));
                }
            }
        }
        let (link, title) = best_link?;
        if title.chars().count() < 2 || is_pager_text(&title) {
            return None;
        }
        let href = document
            .element(link)
            .and_then(|e| e.attr("href"))
            .map(str::trim)
            .filter(|href| is_followable(href))
            .map(str::to_string);
        let published = self
            .item_date(roots, date_column)
            .or_else(|| href.as_deref().and_then(|href| date_in_url(href, self.today)).map(Published::date));
        let under_page_dir = href.as_deref().is_some_and(|href| self.under_page_dir(href));
        Some(Entry { title, href, published, under_page_dir })
    }

    /// The item's own date: a date cell (in the table's date column when known), else a full
    /// date in text outside links. Future dates are ignored: an event's date is not a publication.
    fn item_date(&self, roots: &[NodeId], date_column: Option<usize>) -> Option<Published> {
        let document = self.document;
        // A calendar-style block says it in pieces, and its year beats a year-less cell's guess.
        if let Some(date) = self.split_date(roots) {
            return Some(date);
        }
        if let Some(column) = date_column {
            let cells: Vec<NodeId> = roots
                .iter()
                .flat_map(|root| document.child_elements(*root))
                .filter(|cell| document.is_element(*cell, "td") || document.is_element(*cell, "th"))
                .collect();
            if let Some(cell) = cells.get(column) {
                let date = document
                    .descendants(*cell)
                    .filter_map(|node| self.cell_dates[node])
                    .filter(|date| date.date <= self.today)
                    .max();
                if date.is_some() {
                    return date;
                }
            }
        }
        let cell = roots
            .iter()
            .flat_map(|root| document.descendants(*root))
            .filter(|node| !self.hidden[*node])
            .filter_map(|node| self.cell_dates[node])
            .filter(|date| date.date <= self.today)
            .max();
        if cell.is_some() {
            return cell;
        }
        let mut newest: Option<Published> = None;
        for root in roots {
            for node in document.descendants(*root) {
                if self.hidden[node]
                    || document.ancestors(node).take_while(|a| !roots.contains(a)).any(|a| document.is_element(a, "a"))
                {
                    continue;
                }
                if document.is_element(node, "a") {
                    continue;
                }
                if let NodeData::Text(text) = &document.node(node).data
                    && has_digit(text)
                {
                    for date in dates_in_text(text, self.today) {
                        if date.date <= self.today && newest.is_none_or(|n| date > n) {
                            newest = Some(date);
                        }
                    }
                }
            }
        }
        newest
    }

    /// A date shown in pieces, each in its own element of one date block (`<div class="date">
    /// <span>20</span><span>2026-11</span></div>`, either order, also `2026年` + `11月17日`):
    /// None unless the pieces are all the text of the element that holds them (a view count
    /// beside a year-less date is not its year) and make exactly one date.
    fn split_date(&self, roots: &[NodeId]) -> Option<Published> {
        const MAX_PARTS: usize = 8;
        let document = self.document;
        let mut parts: Vec<(NodeId, DatePart, u32)> = Vec::new();
        for root in roots {
            for node in document.descendants(*root) {
                if self.hidden[node] || self.stats[node].text_chars > 12 {
                    continue;
                }
                if let NodeData::Text(text) = &document.node(node).data
                    && has_digit(text)
                    && let Some(part) = date_part(text)
                    && let Some(parent) = document.parent(node)
                {
                    parts.push((parent, part, self.stats[node].text_chars));
                    if parts.len() > MAX_PARTS {
                        return None;
                    }
                }
            }
        }
        // The block is the nearest element holding two pieces or more; they make the date when
        // they are all its text (give or take a separator): a label or a title beside them, or a
        // count in an element of its own beside a year-less date, makes none.
        let within =
            |node: NodeId, block: NodeId| node == block || document.ancestors(node).take(4).any(|a| a == block);
        for (parent, _, _) in &parts {
            for block in std::iter::once(*parent).chain(document.ancestors(*parent).take(3)) {
                let inside: Vec<&(NodeId, DatePart, u32)> =
                    parts.iter().filter(|(element, _, _)| within(*element, block)).collect();
                if inside.len() < 2 {
                    continue;
                }
                let chars: u32 = inside.iter().map(|(_, _, chars)| chars).sum();
                if self.stats[block].text_chars <= chars + 2 {
                    let pieces: Vec<DatePart> = inside.iter().map(|(_, piece, _)| *piece).collect();
                    if let Some(date) = assemble_date(&pieces, self.today) {
                        return Some(Published::date(date));
                    }
                }
                break;
            }
        }
        None
    }

    /// Index of the publication-date column when `container` (a table or tbody) has a header row.
    fn table_date_column(&self, container: NodeId) -> Option<usize> {
        let document = self.document;
        let name = document.element(container)?.name.as_str();
        if !matches!(name, "table" | "tbody") {
            return None;
        }
        // Header rows: in this container or, for a tbody, in its table's thead.
        let mut rows: Vec<NodeId> =
            document.child_elements(container).filter(|n| document.is_element(*n, "tr")).take(3).collect();
        if name == "tbody"
            && let Some(table) = document.parent(container)
        {
            for section in document.child_elements(table).filter(|n| document.is_element(*n, "thead")) {
                rows.extend(document.child_elements(section).filter(|n| document.is_element(*n, "tr")));
            }
        }
        for row in rows {
            if self.stats[row].links > 0 {
                continue;
            }
            let cells: Vec<String> = document
                .child_elements(row)
                .filter(|cell| document.is_element(*cell, "td") || document.is_element(*cell, "th"))
                .map(|cell| document.text(cell).chars().filter(|c| !c.is_whitespace()).collect())
                .collect();
            for header in DATE_HEADERS {
                if let Some(index) = cells.iter().position(|cell| cell.contains(header) && cell.chars().count() <= 8) {
                    return Some(index);
                }
            }
        }
        None
    }

    /// Scores a candidate as the column's own list; None when it cannot be (chrome, or a side
    /// box with no sign of belonging to this column).
    fn judge<'c>(&self, candidate: &'c Candidate<'d>, column_name: &str) -> Option<Judged<'c, 'd>> {
        let affinity = self.affinity(candidate);
        let hint = self.container_hint(candidate.container);
        let heading = self.heading_relation(candidate.container, column_name);
        let paginated = self.pagination_follows(candidate.container);
        let strongly_owned = affinity >= 0.5 || candidate.method == Method::Datastore;
        let owned = strongly_owned
            || paginated
            || heading == Heading::NamesColumn
            || hint == Hint::Main
            || candidate.method == Method::Table;
        if hint == Hint::Chrome || (hint == Hint::Side && !owned) {
            return None;
        }
        let dated = candidate.dated() as f64;
        let undated = (candidate.items.len() - candidate.dated()) as f64;
        let mut score = (dated + 0.2 * undated) * (1.0 + affinity);
        score *= match hint {
            Hint::Side => 0.3,
            Hint::Main => 1.3,
            _ => 1.0,
        };
        score *= match heading {
            Heading::NamesColumn => 1.5,
            Heading::NamesOther => 0.6,
            Heading::None => 1.0,
        };
        if paginated {
            score *= 1.5;
        }
        match candidate.method {
            Method::Datastore => score *= 3.0,
            Method::Table => score *= 1.3,
            _ => {}
        }
        (score > 0.0).then_some(Judged { candidate, score, strongly_owned, owned, hint })
    }

    /// Share of items whose link lies under the page's own directory (TRS WCM keeps a column's
    /// articles under it). 0 when the page sits at the site root, where everything would match.
    fn affinity(&self, candidate: &Candidate<'_>) -> f64 {
        if candidate.items.is_empty() {
            return 0.0;
        }
        let under = candidate.items.iter().filter(|item| item.under_page_dir).count();
        under as f64 / candidate.items.len() as f64
    }

    /// Whether `href` (as written) leads under the page's directory, without building URLs.
    fn under_page_dir(&self, href: &str) -> bool {
        let Some(directory) = &self.page_dir else { return false };
        let href = href.split(['?', '#']).next().unwrap_or(href);
        let absolute =
            href.strip_prefix("http://").or_else(|| href.strip_prefix("https://")).or_else(|| href.strip_prefix("//"));
        let normalized;
        let path: &str = if let Some(rest) = absolute {
            let (host, path) = rest.find('/').map(|slash| (&rest[..slash], &rest[slash..])).unwrap_or((rest, "/"));
            let page_host = self.page_url.host_str().unwrap_or("");
            let host_name = host.rsplit_once(':').map(|(name, _)| name).unwrap_or(host);
            if !host_name.eq_ignore_ascii_case(page_host) {
                return false;
            }
            path
        } else if href.starts_with('/') {
            href
        } else if !href.contains("..") {
            // `./a.html` or `a/b.html`: under the directory by construction.
            return true;
        } else {
            normalized = normalize_path(&format!("{directory}{href}"));
            &normalized
        };
        path.starts_with(directory.as_str()) && path != self.page_url.path()
    }

    /// What the names of the container and its ancestors say about it.
    fn container_hint(&self, container: NodeId) -> Hint {
        self.hints[container]
    }

    /// Whether pagination follows the list within its nearest containers.
    fn pagination_follows(&self, container: NodeId) -> bool {
        let document = self.document;
        let mut node = container;
        for _ in 0..3 {
            let Some(parent) = document.parent(node) else {
                return false;
            };
            let siblings = document.children(parent);
            let position = siblings.iter().position(|sibling| *sibling == node).unwrap_or(0);
            for &sibling in siblings.iter().skip(position + 1).take(4) {
                // Pagers are short; a long sibling is content, not a pager.
                let is_script = document.is_element(sibling, "script");
                if !is_script && self.stats[sibling].text_chars > 300 {
                    continue;
                }
                let text = if is_script { document.raw_text(sibling) } else { document.text(sibling) };
                if text.len() < 4000 && PAGINATION_WORDS.iter().any(|word| text.contains(word)) || is_page_count(&text)
                {
                    return true;
                }
            }
            node = parent;
        }
        false
    }

    /// What the short heading just before the list (or before its box) says: the column's name,
    /// another name (a box of other news), or nothing.
    fn heading_relation(&self, container: NodeId, column_name: &str) -> Heading {
        let document = self.document;
        let mut node = container;
        for _ in 0..3 {
            let Some(parent) = document.parent(node) else { return Heading::None };
            let siblings = document.children(parent);
            let position = siblings.iter().position(|sibling| *sibling == node).unwrap_or(0);
            for &sibling in siblings[..position].iter().rev().take(2) {
                let chars = self.stats[sibling].text_chars;
                if chars == 0 || chars > 30 || self.hidden[sibling] {
                    continue;
                }
                let text = document.text(sibling);
                if names_column(&text, column_name) {
                    return Heading::NamesColumn;
                }
                // A heading element or a short title bar right before a box names that box.
                let is_heading = document.element(sibling).is_some_and(|e| {
                    matches!(e.name.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
                        || e.classes().any(|c| c.contains("tit") || c.contains("head") || c.contains("bt"))
                });
                if is_heading && !is_pager_text(&text) {
                    return Heading::NamesOther;
                }
            }
            node = parent;
        }
        Heading::None
    }

    /// "暂无信息" and its kin, anywhere visible.
    fn placeholder(&self) -> Option<String> {
        let document = self.document;
        document.descendants(Document::ROOT).find_map(|node| match &document.node(node).data {
            // Every phrase has one of these characters: a cheap test before the phrase search.
            NodeData::Text(text)
                if !self.hidden[node] && text.len() <= 180 && text.contains(['暂', '无', '没', '完', '建']) =>
            {
                PLACEHOLDERS.iter().any(|phrase| text.contains(phrase)).then(|| text.trim().to_string())
            }
            _ => None,
        })
    }

    /// A single-article page: the first labelled publication date (`发布日期：2026-11-20`).
    fn article_date(&self) -> Option<ListItem> {
        let document = self.document;
        for node in document.descendants(Document::ROOT) {
            if self.hidden[node] {
                continue;
            }
            let NodeData::Text(text) = &document.node(node).data else {
                continue;
            };
            if text.chars().count() > 200
                || !["发布日期", "发布时间", "更新时间", "更新日期", "发文日期"]
                    .iter()
                    .any(|label| text.contains(label))
            {
                continue;
            }
            if self.container_hint(node) == Hint::Chrome {
                continue;
            }
            // The date follows the label, in this text node or the next one.
            let label_at = ["发布日期", "发布时间", "更新时间", "更新日期", "发文日期"]
                .iter()
                .filter_map(|label| text.find(label))
                .min()?;
            let after = &text[label_at..];
            let mut dates = dates_in_text(after, self.today);
            if dates.is_empty() {
                let next =
                    document.descendants(document.parent(node)?).skip_while(|n| *n != node).skip(1).find_map(|n| {
                        match &document.node(n).data {
                            NodeData::Text(text) => Some(text.clone()),
                            _ => None,
                        }
                    });
                dates = next.map(|text| dates_in_text(&text, self.today)).unwrap_or_default();
            }
            if let Some(date) = dates.into_iter().find(|date| date.date <= self.today) {
                let title = document
                    .descendants(Document::ROOT)
                    .find(|n| document.is_element(*n, "h1") || document.is_element(*n, "title"))
                    .map(|n| {
                        if document.is_element(n, "title") {
                            document.raw_text(n).trim().to_string()
                        } else {
                            document.text(n)
                        }
                    })
                    .unwrap_or_default();
                return Some(ListItem { title, link: Some(self.page_url.to_string()), published: Some(date) });
            }
        }
        None
    }

    /// Everything the configured selectors pick.
    fn by_selectors(&self, selectors: &ColumnSelectors) -> ListReading {
        let document = self.document;
        let date_of = |node: NodeId| -> Option<Published> {
            let text = document.text(node);
            date_cell(&text, self.today)
                .or_else(|| dates_in_text(&text, self.today).into_iter().max())
                .filter(|date| date.date <= self.today)
        };
        let items: Vec<ListItem> = match (&selectors.items, &selectors.dates) {
            (Some(item_selector), dates) => item_selector
                .select(document, Document::ROOT)
                .into_iter()
                .map(|item| {
                    let explicit = dates.as_ref().and_then(|date_selector| {
                        date_selector
                            .select(document, item)
                            .into_iter()
                            .chain(std::iter::once(item).filter(|n| date_selector.matches(document, *n)))
                            .find_map(date_of)
                    });
                    let automatic = self.item(&[item], u32::MAX, None);
                    let title = automatic
                        .as_ref()
                        .map(|a| a.title.clone())
                        .unwrap_or_else(|| document.text(item).chars().take(80).collect());
                    ListItem {
                        title,
                        link: automatic.as_ref().and_then(|a| a.href.clone()),
                        published: explicit.or(automatic.and_then(|a| a.published)),
                    }
                })
                .collect(),
            (None, Some(date_selector)) => date_selector
                .select(document, Document::ROOT)
                .into_iter()
                .map(|node| ListItem { title: String::new(), link: None, published: date_of(node) })
                .collect(),
            (None, None) => Vec::new(),
        };
        ListReading { items, method: Method::Selectors, placeholder: self.placeholder() }
    }

    /// The public form of an entry.
    fn list_item(&self, entry: &Entry) -> ListItem {
        ListItem { title: entry.title.clone(), link: entry.href.clone(), published: entry.published }
    }

    fn list_items(&self, entries: &[Entry]) -> Vec<ListItem> {
        entries.iter().map(|entry| self.list_item(entry)).collect()
    }
}

/// Script types that hold JavaScript or JSON (absent means JavaScript).
fn is_script_type(kind: Option<&str>) -> bool {
    kind.is_none_or(|kind| {
        let kind = kind.trim().to_ascii_lowercase();
        kind.is_empty()
            || kind.contains("javascript")
            || kind.contains("json")
            || kind.contains("ecmascript")
            || kind == "module"
    })
}

/// Parts of a key that name a picture, not the article (`titleImg`, `picUrl`, `thumbLink`).
const PICTURE_KEY_WORDS: &[&str] = &["img", "pic", "image", "thumb", "icon", "logo", "cover", "photo", "video"];

/// Keys a record's title goes by (`docTitle`, `subject`, `tit` …), in lower case.
fn is_title_key(key: &str) -> bool {
    (key.contains("title") || matches!(key, "tit" | "subject" | "headline" | "biaoti" | "名称"))
        && !PICTURE_KEY_WORDS.iter().any(|word| key.contains(word))
}

/// Keys of a record's link (`docPubUrl`, `linkUrl`, `path` …).
fn is_link_key(key: &str) -> bool {
    (key.contains("url") || key.contains("href") || key.contains("link") || matches!(key, "path" | "lj" | "链接"))
        && !PICTURE_KEY_WORDS.iter().any(|word| key.contains(word))
}

/// A link to a picture, not a page.
fn is_image(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or(href).to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".svg"].iter().any(|ext| path.ends_with(ext))
}

/// A title as a script wrote it, on one line: runs of white space and control characters (from
/// `\n` or `\u0000` escapes) become one space.
fn clean_title(value: &str) -> String {
    value
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keys of a record's publication date (`date`, `pubDate`, `time`, `fbrq`, `fbsj`, `发布日期` …).
fn is_date_key(key: &str) -> bool {
    key.contains("date")
        || key.contains("time")
        || key.contains("publish")
        || key.ends_with("rq")
        || key.ends_with("sj")
        || key.contains("日期")
        || key.contains("时间")
}

/// A value that is an address: absolute, rooted, relative with `./`, or a page file name.
fn looks_like_url(value: &str) -> bool {
    let path = value.split(['?', '#']).next().unwrap_or(value);
    value.starts_with("http://")
        || value.starts_with("https://")
        || value.starts_with('/')
        || value.starts_with("./")
        || value.starts_with("../")
        || [".html", ".htm", ".shtml", ".jhtml", ".jsp", ".asp", ".aspx", ".php"].iter().any(|ext| path.ends_with(ext))
}

/// A Unix time in seconds or milliseconds (what JSON APIs put in `pubDate`), as a China date.
fn epoch_date(value: &str) -> Option<Published> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: i64 = value.parse().ok()?;
    let stamp = match value.len() {
        10 => jiff::Timestamp::from_second(number).ok()?,
        13 => jiff::Timestamp::from_millisecond(number).ok()?,
        _ => return None,
    };
    Some(Published::date(xunjian_shared::time::china_today(stamp)))
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// Fewest items an undated list needs to be read as a column's list by its titles alone.
const MIN_TITLED_ITEMS: usize = 3;
/// Characters of a typical article title at least (`县民政局开展困难群众走访慰问`); navigation
/// labels (`工作动态`, `通知公告`, `更多`) are shorter.
const MIN_TITLE_CHARS: usize = 8;

/// Whether `items` read as a list of article titles, not of navigation labels: enough items,
/// the median title as long as an article's, and most links leading to articles (a page, an
/// id), not to sections (`/zwgk/xxgkzn/`, `index.html`).
fn reads_as_titles(items: &[Entry]) -> bool {
    if items.len() < MIN_TITLED_ITEMS {
        return false;
    }
    let mut lengths: Vec<usize> = items.iter().map(|item| item.title.chars().count()).collect();
    lengths.sort_unstable();
    let articles = items.iter().filter(|item| item.href.as_deref().is_some_and(is_article_link)).count();
    lengths[lengths.len() / 2] >= MIN_TITLE_CHARS && articles * 2 > items.len()
}

/// A link to one article rather than a section: not a directory, not an index page (unless a
/// query names the article: `list.asp?id=12`).
fn is_article_link(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or(href);
    let has_query = href.contains('?');
    let file = path.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    if file.is_empty() {
        return has_query;
    }
    !(file.starts_with("index.") || file.starts_with("default.")) || has_query
}

/// Joins candidates that are one list split across sibling containers of the same kind.
fn join_split_lists<'d>(candidates: Vec<Candidate<'d>>) -> Vec<Candidate<'d>> {
    let mut joined: Vec<Candidate<'d>> = Vec::with_capacity(candidates.len());
    let mut by_key: HashMap<JoinKey<'d>, usize> = HashMap::new();
    for candidate in candidates {
        match candidate.join_key.and_then(|key| by_key.get(&key).copied()) {
            Some(index) if joined[index].method == candidate.method => joined[index].items.extend(candidate.items),
            _ => {
                if let Some(key) = candidate.join_key {
                    by_key.insert(key, joined.len());
                }
                joined.push(candidate);
            }
        }
    }
    joined
}

/// What an element's own class and id say: chrome, a side box, the main content, or nothing.
fn own_hint(element: &super::html::Element) -> Hint {
    match element.name.as_str() {
        "nav" | "footer" | "header" => return Hint::Chrome,
        "aside" => return Hint::Side,
        _ => {}
    }
    let mut hint = Hint::Neutral;
    for attr in ["class", "id"] {
        let Some(value) = element.attr(attr) else { continue };
        for word in value.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
            let lowered;
            let word = if word.bytes().any(|b| b.is_ascii_uppercase()) {
                lowered = word.to_ascii_lowercase();
                lowered.as_str()
            } else {
                word
            };
            if CHROME_WORDS.iter().any(|chrome| word.starts_with(chrome)) {
                return Hint::Chrome;
            }
            if SIDE_WORDS.iter().any(|side| word.contains(side)) {
                hint = Hint::Side;
            } else if hint == Hint::Neutral && MAIN_WORDS.iter().any(|main| word.starts_with(main)) {
                hint = Hint::Main;
            }
        }
    }
    hint
}

/// A link a browser would follow to a page: not empty, not an anchor, not script.
fn is_followable(href: &str) -> bool {
    !href.is_empty() && !href.starts_with('#') && !href.get(..11).is_some_and(|p| p.eq_ignore_ascii_case("javascript:"))
}

/// `/a/b/./c/../d` → `/a/b/d`.
fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if joined.starts_with('/') { joined } else { format!("/{joined}") }
}

/// A cheap test before the date reader runs: digits and a separator a date could use.
fn may_be_date(text: &str) -> bool {
    // Byte scans: decoding every character of every text node costs more than the rest.
    has_digit(text)
        && (text.bytes().any(|b| matches!(b, b'-' | b'/' | b'.'))
            || ['年', '月', '－', '／', '．'].iter().any(|c| text.contains(*c)))
}

/// An `<a>` that names something: it has text or a title, whatever its href does.
fn is_link(document: &Document, node: NodeId) -> bool {
    let Some(element) = document.element(node) else {
        return false;
    };
    element.attr("href").is_some() || element.attr("onclick").is_some()
}

fn link_title(document: &Document, node: NodeId) -> String {
    let text = document.text(node);
    let title = document.element(node).and_then(|e| e.attr("title")).map(str::trim).unwrap_or("");
    let cut_short = text.ends_with("...") || text.ends_with('…') || text.ends_with("..");
    if !title.is_empty() && (cut_short || text.is_empty()) { title.to_string() } else { text }
}

fn has_digit(text: &str) -> bool {
    // Fullwidth ０-９ are U+FF10..U+FF19: EF BC 90..99 in UTF-8.
    let bytes = text.as_bytes();
    bytes.iter().any(u8::is_ascii_digit)
        || bytes.windows(3).any(|w| w[..2] == [0xEF, 0xBC] && (0x90..=0x99).contains(&w[2]))
}

/// Whether a heading or title bar names the column: it contains the configured name, or the
/// configured name (`政务公开-工作动态`, `工作动态（县府办）`) contains it.
fn names_column(text: &str, column_name: &str) -> bool {
    let text = text.trim();
    !column_name.is_empty() && (text.contains(column_name) || (text.chars().count() >= 2 && column_name.contains(text)))
}

/// Pager links are not items: `下一页`, `尾页`, `2`, `>>`.
fn is_pager_text(text: &str) -> bool {
    let trimmed = text.trim();
    PAGINATION_WORDS.contains(&trimmed)
        || matches!(trimmed, "首页" | "更多" | "更多>>" | "more" | "More" | ">>" | "<<" | ">" | "<")
        || trimmed.chars().all(|c| c.is_ascii_digit())
}

/// `共12页`, `第1页/共5页`, `1/5页`.
fn is_page_count(text: &str) -> bool {
    text.chars().count() < 200
        && (text.contains('共') && text.contains('页') || text.contains("页/") || text.contains("条记录"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = Date::constant(2026, 11, 26);

    fn column(html: &str, url: &str, name: &str) -> ListReading {
        let document = Document::parse(html);
        read_column(&document, &Url::parse(url).unwrap(), TODAY, name, None)
    }

    #[test]
    fn own_list_beats_a_sidebar_of_other_columns() {
        let html = r#"<div class="left"><div class="hot"><h3>热点新闻</h3><ul>
            <li><a href="/xwzx/zwyw/202611/t20261125_1.html">县长调研</a><span>2026-11-25</span></li>
            <li><a href="/xwzx/zwyw/202611/t20261124_2.html">常务会议</a><span>2026-11-24</span></li>
            <li><a href="/xwzx/zwyw/202611/t20261123_3.html">表彰大会</a><span>2026-11-23</span></li></ul></div></div>
            <div class="right"><div class="crumb">首页 > 政务公开 > 工作动态</div><ul>
            <li><a href="./202610/t20261030_11.html">关于2026年11月1日起施行的通知解读</a><span>2026-10-30</span></li>
            <li><a href="./202610/t20261021_12.html">乡镇动态一</a><span>2026-10-21</span></li>
            <li><a href="./202610/t20261009_13.html">乡镇动态二</a><span>2026-10-09</span></li>
            <li><a href="./202609/t20260928_14.html">乡镇动态三</a><span>2026-09-28</span></li></ul>
            <div class="page">共4条 首页 上一页 下一页 尾页</div></div>"#;
        let reading = column(html, "http://www.example.gov.cn/zwgk/gzdt/index.html", "工作动态");
        assert_eq!(reading.dated_items(), 4);
        assert_eq!(reading.newest(), Some(Published::date(date(2026, 10, 30))));
    }

    #[test]
    fn a_date_in_pieces_is_one_date_and_a_count_beside_a_date_is_not_its_year() {
        let item = |date: &str, title: &str| format!("<li><a href=\"/a/{title}.html\">{title}</a>{date}</li>");
        let page = |items: Vec<String>| format!("<div class=\"list\"><ul>{}</ul></div>", items.concat());
        // Calendar blocks: the day apart from the year and month, the title short or long.
        let blocks = page(vec![
            item("<div class=\"date\"><b>20</b><i>2026-11</i></div>", "县长调研"),
            item("<div class=\"date\"><b>2026/11</b><i>05</i></div>", "县政府召开常务会议研究部署工作"),
            item("<div class=\"date\"><b>2025年</b><i>12月28日</i></div>", "乡镇动态"),
        ]);
        let reading = column(&blocks, "http://x.gov.cn/zwgk/gzdt/index.html", "工作动态");
        assert_eq!(reading.dated_items(), 3);
        assert_eq!(reading.newest(), Some(Published::date(date(2026, 11, 20))));
        assert!(reading.items.iter().any(|i| i.published == Some(Published::date(date(2025, 12, 28)))));
        // A year-less date with a view count beside it: the count is not the year, nor is a
        // page counter a month and day.
        let counted = page(vec![
            item("<span class=\"date\">11-20</span><span class=\"hits\">2019</span>", "县长调研"),
            item("<span class=\"date\">11-18</span><span class=\"hits\">2020</span>", "常务会议"),
        ]);
        let reading = column(&counted, "http://x.gov.cn/zwgk/gzdt/index.html", "工作动态");
        assert_eq!(reading.newest(), Some(Published::date(date(2026, 11, 20))));
    }

    #[test]
    fn placeholder_makes_a_blank_column() {
        let html = r#"<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/hdjl/">互动交流</a></li></ul>
            <div class="list"><p>暂无信息</p></div>"#;
        let reading = column(html, "http://www.example.gov.cn/zwgk/rsxx/", "人事信息");
        assert_eq!(reading.items.len(), 0);
        assert_eq!(reading.placeholder.as_deref(), Some("暂无信息"));
    }

    #[test]
    fn table_date_column_from_header() {
        let html = r#"<table><thead><tr><th>索引号</th><th>标题</th><th>成文日期</th><th>发布日期</th></tr></thead><tbody>
            <tr><td>11441600/2026-00123</td><td><a href="./t20261101_1.html">关于印发某某办法的通知</a></td><td>2026-11-01</td><td>2026-11-03</td></tr>
            <tr><td>11441600/2026-00122</td><td><a href="./t20261020_2.html">关于某某的通知</a></td><td>2026-10-20</td><td>2026-10-22</td></tr>
            </tbody></table>"#;
        let reading = column(html, "http://www.example.gov.cn/xxgk/zcwj/", "政策文件");
        assert_eq!(reading.method, Method::Table);
        let dates: Vec<String> = reading.items.iter().map(|i| i.published.unwrap().to_string()).collect();
        assert_eq!(dates, ["2026-11-03", "2026-10-22"]);
    }

    #[test]
    fn hanweb_datastore_records() {
        let html = r#"<div id="4567"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1"></a>]]></nextgroup><recordset>
            <record><![CDATA[<li><a href="/art/2026/11/18/art_123_1.html" title="标题一">标题一</a><span>2026-11-18</span></li>]]></record>
            <record><![CDATA[<li><a href="/art/2026/11/12/art_123_2.html" title="标题二">标题二</a><span>2026-11-12</span></li>]]></record>
            </recordset></datastore></script></div>"#;
        let reading = column(html, "http://www.example.gov.cn/col/col123/index.html", "工作动态");
        assert_eq!(reading.method, Method::Datastore);
        assert_eq!(reading.dated_items(), 2);
        assert_eq!(reading.newest(), Some(Published::date(date(2026, 11, 18))));
    }

    #[test]
    fn home_page_ignores_clock_copyright_and_footer() {
        let html = r#"<div class="top">今天是2026年11月26日 星期四 <a href="/wza/">无障碍</a> <a href="/en/">English</a></div>
            <div class="news"><ul><li><a href="/a/1.html">要闻一</a><span>11-20</span></li><li><a href="/a/2.html">要闻二</a><span>11-19</span></li></ul></div>
            <div class="footer"><ul><li><a href="/about">关于我们</a> 2026-11-26</li><li><a href="/map">网站地图</a> 2026-11-26</li></ul>
            Copyright © 2010-2026 粤ICP备05012345号 粤公网安备 44160202000123号 电话：0762-3383321</div>"#;
        let document = Document::parse(html);
        let reading = read_home(&document, &Url::parse("http://www.example.gov.cn/").unwrap(), TODAY);
        assert_eq!(reading.dated_items(), 2);
        assert_eq!(reading.newest(), Some(Published::date(date(2026, 11, 20))));
    }

    #[test]
    fn selectors_override_automatic_reading() {
        let html = r#"<div class="box"><div class="row"><a href="/1">甲</a><i>2026-11-02</i></div><div class="row"><a href="/2">乙</a><i>2026-11-05</i></div></div>"#;
        let document = Document::parse(html);
        let selectors = ColumnSelectors {
            items: Some(SelectorList::parse("div.row").unwrap()),
            dates: Some(SelectorList::parse("i").unwrap()),
        };
        let reading = read_column(&document, &Url::parse("http://x.gov.cn/c/").unwrap(), TODAY, "c", Some(&selectors));
        assert_eq!(reading.method, Method::Selectors);
        assert_eq!(reading.newest(), Some(Published::date(date(2026, 11, 5))));
        assert_eq!(reading.items.len(), 2);
    }
}
