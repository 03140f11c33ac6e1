//! A tolerant HTML parser into a flat tree, enough to find lists and dates in what government
//! CMSs emit.
//!
//! It follows browsers where it matters for reading lists: void elements, `<li>`, `<p>`,
//! `<dt>/<dd>`, `<tr>`, `<td>`, `<option>` closing their open predecessors, raw text in
//! `<script>`, `<style>`, `<textarea>` and `<title>`, every HTML5 character reference. It does
//! not re-parent misnested formatting elements or build a full HTML5 tree: no list reading
//! depends on that. On the corpus it yields the same visible text and list items as html5ever
//! (`tests/e2e/parser_differential.rs`).
//!
//! Why not html5ever: not only speed (about 100 µs for a 30 KB page, a third of html5ever's),
//! but dense node ids in document order, so that a subtree is one run of ids and the list
//! reader indexes its side tables by them, bounded depth without recursion, and fuzzing. A
//! home page is parsed on every probe: tag names HTML uses are shared statics, children are one
//! array per page, and walking a subtree needs no stack.
//!
//! Guarantees: never panics on any input, no recursion (depth is capped at [`MAX_DEPTH`], so
//! 30,000 nested `<div>`s make a flat tail, not a stack overflow), memory linear in the input
//! and bounded: at most [`MAX_NODES`] nodes, a text node of at most [`MAX_TEXT_BYTES`]
//! ([`MAX_RAW_TEXT_BYTES`] in a script), an attribute of at most [`MAX_ATTRIBUTE_BYTES`]. What a page holds beyond that (a hostile page's 10 MB
//! line or 200,000 tags) is no list, date or name anyone reads.

use std::borrow::Cow;
use std::ops::Range;

use super::entities;

/// Open elements deeper than this are not nested further. Real pages stay below 60.
pub const MAX_DEPTH: usize = 256;
/// Nodes a document holds; what follows is not read. A government portal's home page has a few
/// thousand, a long list page ten or twenty thousand; a hostile page of 200,000 tags would cost
/// tens of megabytes, and every reader walks the tree.
pub const MAX_NODES: usize = 40_000;
/// Bytes a text node keeps; the rest of it is dropped. A real page's longest is a few KiB.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Bytes an attribute's value keeps: a link, a class list or a style is short; an inline image
/// (`data:` of megabytes) is read by nobody.
pub const MAX_ATTRIBUTE_BYTES: usize = 16 * 1024;
/// Bytes the text of a `<script>`, `<style>` … keeps (CMS list records sit in scripts).
pub const MAX_RAW_TEXT_BYTES: usize = 1024 * 1024;

pub type NodeId = usize;

/// Nodes in document order: a node's subtree is the contiguous run `id..end`, so walking it
/// needs no stack and skipping it is one jump.
#[derive(Debug)]
pub struct Document {
    nodes: Vec<Node>,
    /// Every node's children, each node's run at [`Node::children`] (one allocation per page,
    /// not one per element).
    child_ids: Vec<NodeId>,
    /// The page went on past [`MAX_NODES`]: what followed was not read.
    truncated: bool,
}

#[derive(Debug)]
pub struct Node {
    pub parent: Option<NodeId>,
    /// One past the last node below this one.
    end: NodeId,
    /// This node's run in [`Document::child_ids`] (while building: its number of children).
    children: Range<u32>,
    pub data: NodeData,
}

#[derive(Debug)]
pub enum NodeData {
    Document,
    Element(Element),
    Text(String),
}

#[derive(Debug)]
pub struct Element {
    /// Lowercase tag name.
    pub name: Name,
    /// Attributes with lowercase names, in source order.
    pub attrs: Vec<(Name, String)>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn classes(&self) -> impl Iterator<Item = &str> {
        self.attr("class").unwrap_or("").split_ascii_whitespace()
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.classes().any(|c| c == class)
    }
}

/// A lowercase tag or attribute name. The names pages use all the time are shared statics, so
/// a tag costs no allocation, and what the parser asks of a tag (void? raw text? hidden?) is a
/// bit, not a search.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    text: Cow<'static, str>,
    /// [`VOID_FLAG`] … of a known name; 0 for others.
    flags: u8,
}

const VOID_FLAG: u8 = 1;
const RAW_TEXT_FLAG: u8 = 2;
const HIDDEN_FLAG: u8 = 4;
const CLOSES_P_FLAG: u8 = 8;

