//! A YAML tree that remembers where each node came from, so that every error can name
//! its line and column. Built from `yaml-rust2`'s event stream; anchors, aliases and
//! tags are refused (a policy document has no use for them and they hide what applies).
//!
//! The text comes from users (`PUT /api/v1/policy`, `warden policy check`, case files),
//! so it is bounded before anything of unbounded depth exists: at most [`MAX_BYTES`] of
//! text, [`MAX_DEPTH`] levels of nesting and [`MAX_NODES`] nodes. The events are pulled
//! one at a time (`Parser::load` recurses once per level and overflows the stack on a
//! deep enough document, and so would dropping a deep tree), and the builder stops at the
//! first collection that would open level `MAX_DEPTH + 1`, so every tree handed out, and
//! every walk and drop of it, is at most `MAX_DEPTH` deep.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in the source, 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn of(m: Marker) -> Self {
        Self { line: m.line(), column: m.col() + 1 }
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar and whether it was written plain (unquoted): only plain scalars are
    /// numbers, booleans or null.
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub at: Pos,
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s, true) if s.is_empty() || s == "~" || s == "null")
    }
}

/// A syntax error, or a limit crossed, with its position. The message is complete
/// (`invalid YAML: …` or the limit's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: Pos,
    pub message: String,
}

/// Longest text accepted, in bytes (1 MiB; the shipped default document is under 2 KiB).
pub const MAX_BYTES: usize = 1 << 20;
/// Deepest nesting of sequences and mappings accepted (a policy document needs 4, a
/// case file 3).
pub const MAX_DEPTH: usize = 64;
/// Most nodes (scalars, sequences and mappings) one text may hold.
pub const MAX_NODES: usize = 100_000;

/// What `yaml-rust2`'s scanner says past 255 nested flow collections.
const FLOW_LIMIT: &str = "recursion limit exceeded";

/// The position of byte `offset` of `text` (rounded down to a character boundary).
fn pos_at(text: &str, offset: usize) -> Pos {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = text.get(..end).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line: before.matches('\n').count() + 1,
        column: before.get(line_start..).map_or(0, |l| l.chars().count()) + 1,
    }
}

enum Open {
    Seq(Vec<Node>, Pos),
    Map(Vec<(Node, Node)>, Option<Node>, Pos),
}

fn refusal(at: Pos, what: &str, kind: &str) -> SyntaxError {
    SyntaxError { at, message: format!("invalid YAML: {what} are not supported in {kind}") }
}

struct Builder<'a> {
    stack: Vec<Open>,
    docs: Vec<Node>,
    refused: Option<SyntaxError>,
    nodes: usize,
    /// What the text is, for the limits' messages ("policy documents").
    what: &'a str,
}

impl Builder<'_> {
    /// Counts a node about to be built; an error once there are too many.
    fn count(&mut self, at: Pos) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(SyntaxError {
                at,
                message: format!(
                    "more than {MAX_NODES} values (the limit for {}); split the text or remove what is not needed",
                    self.what
                ),
            });
        }
        Ok(())
    }

    fn too_deep(&self, at: Pos) -> SyntaxError {
        SyntaxError {
            at,
            message: format!(
                "nesting deeper than {MAX_DEPTH} levels (the limit for {}); a policy document needs about 4",
                self.what
            ),
        }
    }

    /// Opens a collection unless it would nest deeper than the limit.
    fn open(&mut self, open: Open, at: Pos) -> Result<(), SyntaxError> {
        self.count(at)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.too_deep(at));
        }
        self.stack.push(open);
        Ok(())
    }

    fn refuse(&mut self, at: Pos, what: &str) {
        if self.refused.is_none() {
            self.refused = Some(refusal(at, what, self.what));
        }
    }

    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq(items, _)) => items.push(node),
            Some(Open::Map(pairs, key, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
    }
}

