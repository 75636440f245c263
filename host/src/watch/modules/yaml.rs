//! A YAML document as a tree whose every node knows its line and column, so
//! that each problem of a config can be placed (yaml-rust2's event parser
//! underneath; serde's derive would stop at the first problem and forget where
//! a value came from). A key defined twice in one mapping is refused, as
//! blackbox_exporter's Go YAML refuses it.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node starts: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct At {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

impl At {
    fn of(m: Marker) -> Self {
        Self {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where it starts.
    pub at: At,
    /// What it is.
    pub value: Value,
}

/// A node's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar: its text, whether it was quoted (or a block), its tag (`!!binary`, …).
    Scalar {
        /// The text.
        text: String,
        /// Plain (unquoted): `~`, `null` and an empty value are null.
        plain: bool,
        /// The tag, with `!!` for the core schema's (`!!binary`).
        tag: Option<String>,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order (duplicate keys are refused at parse).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Whether it is null (`~`, `null`, or nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true, tag: None }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What a message calls its type.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            _ if self.is_null() => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The text of a scalar key (for messages and lookups).
    pub fn key_text(&self) -> String {
        match &self.value {
            Value::Scalar { text, .. } => text.clone(),
            _ => format!("<{}>", self.kind()),
        }
    }
}

/// A parse error: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Where.
    pub at: At,
    /// What.
    pub message: String,
}

fn tag_text(t: &Option<Tag>) -> Option<String> {
    t.as_ref().map(|t| match t.handle.as_str() {
        "tag:yaml.org,2002:" | "!!" => format!("!!{}", t.suffix),
        h => format!("{h}{}", t.suffix),
    })
}

enum Open {
    Seq(At, Vec<Node>, usize),
    /// Entries, and a key waiting for its value.
    Map(At, Vec<(Node, Node)>, Option<Node>, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    docs: Vec<Node>,
    anchors: HashMap<usize, Node>,
    error: Option<ParseError>,
}

impl Builder {
    fn push(&mut self, node: Node, anchor: usize) -> Result<(), ParseError> {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq(_, items, _)) => items.push(node),
            Some(Open::Map(_, entries, key, _)) => match key.take() {
                None => {
                    if let Value::Scalar { text, .. } = &node.value
                        && let Some((first, _)) = entries.iter().find(
                            |(k, _)| matches!(&k.value, Value::Scalar { text: t, .. } if t == text),
                        )
                    {
                        return Err(ParseError {
                            at: node.at,
                            message: format!(
                                "mapping key {text:?} already defined at line {}",
                                first.at.line
                            ),
                        });
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }

    fn event(&mut self, ev: Event, mark: Marker) -> Result<(), ParseError> {
        let at = At::of(mark);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    at,
                    value: Value::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                        tag: tag_text(&tag),
                    },
                };
                self.push(node, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Open::Seq(at, Vec::new(), anchor));
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Open::Map(at, Vec::new(), None, anchor));
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Open::Seq(at, items, a)) => (
                        Node {
                            at,
                            value: Value::Seq(items),
                        },
                        a,
                    ),
                    Some(Open::Map(at, entries, _, a)) => (
                        Node {
                            at,
                            value: Value::Map(entries),
                        },
                        a,
                    ),
                    None => return Ok(()),
                };
                self.push(node, anchor)
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    node.at = at;
                    self.push(node, 0)
                }
                None => Err(ParseError {
                    at,
                    message: "an alias to an unknown anchor".into(),
                }),
            },
            _ => Ok(()),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_none()
            && let Err(e) = self.event(ev, mark)
        {
            self.error = Some(e);
        }
    }
}

/// Parse `text`: its one document (none: an empty mapping; more than one: an error).
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, true).map_err(|e| ParseError {
        at: At::of(*e.marker()),
        message: e.info().to_string(),
    })?;
    if let Some(e) = b.error {
        return Err(e);
    }
    match b.docs.len() {
        0 => Ok(Node {
            at: At { line: 1, col: 1 },
            value: Value::Map(Vec::new()),
        }),
        1 => Ok(b.docs.pop().expect("one document")),
        _ => Err(ParseError {
            at: b.docs[1].at,
            message: "a second YAML document: the config is one document".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_where_they_are() {
        let n = parse("---\nmodules:\n  a:\n    prober: http # c\n    timeout: 5s\n...\n").unwrap();
        let Value::Map(top) = &n.value else { panic!() };
        let (k, v) = &top[0];
        assert_eq!(
            (k.key_text(), k.at),
            ("modules".into(), At { line: 2, col: 1 })
        );
        let Value::Map(mods) = &v.value else { panic!() };
        let Value::Map(a) = &mods[0].1.value else {
            panic!()
        };
        assert_eq!(a[0].1.at, At { line: 4, col: 13 });
        assert_eq!(
            a[0].1.value,
            Value::Scalar {
                text: "http".into(),
                plain: true,
                tag: None
            }
        );
    }

    #[test]
    fn duplicate_keys_tags_nulls_and_aliases() {
        let e = parse("a:\n  prober: tcp\n  prober: http\n").unwrap_err();
        assert_eq!(e.at, At { line: 3, col: 3 });
        assert!(e.message.contains("already defined at line 2"), "{e:?}");
        let n = parse("a: !!binary aGk=\nb:\nc: ~\nd: \"\"\ne: &x [1]\nf: *x\n").unwrap();
        let Value::Map(m) = &n.value else { panic!() };
        assert!(matches!(&m[0].1.value, Value::Scalar { tag: Some(t), .. } if t == "!!binary"));
        assert!(m[1].1.is_null() && m[2].1.is_null() && !m[3].1.is_null());
        assert_eq!(m[5].1.value, m[4].1.value);
        let e = parse("a: [1\n").unwrap_err();
        assert!(e.at.line >= 1, "{e:?}");
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
        assert_eq!(parse("").unwrap().value, Value::Map(Vec::new()));
    }
}