impl Name {
    /// The lowercase name of `raw`.
    fn of(raw: &str) -> Name {
        if let Some(key) = lowercase_key(raw.as_bytes())
            && let Ok(index) = KNOWN_KEYS.binary_search(&key)
        {
            return Name { text: Cow::Borrowed(KNOWN_NAMES[index]), flags: KNOWN_FLAGS[index] };
        }
        Name { text: Cow::Owned(raw.to_ascii_lowercase()), flags: 0 }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// An element whose text never shows on the page (one of [`HIDDEN`]).
    pub fn is_hidden(&self) -> bool {
        self.flags & HIDDEN_FLAG != 0
    }

    fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A name of at most 16 ASCII bytes as one number, lowercase, first byte highest: numbers
/// order as the names do, so a sorted list of names is a sorted list of keys.
const fn key_of(name: &[u8]) -> Option<u128> {
    if name.is_empty() || name.len() > 16 {
        return None;
    }
    let mut at = 0;
    while at < name.len() {
        // The key pads with NUL: `a\0` is not `a` (browsers read it as another name).
        if name[at] == 0 {
            return None;
        }
        at += 1;
    }
    let mut key = 0u128;
    let mut at = 0;
    while at < 16 {
        let byte = if at < name.len() { name[at].to_ascii_lowercase() } else { 0 };
        if byte >= 0x80 {
            return None;
        }
        key = key << 8 | byte as u128;
        at += 1;
    }
    Some(key)
}

/// [`key_of`] at run time: the bytes as one number, lowercased sixteen at a time (every tag
/// of every page passes here).
fn lowercase_key(name: &[u8]) -> Option<u128> {
    const HIGH: u128 = 0x8080_8080_8080_8080_8080_8080_8080_8080;
    const fn each(byte: u8) -> u128 {
        u128::from_ne_bytes([byte; 16])
    }
    if name.is_empty() || name.len() > 16 || name.contains(&0) {
        return None;
    }
    let mut bytes = [0u8; 16];
    bytes[..name.len()].copy_from_slice(name);
    let key = u128::from_be_bytes(bytes);
    if key & HIGH != 0 {
        return None;
    }
    // Per byte (each below 0x80, so no carry crosses bytes): the high bit of `b + 0x3f` says
    // b >= 'A', that of `b + 0x25` says b > 'Z'; an uppercase letter gains 0x20.
    let upper = key.wrapping_add(each(0x80 - b'A')) & !key.wrapping_add(each(0x80 - b'Z' - 1)) & HIGH;
    Some(key | upper >> 2)
}

const fn contains(list: &[&str], name: &str) -> bool {
    let mut index = 0;
    while index < list.len() {
        let (a, b) = (list[index].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut at = 0;
            while at < a.len() && a[at] == b[at] {
                at += 1;
            }
            if at == a.len() {
                return true;
            }
        }
        index += 1;
    }
    false
}

/// Each known name's key and parser flags, computed once at compile time.
const KNOWN: ([u128; KNOWN_NAMES.len()], [u8; KNOWN_NAMES.len()]) = {
    let mut keys = [0u128; KNOWN_NAMES.len()];
    let mut flags = [0u8; KNOWN_NAMES.len()];
    let mut index = 0;
    while index < keys.len() {
        let name = KNOWN_NAMES[index];
        keys[index] = match key_of(name.as_bytes()) {
            Some(key) => key,
            None => panic!("a known name is ASCII and at most 16 bytes"),
        };
        let mut flag = 0;
        if contains(VOID, name) {
            flag |= VOID_FLAG;
        }
        if contains(RAW_TEXT, name) {
            flag |= RAW_TEXT_FLAG;
        }
        if contains(HIDDEN, name) {
            flag |= HIDDEN_FLAG;
        }
        if contains(CLOSES_P, name) {
            flag |= CLOSES_P_FLAG;
        }
        flags[index] = flag;
        index += 1;
    }
    (keys, flags)
};
const KNOWN_KEYS: [u128; KNOWN_NAMES.len()] = KNOWN.0;
const KNOWN_FLAGS: [u8; KNOWN_NAMES.len()] = KNOWN.1;

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.text == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.text == **other
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Tag and attribute names kept as statics, sorted for binary search (a test checks).
const KNOWN_NAMES: &[&str] = &[
    "a",
    "abbr",
    "action",
    "address",
    "align",
    "alt",
    "area",
    "article",
    "aside",
    "async",
    "audio",
    "b",
    "base",
    "bgcolor",
    "big",
    "blockquote",
    "body",
    "border",
    "br",
    "button",
    "canvas",
    "caption",
    "cellpadding",
    "cellspacing",
    "center",
    "charset",
    "cite",
    "class",
    "code",
    "col",
    "colgroup",
    "color",
    "colspan",
    "content",
    "data-src",
    "data-url",
    "datalist",
    "dd",
    "defer",
    "del",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "face",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "for",
    "form",
    "frame",
    "frameborder",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "height",
    "hidden",
    "hr",
    "href",
    "html",
    "http-equiv",
    "i",
    "id",
    "iframe",
    "img",
    "input",
    "ins",
    "keygen",
    "label",
    "lang",
    "language",
    "legend",
    "li",
    "link",
    "main",
    "map",
    "marquee",
    "menu",
    "meta",
    "method",
    "name",
    "nav",
    "noembed",
    "noframes",
    "noscript",
    "nowrap",
    "object",
    "ol",
    "onclick",
    "onload",
    "onmouseout",
    "onmouseover",
    "option",
    "p",
    "param",
    "path",
    "placeholder",
    "pre",
    "rel",
    "role",
    "rowspan",
    "s",
    "script",
    "scrolling",
    "section",
    "select",
    "size",
    "small",
    "source",
    "span",
    "src",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "tabindex",
    "table",
    "target",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "type",
    "u",
    "ul",
    "valign",
    "value",
    "video",
    "wbr",
    "width",
    "xmp",
];

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "keygen", "frame",
];
/// Elements whose content is raw text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"];
/// Elements whose text never shows on the page.
pub const HIDDEN: &[&str] =
    &["script", "style", "template", "head", "title", "select", "option", "noembed", "noframes"];
/// A start tag of one of these closes an open `<p>` (HTML's "close a p element").
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

impl Document {
    pub fn parse(html: &str) -> Document {
        let mut builder = Builder {
            // A typical page's nodes (one per 40 bytes or so); a huge one grows as it goes.
            nodes: Vec::with_capacity((html.len() / 40).clamp(16, 4096)),
            open: vec![0],
            open_names: Vec::new(),
        };
        builder.nodes.push(Node { parent: None, end: 1, children: 0..0, data: NodeData::Document });
        let mut tokenizer = Tokenizer { html, at: 0 };
        tokenizer.run(&mut builder);
        let truncated = tokenizer.at < html.len() && builder.nodes.len() >= MAX_NODES;
        let (nodes, child_ids) = builder.finish();
        Document { nodes, child_ids, truncated }
    }