impl Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) -> Result<(), SyntaxError> {
        let at = Pos::of(mark);
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                self.count(at)?;
                if anchor != 0 {
                    self.refuse(at, "anchors");
                }
                if tag.is_some() {
                    self.refuse(at, "tags");
                }
                self.push(Node { kind: Kind::Scalar(value, style == TScalarStyle::Plain), at });
            }
            Event::SequenceStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    self.refuse(at, "anchors and tags");
                }
                self.open(Open::Seq(Vec::new(), at), at)?;
            }
            Event::MappingStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    self.refuse(at, "anchors and tags");
                }
                self.open(Open::Map(Vec::new(), None, at), at)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(items, at)) => Node { kind: Kind::Seq(items), at },
                    Some(Open::Map(pairs, _, at)) => Node { kind: Kind::Map(pairs), at },
                    None => return Ok(()),
                };
                self.push(node);
            }
            Event::Alias(_) => {
                // Refused outright: an alias is never expanded, so "billion laughs"
                // documents cannot grow the tree.
                return Err(self.refused.take().unwrap_or_else(|| refusal(at, "aliases", self.what)));
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
        Ok(())
    }
}

/// Parses one YAML document (an empty text is an empty mapping). `what` names the kind
/// of text in the limits' messages ("policy documents", "case files").
pub fn parse(text: &str, what: &str) -> Result<Node, SyntaxError> {
    if text.len() > MAX_BYTES {
        return Err(SyntaxError {
            at: pos_at(text, MAX_BYTES),
            message: format!(
                "the text is {} bytes, more than {MAX_BYTES} (1 MiB, the limit for {what}); split it or remove what is not needed",
                text.len()
            ),
        });
    }
    let mut b = Builder { stack: Vec::new(), docs: Vec::new(), refused: None, nodes: 0, what };
    let mut parser = Parser::new_from_str(text);
    // One event at a time: no recursion, and nothing beyond the limits is ever built.
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| {
            let at = Pos::of(*e.marker());
            if e.info() == FLOW_LIMIT {
                // The scanner reads ahead over flow collections (`[[[…`), so it meets
                // its own limit (255) before the builder sees level 65: the same limit,
                // where the scanner stopped.
                b.too_deep(at)
            } else {
                SyntaxError { at, message: format!("invalid YAML: {}", e.info()) }
            }
        })?;
        let end = ev == Event::StreamEnd;
        b.on_event(ev, mark)?;
        if end {
            break;
        }
    }
    if let Some(e) = b.refused {
        return Err(e);
    }
    let mut docs = b.docs.into_iter();
    let first = docs.next().unwrap_or(Node { kind: Kind::Map(Vec::new()), at: Pos { line: 1, column: 1 } });
    if let Some(second) = docs.next() {
        return Err(SyntaxError {
            at: second.at,
            message: "invalid YAML: expected one YAML document, found several".into(),
        });
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_point_at_the_node() {
        let n = parse("zones:\n  a: {region: eu}\n", "tests").unwrap();
        let Kind::Map(pairs) = &n.kind else { panic!() };
        let (k, v) = &pairs[0];
        assert_eq!(k.at, Pos { line: 1, column: 1 });
        let Kind::Map(inner) = &v.kind else { panic!() };
        assert_eq!(inner[0].0.at, Pos { line: 2, column: 3 });
        let Kind::Map(zone) = &inner[0].1.kind else { panic!() };
        assert_eq!(zone[0].1.kind, Kind::Scalar("eu".into(), true));
        assert_eq!(zone[0].1.at, Pos { line: 2, column: 15 });
    }

    #[test]
    fn refuses_aliases_and_reports_syntax_errors_with_positions() {
        let e = parse("a: &x 1\nb: *x\n", "tests").unwrap_err();
        assert!(e.message.contains("not supported"), "{e:?}");
        let e = parse("a: [1, 2\nb: 3\n", "tests").unwrap_err();
        assert!(e.at.line >= 1, "{e:?}");
        let e = parse("a: 1\n---\nb: 2\n", "tests").unwrap_err();
        assert_eq!(e.at.line, 3);
        assert_eq!(parse("", "tests").unwrap().kind, Kind::Map(Vec::new()));
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let n = parse("a: 'true'\nb: true\n", "tests").unwrap();
        let Kind::Map(p) = &n.kind else { panic!() };
        assert_eq!(p[0].1.kind, Kind::Scalar("true".into(), false));
        assert_eq!(p[1].1.kind, Kind::Scalar("true".into(), true));
    }

    /// Runs `f` on a thread with a small stack, so that unbounded recursion anywhere
    /// (the parser, the builder, a walk, a drop) overflows deterministically.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap()
    }

    fn too_deep(text: String) -> SyntaxError {
        on_small_stack(move || parse(&text, "policy documents").unwrap_err())
    }

    #[test]
    fn deep_block_sequences_are_refused_at_the_limit_not_overflowed() {
        // The adversarial finding: 10 kB that overflowed a tokio worker's stack.
        let e = too_deep(format!("zones:\n{}x\n", "- ".repeat(5000)));
        assert_eq!(
            e.message,
            "nesting deeper than 64 levels (the limit for policy documents); a policy document needs about 4"
        );
        // The root mapping is level 1; the 64th `- ` opens level 65.
        assert_eq!(e.at, Pos { line: 2, column: 1 + 2 * 63 });
        let e = too_deep(format!("zones:\n{}x\n", "- ".repeat(100_000)));
        assert!(e.message.starts_with("nesting deeper than 64 levels"), "{e:?}");
    }

    #[test]
    fn deep_flow_collections_are_refused() {
        let n = 100_000;
        let e = too_deep(format!("{}{}", "[".repeat(n), "]".repeat(n)));
        assert!(e.message.starts_with("nesting deeper than 64 levels"), "{e:?}");
        assert_eq!(e.at.line, 1);
        let e = too_deep(format!("{}x{}", "{a: ".repeat(n), "}".repeat(n)));
        assert!(e.message.starts_with("nesting deeper than 64 levels"), "{e:?}");
        // Unbalanced, and mixed with block nesting.
        let e = too_deep("[".repeat(n));
        assert!(e.message.contains("64 levels") || e.message.starts_with("invalid YAML"), "{e:?}");
        let e = too_deep(format!("a:\n{}{}", "- ".repeat(40), "[{b: ".repeat(n)));
        assert!(e.message.starts_with("nesting deeper than 64 levels"), "{e:?}");
    }

    #[test]
    fn deep_block_mappings_are_refused() {
        let text: String = (0..400).map(|i| format!("{}a:\n", "  ".repeat(i))).collect();
        let e = too_deep(text);
        assert!(e.message.starts_with("nesting deeper than 64 levels"), "{e:?}");
        assert_eq!(e.at.line, 65, "the root is line 1's mapping, level 65 starts on line 65: {e:?}");
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        let ok = format!("{}x{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let mut n = on_small_stack(move || parse(&ok, "tests").unwrap());
        let mut depth = 0;
        while let Kind::Seq(mut items) = n.kind {
            depth += 1;
            n = items.pop().unwrap();
        }
        assert_eq!(depth, MAX_DEPTH);
        let over = format!("{}x{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&over, "tests").unwrap_err().message.contains("64 levels"));
    }

    #[test]
    fn texts_over_a_mebibyte_are_refused_with_where_the_limit_falls() {
        let line = format!("# {}\n", "x".repeat(1021)); // 1 KiB a line
        let text = line.repeat(1024) + "a: 1\n";
        assert_eq!(text.len(), MAX_BYTES + 5);
        let e = parse(&text, "case files").unwrap_err();
        assert_eq!(e.at, Pos { line: 1025, column: 1 });
        assert!(e.message.contains("more than 1048576 (1 MiB, the limit for case files)"), "{e:?}");
        assert!(parse(&text[..MAX_BYTES], "case files").is_ok());
        // A limit inside a multi-byte character is still a position.
        assert_eq!(pos_at("é", 1), Pos { line: 1, column: 1 });
    }

    #[test]
    fn too_many_values_are_refused() {
        let text = format!("[{}]", "1,".repeat(MAX_NODES));
        let e = parse(&text, "policy documents").unwrap_err();
        assert!(e.message.starts_with("more than 100000 values (the limit for policy documents)"), "{e:?}");
        assert_eq!(e.at.line, 1);
    }

    #[test]
    fn alias_bombs_are_refused_without_expanding() {
        // "Billion laughs": nine levels of ten aliases each would be 10^9 strings.
        let mut text =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let (prev, next) = (w[0], w[1]);
            text.push_str(&format!("{next}: &{next} [{}]\n", vec![format!("*{prev}"); 9].join(",")));
        }
        let e = on_small_stack(move || parse(&text, "policy documents").unwrap_err());
        assert!(e.message.contains("are not supported in policy documents"), "{e:?}");
        assert_eq!(e.at, Pos { line: 1, column: 7 }, "the first anchored node is named");
        let e = parse("a: &x 1\nb: *x\n", "case files").unwrap_err();
        assert_eq!(e.message, "invalid YAML: anchors are not supported in case files");
        assert_eq!(e.at, Pos { line: 1, column: 7 }, "the anchored value");
    }
}
