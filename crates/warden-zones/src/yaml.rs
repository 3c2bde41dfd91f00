//! A YAML tree that remembers where each node came from, so that every error can name
//! its line and column. Built from `yaml-rust2`'s event stream; anchors, aliases and
//! tags are refused (a policy document has no use for them and they hide what applies).

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
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

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: Pos,
    pub message: String,
}

enum Open {
    Seq(Vec<Node>, Pos),
    Map(Vec<(Node, Node)>, Option<Node>, Pos),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    docs: Vec<Node>,
    refused: Option<SyntaxError>,
}

impl Builder {
    fn refuse(&mut self, at: Pos, what: &str) {
        if self.refused.is_none() {
            self.refused = Some(SyntaxError { at, message: format!("{what} are not supported in a policy document") });
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

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = Pos::of(mark);
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
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
                self.stack.push(Open::Seq(Vec::new(), at));
            }
            Event::MappingStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    self.refuse(at, "anchors and tags");
                }
                self.stack.push(Open::Map(Vec::new(), None, at));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(items, at)) => Node { kind: Kind::Seq(items), at },
                    Some(Open::Map(pairs, _, at)) => Node { kind: Kind::Map(pairs), at },
                    None => return,
                };
                self.push(node);
            }
            Event::Alias(_) => {
                self.refuse(at, "aliases");
                self.push(Node { kind: Kind::Scalar(String::new(), true), at });
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

/// Parses one YAML document (an empty text is an empty mapping).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, true).map_err(|e| SyntaxError { at: Pos::of(*e.marker()), message: e.info().to_string() })?;
    if let Some(e) = b.refused {
        return Err(e);
    }
    let mut docs = b.docs.into_iter();
    let first = docs.next().unwrap_or(Node { kind: Kind::Map(Vec::new()), at: Pos { line: 1, column: 1 } });
    if let Some(second) = docs.next() {
        return Err(SyntaxError { at: second.at, message: "expected one YAML document, found several".into() });
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_point_at_the_node() {
        let n = parse("zones:\n  a: {region: eu}\n").unwrap();
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
        let e = parse("a: &x 1\nb: *x\n").unwrap_err();
        assert!(e.message.contains("not supported"), "{e:?}");
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.at.line >= 1, "{e:?}");
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.at.line, 3);
        assert_eq!(parse("").unwrap().kind, Kind::Map(Vec::new()));
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let n = parse("a: 'true'\nb: true\n").unwrap();
        let Kind::Map(p) = &n.kind else { panic!() };
        assert_eq!(p[0].1.kind, Kind::Scalar("true".into(), false));
        assert_eq!(p[1].1.kind, Kind::Scalar("true".into(), true));
    }
}