    /// Whether the page held more than [`MAX_NODES`] nodes, so that its end was not read (a
    /// finding: nothing after it was checked).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    pub const ROOT: NodeId = 0;

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    pub fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.nodes.get(id)?.data {
            NodeData::Element(element) => Some(element),
            _ => None,
        }
    }

    pub fn is_element(&self, id: NodeId, name: &str) -> bool {
        self.element(id).is_some_and(|element| element.name == name)
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.nodes.get(id)?.parent
    }

    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let run = &self.nodes[id].children;
        &self.child_ids[run.start as usize..run.end as usize]
    }

    /// Element children only.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).iter().copied().filter(|child| self.element(*child).is_some())
    }

    /// `id` and everything below it, in document order.
    pub fn descendants(&self, id: NodeId) -> Range<NodeId> {
        id..self.subtree_end(id)
    }

    /// One past the last node below `id`: the next node in document order that is not inside
    /// it (a walker skips `id`'s subtree by jumping there).
    pub fn subtree_end(&self, id: NodeId) -> NodeId {
        self.nodes[id].end
    }

    /// Ancestors of `id`, nearest first, excluding `id`.
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.parent(id), move |node| self.parent(*node))
    }

    /// Whether `id` sits inside an element whose text never shows.
    pub fn is_hidden(&self, id: NodeId) -> bool {
        std::iter::once(id)
            .chain(self.ancestors(id))
            .any(|node| self.element(node).is_some_and(|element| element.name.is_hidden()))
    }

    /// The visible text under `id`, pieces joined by single spaces.
    pub fn text(&self, id: NodeId) -> String {
        let mut out = String::new();
        self.visible_text_nodes(id, |text| {
            let trimmed = text.trim();
            if !trimmed.is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(trimmed);
            }
        });
        out
    }

    /// Calls `visit` with each visible text node under `id`, in document order.
    pub fn visible_text_nodes<'d>(&'d self, id: NodeId, mut visit: impl FnMut(&'d str)) {
        let end = self.subtree_end(id);
        let mut node = id;
        while node < end {
            match &self.nodes[node].data {
                NodeData::Text(text) => visit(text),
                NodeData::Element(element) if element.name.is_hidden() => {
                    node = self.nodes[node].end;
                    continue;
                }
                _ => {}
            }
            node += 1;
        }
    }

    /// Raw text of a raw-text element (`<script>`), or of any element's text children.
    pub fn raw_text(&self, id: NodeId) -> String {
        self.children(id)
            .iter()
            .filter_map(|child| match &self.nodes[*child].data {
                NodeData::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

struct Builder {
    /// Nodes in document order; a node's `children` counts them until [`Builder::finish`].
    nodes: Vec<Node>,
    /// Open elements, root first.
    open: Vec<NodeId>,
    /// How many of each element are open: a start or end tag whose target is not open returns
    /// at once instead of scanning the stack (200,000 `<div>`s would scan it 200,000 times).
    /// The names of the open elements only (at most [`MAX_DEPTH`]): a list searched in place
    /// beats hashing every tag.
    open_names: Vec<(Name, u32)>,
}

/// `text` cut to at most `max` bytes, at a character's boundary.
fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    &text[..floor_char_boundary(text, max)]
}

fn floor_char_boundary(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// `text` decoded and cut to at most `max` bytes.
fn decoded_within(text: &str, max: usize) -> String {
    let mut decoded = decode_entities(clip(text, max));
    decoded.truncate(floor_char_boundary(&decoded, max));
    decoded
}

impl Builder {
    fn current(&self) -> NodeId {
        *self.open.last().unwrap_or(&0)
    }

    fn append(&mut self, data: NodeData) -> NodeId {
        let parent = self.current();
        self.append_to(parent, data)
    }

    fn append_to(&mut self, parent: NodeId, data: NodeData) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Node { parent: Some(parent), end: id + 1, children: 0..0, data });
        self.nodes[parent].children.end += 1;
        id
    }

    fn text(&mut self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        // Adjacent text (split by a skipped comment) joins into one node. Nodes are in document
        // order, so the current element's last child is text only if it is the last node.
        let current = self.current();
        if let Some(last) = self.nodes.last_mut()
            && last.parent == Some(current)
            && let NodeData::Text(previous) = &mut last.data
        {
            let room = MAX_TEXT_BYTES.saturating_sub(previous.len());
            if room > 0 {
                previous.push_str(&decoded_within(text, room));
            }
            return;
        }
        self.append(NodeData::Text(decoded_within(text, MAX_TEXT_BYTES)));
    }

    /// Subtree ends and children runs, from the parents alone: nodes are in document order.
    fn finish(mut self) -> (Vec<Node>, Vec<NodeId>) {
        let nodes = &mut self.nodes;
        for id in (1..nodes.len()).rev() {
            let end = nodes[id].end;
            if let Some(parent) = nodes[id].parent
                && nodes[parent].end < end
            {
                nodes[parent].end = end;
            }
        }
        let mut start = 0u32;
        for node in nodes.iter_mut() {
            let count = node.children.end;
            node.children = start..start;
            start += count;
        }
        let mut child_ids = vec![0; start as usize];
        for id in 1..nodes.len() {
            if let Some(parent) = nodes[id].parent {
                let run = &mut nodes[parent].children;
                child_ids[run.end as usize] = id;
                run.end += 1;
            }
        }
        (self.nodes, child_ids)
    }

    /// How many `name` elements are open.
    fn open_count(&self, name: &str) -> u32 {
        self.open_names.iter().find(|(open, _)| open == name).map_or(0, |(_, count)| *count)
    }

    fn open_name(&self, index: usize) -> &str {
        match &self.nodes[self.open[index]].data {
            NodeData::Element(element) => &element.name,
            _ => "",
        }
    }

    /// Pops up to and including the nearest open `targets` element, unless a `barriers` element
    /// is nearer.
    fn close_nearest(&mut self, targets: &[&str], barriers: &[&str]) {
        if targets.iter().all(|target| self.open_count(target) == 0) {
            return;
        }
        for index in (1..self.open.len()).rev() {
            let name = self.open_name(index);
            if targets.contains(&name) {
                for closed in index..self.open.len() {
                    let NodeData::Element(element) = &self.nodes[self.open[closed]].data else { continue };
                    if let Some(at) = self.open_names.iter().position(|(open, _)| *open == element.name) {
                        self.open_names[at].1 -= 1;
                        // Only open names are kept: at most MAX_DEPTH of them, however many
                        // different tags a page uses.
                        if self.open_names[at].1 == 0 {
                            self.open_names.swap_remove(at);
                        }
                    }
                }
                self.open.truncate(index);
                return;
            }
            if barriers.contains(&name) {
                return;
            }
        }
    }

    fn start_tag(&mut self, name: Name, attrs: Vec<(Name, String)>) -> NodeId {
        match name.as_str() {
            "li" => self.close_nearest(&["li"], &["ul", "ol", "menu", "table", "td", "th"]),
            "dt" | "dd" => self.close_nearest(&["dt", "dd"], &["dl", "table", "td", "th"]),
            "tr" => self.close_nearest(&["tr"], &["table", "tbody", "thead", "tfoot"]),
            "td" | "th" => self.close_nearest(&["td", "th"], &["tr", "table"]),
            "tbody" | "thead" | "tfoot" => self.close_nearest(&["tbody", "thead", "tfoot"], &["table"]),
            "option" => self.close_nearest(&["option"], &["select", "datalist"]),
            _ => {}
        }
        if name.is(CLOSES_P_FLAG) {
            self.close_nearest(&["p"], &["button", "table", "td", "th", "caption", "marquee", "object"]);
        }
        let is_void = name.is(VOID_FLAG);
        let opens = !is_void && self.open.len() < MAX_DEPTH;
        if opens {
            match self.open_names.iter_mut().find(|(open, _)| *open == name) {
                Some((_, count)) => *count += 1,
                None => self.open_names.push((name.clone(), 1)),
            }
        }
        let id = self.append(NodeData::Element(Element { name, attrs }));
        if opens {
            self.open.push(id);
        }
        id
    }

    fn end_tag(&mut self, name: &str) {
        if name == "br" {
            self.append(NodeData::Element(Element { name: Name::of("br"), attrs: Vec::new() }));
            return;
        }
        // A stray end tag closes nothing; a cell or table boundary stops a search from
        // closing the structure around it.
        let barriers: &[&str] = match name {
            "td" | "th" | "tr" | "tbody" | "thead" | "tfoot" | "table" => &["table"],
            "li" => &["ul", "ol"],
            _ => &["td", "th", "table"],
        };
        if name == "table" {
            self.close_nearest(&["table"], &[]);
        } else {
            self.close_nearest(&[name], barriers);
        }
    }
}

struct Tokenizer<'h> {
    html: &'h str,
    at: usize,
}

impl Tokenizer<'_> {
    fn run(&mut self, builder: &mut Builder) {
        let bytes = self.html.as_bytes();
        while self.at < bytes.len() && builder.nodes.len() < MAX_NODES {
            let Some(offset) = memchr(b'<', &bytes[self.at..]) else {
                builder.text(&self.html[self.at..]);
                break;
            };
            let lt = self.at + offset;
            if lt > self.at {
                builder.text(&self.html[self.at..lt]);
            }
            self.at = lt;
            self.markup(builder);
        }
    }

    /// At a `<`: a tag, comment or declaration, or a literal `<`.
    fn markup(&mut self, builder: &mut Builder) {
        let rest = &self.html[self.at..];
        let bytes = rest.as_bytes();
        if rest.starts_with("<!--") {
            self.at += find(rest, "-->", 4).map(|end| end + 3).unwrap_or(rest.len());
        } else if rest.starts_with("<![CDATA[") {
            // CDATA outside XML islands: keep its text, as browsers show it as a bogus comment
            // but CMS list records (Hanweb) are read from raw script text instead.
            self.at += find(rest, "]]>", 9).map(|end| end + 3).unwrap_or(rest.len());
        } else if bytes.len() > 1 && (bytes[1] == b'!' || bytes[1] == b'?') {
            self.at += memchr(b'>', bytes).map(|end| end + 1).unwrap_or(rest.len());
        } else if bytes.len() > 2 && bytes[1] == b'/' && bytes[2].is_ascii_alphabetic() {
            let (name, after_name) = read_name(rest, 2);
            let end = memchr(b'>', &bytes[after_name..]).map(|i| after_name + i + 1).unwrap_or(rest.len());
            self.at += end;
            builder.end_tag(&name);
        } else if bytes.len() > 1 && bytes[1].is_ascii_alphabetic() {
            let (name, attrs, consumed) = read_start_tag(rest);
            self.at += consumed;
            if name.is(RAW_TEXT_FLAG) {
                let decode = matches!(name.as_str(), "textarea" | "title");
                let id = builder.start_tag(name.clone(), attrs);
                let content_end = find_end_tag(&self.html[self.at..], &name);
                let content = clip(&self.html[self.at..self.at + content_end], MAX_RAW_TEXT_BYTES);
                if !content.is_empty() {
                    let text = if decode { decode_entities(content) } else { content.to_string() };
                    builder.append_to(id, NodeData::Text(text));
                }
                self.at += content_end;
                let rest = &self.html[self.at..];
                self.at += memchr(b'>', rest.as_bytes()).map(|i| i + 1).unwrap_or(rest.len());
                builder.end_tag(&name);
            } else {
                builder.start_tag(name, attrs);
            }
        } else {
            builder.text("<");
            self.at += 1;
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    memchr::memchr(needle, haystack)
}

fn find(haystack: &str, needle: &str, from: usize) -> Option<usize> {
    haystack.get(from..)?.find(needle).map(|i| i + from)
}

/// Offset of `</name` (case-insensitive) in `text`, or its length when absent.
fn find_end_tag(text: &str, name: &str) -> usize {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = memchr(b'<', &bytes[from..]) {
        let at = from + offset;
        let candidate = &bytes[at..];
        if candidate.len() >= name.len() + 2
            && candidate[1] == b'/'
            && candidate[2..2 + name.len()].eq_ignore_ascii_case(name.as_bytes())
            && candidate.get(2 + name.len()).is_none_or(|b| !b.is_ascii_alphanumeric())
        {
            return at;
        }
        from = at + 1;
    }
    text.len()
}

fn read_name(text: &str, start: usize) -> (Name, usize) {
    let bytes = text.as_bytes();
    let mut end = start;
    while end < bytes.len() && !bytes[end].is_ascii_whitespace() && !matches!(bytes[end], b'>' | b'/') {
        end += 1;
    }
    // Tag names are ASCII in practice; a multibyte char ends the name on a char boundary.
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (Name::of(&text[start..end]), end)
}

/// Reads `<name attr=value …>`; returns the name, attributes and bytes consumed.
fn read_start_tag(text: &str) -> (Name, Vec<(Name, String)>, usize) {
    let bytes = text.as_bytes();
    let (name, mut at) = read_name(text, 1);
    let mut attrs = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() {
            return (name, attrs, bytes.len());
        }
        if bytes[at] == b'>' {
            return (name, attrs, at + 1);
        }
        let key_start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() && !matches!(bytes[at], b'=' | b'>' | b'/') {
            at += 1;
        }
        if at == key_start {
            at += 1; // a lone '=' or similar: skip it
            continue;
        }
        let key = Name::of(&text[key_start..at]);
        let mut probe = at;
        while probe < bytes.len() && bytes[probe].is_ascii_whitespace() {
            probe += 1;
        }
        let mut value = String::new();
        if probe < bytes.len() && bytes[probe] == b'=' {
            at = probe + 1;
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            if at < bytes.len() && (bytes[at] == b'"' || bytes[at] == b'\'') {
                let quote = bytes[at];
                let value_start = at + 1;
                let value_end = memchr(quote, &bytes[value_start..]).map(|i| value_start + i).unwrap_or(bytes.len());
                value = decode_attribute(clip(&text[value_start..value_end], MAX_ATTRIBUTE_BYTES));
                at = (value_end + 1).min(bytes.len());
            } else {
                let value_start = at;
                while at < bytes.len() && !bytes[at].is_ascii_whitespace() && bytes[at] != b'>' {
                    at += 1;
                }
                value = decode_attribute(clip(&text[value_start..at], MAX_ATTRIBUTE_BYTES));
            }
        }
        if !attrs.iter().any(|(existing, _): &(Name, String)| *existing == key) {
            attrs.push((key, value));
        }
    }
}

/// Decodes character references in text: numeric ones and every HTML5 named one.
pub fn decode_entities(text: &str) -> String {
    decode(text, false)
}

/// Decodes character references in an attribute value, where browsers leave a legacy name
/// without `;` alone when a letter, digit or `=` follows: `?a=1&region=2` keeps its `&region`.
pub fn decode_attribute(text: &str) -> String {
    decode(text, true)
}

fn decode(text: &str, in_attribute: bool) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match decode_one(rest, in_attribute, &mut out) {
            Some(consumed) => rest = &rest[consumed..],
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Pushes the reference `text` starts with onto `out`; the bytes it took.
fn decode_one(text: &str, in_attribute: bool, out: &mut String) -> Option<usize> {
    let body_end =
        text[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).map(|i| i + 1).unwrap_or(text.len());
    let body = &text[1..body_end];
    let consumed = if text[body_end..].starts_with(';') { body_end + 1 } else { body_end };
    if let Some(number) = body.strip_prefix('#') {
        let code = if let Some(hex) = number.strip_prefix(['x', 'X']) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            number.parse().ok()?
        };
        out.push(numeric(code));
        return Some(consumed);
    }
    let (characters, consumed) = named(text, in_attribute)?;
    out.push_str(characters);
    Some(consumed)
}

/// A numeric reference's character as HTML5 reads it: NUL, surrogates and numbers past Unicode
/// become U+FFFD, and 0x80–0x9F are the windows-1252 characters old CMSs meant by them.
fn numeric(code: u32) -> char {
    const WINDOWS_1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match code {
        0 => '\u{fffd}',
        0x80..=0x9f => WINDOWS_1252[(code - 0x80) as usize],
        _ => char::from_u32(code).unwrap_or('\u{fffd}'),
    }
}

/// The longest HTML5 named reference `text` (from its `&`) starts with: a name with its `;`,
/// or a legacy name without one (not in an attribute when a letter, digit or `=` follows).
/// Returns the characters and the bytes consumed.
fn named(text: &str, in_attribute: bool) -> Option<(&'static str, usize)> {
    // The longest name, `CounterClockwiseContourIntegral;`, has 31 characters before its `;`.
    const LONGEST: usize = 32;
    let after = &text.as_bytes()[1..];
    let run = after.iter().take(LONGEST).take_while(|b| b.is_ascii_alphanumeric()).count();
    let find = |name: &str| entities::NAMED.binary_search_by(|(known, _)| (*known).cmp(name)).ok();
    if after.get(run) == Some(&b';')
        && let Some(index) = find(&text[1..run + 2])
    {
        return Some((entities::NAMED[index].1, run + 2));
    }
    let (index, len) = (2..=run).rev().find_map(|len| find(&text[1..=len]).map(|index| (index, len)))?;
    let next = after.get(len).copied();
    if in_attribute && next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'=') {
        return None;
    }
    Some((entities::NAMED[index].1, 1 + len))
}

/// Byte ranges of `<![CDATA[ … ]]>` sections in `text`, for XML islands inside scripts.
pub fn cdata_sections(text: &str) -> Vec<Range<usize>> {
    let mut sections = Vec::new();
    let mut from = 0;
    while let Some(start) = find(text, "<![CDATA[", from) {
        let content_start = start + 9;
        let Some(end) = find(text, "]]>", content_start) else {
            break;
        };
        sections.push(content_start..end);
        from = end + 3;
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_html5_named_reference_decodes_as_browsers_read_text() {
        for (text, expected) in [
            ("&notin;", "∉"),
            ("&CounterClockwiseContourIntegral;", "∳"),
            ("&acE;", "\u{223e}\u{333}"),
            ("&yen;&sect;&deg;&plusmn;", "¥§°±"),
            ("&ampx &copy2026", "&x ©2026"),
            ("&notit;", "¬it;"),
            ("&unknown; & &;", "&unknown; & &;"),
            ("&#x4e00;&#19968;&#0;&#xD800;&#x110000;", "一一\u{fffd}\u{fffd}\u{fffd}"),
            ("&#150;&#x93;&#x94;", "–“”"),
        ] {
            assert_eq!(decode_entities(text), expected, "{text}");
        }
        // In attributes a legacy name runs on into a query parameter: browsers leave it.
        assert_eq!(decode_attribute("?a=1&region=2&copy=3&amp;x=4&lt;&notice"), "?a=1&region=2&copy=3&x=4<&notice");
        assert_eq!(decode_attribute("&copy 2026&amp"), "© 2026&");
        let document = Document::parse("<a href=\"list.jsp?a=1&region=44&para=2&amp;b=3\">x</a>");
        let link = document.descendants(Document::ROOT).find_map(|n| document.element(n).and_then(|e| e.attr("href")));
        assert_eq!(link, Some("list.jsp?a=1&region=44&para=2&b=3"));
    }

    fn outline(document: &Document) -> String {
        // Element names in document order with depth, for structure assertions.
        let mut out = Vec::new();
        for node in document.descendants(Document::ROOT) {
            if let Some(element) = document.element(node) {
                out.push(format!("{}{}", document.ancestors(node).count() - 1, element.name));
            }
        }
        out.join(" ")
    }

    #[test]
    fn known_names_are_sorted_lowercase_and_short() {
        assert!(KNOWN_NAMES.windows(2).all(|pair| pair[0] < pair[1]), "sorted, for binary search");
        assert!(KNOWN_NAMES.iter().all(|name| name.len() <= 16 && *name == name.to_ascii_lowercase()));
        assert!(matches!(Name::of("DIV").text, Cow::Borrowed("div")));
        assert!(matches!(Name::of("X-Custom").text, Cow::Owned(ref name) if name == "x-custom"));
        assert!(matches!(Name::of("a").text, Cow::Borrowed("a")) && matches!(Name::of("xmp").text, Cow::Borrowed(_)));
        // Every name the parser treats specially is known, so its flag is set.
        for (list, flag) in
            [(VOID, VOID_FLAG), (RAW_TEXT, RAW_TEXT_FLAG), (HIDDEN, HIDDEN_FLAG), (CLOSES_P, CLOSES_P_FLAG)]
        {
            for name in list {
                assert!(Name::of(&name.to_ascii_uppercase()).is(flag), "{name}");
            }
        }
        assert!(!Name::of("div").is(VOID_FLAG) && Name::of("script").is_hidden());
        assert_eq!(Name::of("县"), "县");
        // The run-time key is the table's, whatever the case.
        for name in KNOWN_NAMES.iter().copied().chain(["@", "[", "`", "{", "Z9-_:", "0123456789ABCDEF"]) {
            for variant in [name.to_string(), name.to_ascii_uppercase()] {
                assert_eq!(lowercase_key(variant.as_bytes()), key_of(variant.as_bytes()), "{variant}");
            }
        }
        assert_eq!(lowercase_key(b"0123456789abcdefg"), None);
        assert_eq!((lowercase_key(b"a\0"), key_of(b"a\0")), (None, None));
        assert!(!Name::of("script\0").is(RAW_TEXT_FLAG) && Name::of("script\0") != "script");
        assert_eq!(lowercase_key("县".as_bytes()), None);
    }

    #[test]
    fn subtrees_are_contiguous_runs_in_document_order() {
        let doc = Document::parse("<div><p>a<b>b</b></p>c<ul><li>1<li>2</ul></div><span>z</span>");
        for node in 0..doc.len() {
            let mut walked = vec![node];
            let mut stack: Vec<NodeId> = doc.children(node).iter().rev().copied().collect();
            while let Some(next) = stack.pop() {
                walked.push(next);
                stack.extend(doc.children(next).iter().rev());
            }
            assert_eq!(doc.descendants(node).collect::<Vec<_>>(), walked, "node {node}");
            for &child in doc.children(node) {
                assert_eq!(doc.parent(child), Some(node));
            }
        }
        assert_eq!(doc.text(Document::ROOT), "a b c 1 2 z");
    }

    #[test]
    fn implied_end_tags_like_browsers() {
        let doc = Document::parse("<ul><li>a<li>b</ul><table><tr><td>1<td>2<tr><td>3</table><p>x<div>y</div>");
        assert_eq!(outline(&doc), "0ul 1li 1li 0table 1tr 2td 2td 1tr 2td 0p 0div");
    }

    #[test]
    fn raw_text_and_comments() {
        let doc = Document::parse(
            "<div><script>if (a<b) document.write('<li>x</li>')</script><!-- <li>no</li> --><style>li{}</style>ok</div>",
        );
        assert_eq!(outline(&doc), "0div 1script 1style");
        assert_eq!(doc.text(Document::ROOT), "ok");
        let script = doc.descendants(0).find(|n| doc.is_element(*n, "script")).unwrap();
        assert!(doc.raw_text(script).contains("<li>x</li>"));
    }

    #[test]
    fn attributes_and_entities() {
        let doc = Document::parse(
            "<a HREF='./t1.html' class=\"x  y\" title=A&amp;B data-x>标题&nbsp;&#x4e00;&#19968;&lt;&unknown;</a>",
        );
        let a = doc.descendants(0).find(|n| doc.is_element(*n, "a")).unwrap();
        let element = doc.element(a).unwrap();
        assert_eq!(element.attr("href"), Some("./t1.html"));
        assert_eq!(element.attr("title"), Some("A&B"));
        assert_eq!(element.attr("data-x"), Some(""));
        assert!(element.has_class("y"));
        assert_eq!(doc.text(a), "标题\u{a0}一一<&unknown;");
    }

    #[test]
    fn hostile_input_does_not_break_it() {
        let deep = "<div>".repeat(30_000) + "x";
        let doc = Document::parse(&deep);
        assert_eq!(doc.text(Document::ROOT), "x");
        for junk in
            ["<", "<a", "<a href='", "</", "<!--", "<![CDATA[", "&#xffffffff;", "<<<>>>", "<\u{4e00}>", "<a\u{4e00}=1>"]
        {
            let _ = Document::parse(junk);
        }
    }

    #[test]
    fn a_document_keeps_at_most_its_nodes() {
        let flat = format!("<ul>{}</ul>", "<li>x</li>".repeat(MAX_NODES));
        let doc = Document::parse(&flat);
        assert!(doc.len() <= MAX_NODES + 2 && doc.len() >= MAX_NODES, "{}", doc.len());
        assert!(doc.truncated());
        assert!(!Document::parse("<ul><li>x</li></ul>").truncated());
    }

    #[test]
    fn a_text_node_keeps_at_most_its_cap() {
        // A 10 MB line of 县 (3 bytes each), and one arriving in pieces split by comments.
        let line = format!("<p>{}</p>", "县".repeat(1_000_000));
        let doc = Document::parse(&line);
        let text = doc.text(Document::ROOT);
        assert!(text.len() <= MAX_TEXT_BYTES && text.len() > MAX_TEXT_BYTES - 3, "{}", text.len());
        assert!(text.chars().all(|c| c == '县'));
        let pieces = format!("<p>{}</p>", "县县县<!-- -->".repeat(100_000));
        assert_eq!(Document::parse(&pieces).text(Document::ROOT).len(), MAX_TEXT_BYTES - MAX_TEXT_BYTES % 3);
        let script = format!("<script>var a='{}';</script>", "x".repeat(2 * MAX_RAW_TEXT_BYTES));
        let doc = Document::parse(&script);
        let raw = doc.descendants(Document::ROOT).find_map(|node| match &doc.node(node).data {
            NodeData::Text(text) => Some(text.len()),
            _ => None,
        });
        assert_eq!(raw, Some(MAX_RAW_TEXT_BYTES));
    }

    #[test]
    fn cdata_sections_in_script_text() {
        let text = "<datastore><recordset><record><![CDATA[<li>a</li>]]></record><record><![CDATA[<li>b</li>]]></record></recordset></datastore>";
        let sections: Vec<&str> = cdata_sections(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(sections, ["<li>a</li>", "<li>b</li>"]);
    }
}
