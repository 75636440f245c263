//! A mapping of the config read key by key, as blackbox_exporter's strict Go
//! YAML reads it: every value of the right type, every key known. Problems are
//! collected, never returned one at a time: a file's whole migration report is
//! made in one pass. When a block is dropped, each key nobody asked for is an
//! unknown key at its line and column.

use super::yaml::{At, Node, Value};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file does not load (blackbox would refuse it too: a typo, a wrong type, a bad regex).
    Error,
    /// blackbox has it and netkit does not yet: refused by name, with the reason.
    Unsupported,
    /// Loads, but deprecated (blackbox logs the same warning).
    Warning,
    /// Loads; something an operator moving over should know.
    Note,
}

impl Severity {
    /// The word the report prints.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Unsupported => "unsupported",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }

    /// Whether it stops the file from loading.
    pub fn fatal(self) -> bool {
        matches!(self, Severity::Error | Severity::Unsupported)
    }
}

/// One problem: where, how bad, in which module, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub at: At,
    /// How bad.
    pub severity: Severity,
    /// The module (or scheduled probe) it is in, if any.
    pub module: Option<String>,
    /// What, with the key's path.
    pub message: String,
}

/// What the readers of one file share: where problems go, the module being read.
pub struct Ctx {
    problems: RefCell<Vec<Problem>>,
    module: RefCell<Option<String>>,
    /// The config file's directory (relative paths in it are relative to this).
    pub base: PathBuf,
}

impl Ctx {
    /// A context for the file in `base`.
    pub fn new(base: &Path) -> Self {
        Self {
            problems: RefCell::new(Vec::new()),
            module: RefCell::new(None),
            base: base.to_path_buf(),
        }
    }

    /// Problems from here on are in `module`.
    pub fn enter(&self, module: Option<&str>) {
        *self.module.borrow_mut() = module.map(str::to_string);
    }

    /// Record a problem.
    pub fn add(&self, at: At, severity: Severity, message: impl Into<String>) {
        self.problems.borrow_mut().push(Problem {
            at,
            severity,
            module: self.module.borrow().clone(),
            message: message.into(),
        });
    }

    /// Whether a fatal problem was recorded in the current module.
    pub fn module_failed(&self) -> bool {
        let m = self.module.borrow();
        self.problems
            .borrow()
            .iter()
            .any(|p| p.severity.fatal() && p.module == *m)
    }

    /// Everything recorded.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems.into_inner()
    }
}

static EMPTY: [(Node, Node); 0] = [];

/// A mapping being read.
pub struct Block<'a> {
    ctx: &'a Ctx,
    /// Its path, for messages (`modules.http_2xx.http`).
    pub path: String,
    /// Where it is.
    pub at: At,
    entries: &'a [(Node, Node)],
    used: RefCell<Vec<bool>>,
}

impl<'a> Block<'a> {
    /// `node` (a mapping, or null: empty) at `path`.
    pub fn of(ctx: &'a Ctx, node: Option<&'a Node>, path: &str, at: At) -> Self {
        let (entries, at) = match node {
            None => (&EMPTY[..], at),
            Some(n) => match &n.value {
                Value::Map(m) => (&m[..], n.at),
                _ if n.is_null() => (&EMPTY[..], n.at),
                _ => {
                    ctx.add(
                        n.at,
                        Severity::Error,
                        format!("{path}: {} where a mapping belongs", n.kind()),
                    );
                    (&EMPTY[..], n.at)
                }
            },
        };
        Self {
            ctx,
            path: path.to_string(),
            at,
            entries,
            used: RefCell::new(vec![false; entries.len()]),
        }
    }

    /// The context.
    pub fn ctx(&self) -> &'a Ctx {
        self.ctx
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, marked as read.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        let i = self
            .entries
            .iter()
            .position(|(k, _)| matches!(&k.value, Value::Scalar { text, .. } if text == key))?;
        self.used.borrow_mut()[i] = true;
        Some(&self.entries[i].1)
    }

    /// Where `key` itself is written (not its value).
    pub fn key_at(&self, key: &str) -> Option<At> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(&k.value, Value::Scalar { text, .. } if text == key))
            .map(|(k, _)| k.at)
    }

    /// Its keys in document order, all marked as read (a map of names).
    pub fn entries(&self) -> &'a [(Node, Node)] {
        self.used.borrow_mut().iter_mut().for_each(|u| *u = true);
        self.entries
    }

    /// Whether `key` is given (and not null); not marked as read.
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, v)| {
            matches!(&k.value, Value::Scalar { text, .. } if text == key) && !v.is_null()
        })
    }

    /// Record an error at `at`.
    pub fn error(&self, at: At, message: impl Into<String>) {
        self.ctx.add(at, Severity::Error, message);
    }

    /// Record an error about `key` (its value) at `at`.
    pub fn bad(&self, key: &str, at: At, what: impl std::fmt::Display) {
        self.ctx.add(
            at,
            Severity::Error,
            format!("{}: {what}", self.key_path(key)),
        );
    }

    /// If `key` is given, refuse it as not yet supported, with `reason`.
    pub fn unsupported(&self, key: &str, reason: &str) {
        if let Some(n) = self.get(key)
            && !is_zero(n)
        {
            // A scalar at its value; a block at its key (a block's own mark is not its start).
            let at = match &n.value {
                Value::Scalar { .. } => n.at,
                _ => self.key_at(key).unwrap_or(n.at),
            };
            self.ctx.add(
                at,
                Severity::Unsupported,
                format!("{}: {reason}", self.key_path(key)),
            );
        }
    }

    /// Record a note or warning about `key` at `at`.
    pub fn say(&self, severity: Severity, at: At, key: &str, message: &str) {
        self.ctx
            .add(at, severity, format!("{}: {message}", self.key_path(key)));
    }

    fn scalar(&self, key: &str, n: &'a Node) -> Option<(&'a str, bool, Option<&'a str>)> {
        match &n.value {
            Value::Scalar { text, plain, tag } => Some((text.as_str(), *plain, tag.as_deref())),
            _ => {
                self.bad(key, n.at, format!("{} where a scalar belongs", n.kind()));
                None
            }
        }
    }

    /// A value's bytes: a scalar's text, or a `!!binary` scalar decoded.
    fn node_bytes(&self, key: &str, n: &'a Node) -> Option<Vec<u8>> {
        if n.is_null() {
            return None;
        }
        let (text, _, tag) = self.scalar(key, n)?;
        if tag == Some("!!binary") {
            use base64::Engine;
            let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(clean) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.bad(key, n.at, format!("!!binary that is not base64: {e}"));
                    None
                }
            }
        } else {
            Some(text.as_bytes().to_vec())
        }
    }

    fn node_str(&self, key: &str, n: &'a Node) -> Option<String> {
        let bytes = self.node_bytes(key, n)?;
        match String::from_utf8(bytes) {
            Ok(s) => Some(s),
            Err(_) => {
                self.bad(key, n.at, "bytes that are not UTF-8 text here");
                None
            }
        }
    }

    /// `key` as text (null or absent: `None`).
    pub fn str(&self, key: &str) -> Option<String> {
        let n = self.get(key)?;
        self.node_str(key, n)
    }

    /// `key` as text with where it is.
    pub fn str_at(&self, key: &str) -> Option<(String, At)> {
        let n = self.get(key)?;
        self.node_str(key, n).map(|s| (s, n.at))
    }

    /// `key` as bytes (`!!binary` decoded).
    pub fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        let n = self.get(key)?;
        self.node_bytes(key, n)
    }

    /// `key` as a boolean (YAML's true/false, and yes/no/on/off as Go's YAML reads them into a bool).
    pub fn bool(&self, key: &str) -> Option<bool> {
        let n = self.get(key)?;
        if n.is_null() {
            return None;
        }
        let (text, _, _) = self.scalar(key, n)?;
        match text {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
            other => {
                self.bad(
                    key,
                    n.at,
                    format!("{other:?} is not a boolean (true or false)"),
                );
                None
            }
        }
    }

    fn node_int(&self, key: &str, n: &'a Node) -> Option<i64> {
        let (text, _, _) = self.scalar(key, n)?;
        match text.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.bad(key, n.at, format!("{text:?} is not an integer"));
                None
            }
        }
    }

    /// `key` as an integer.
    pub fn int(&self, key: &str) -> Option<(i64, At)> {
        let n = self.get(key)?;
        if n.is_null() {
            return None;
        }
        self.node_int(key, n).map(|v| (v, n.at))
    }

    /// `key` as a duration with a unit (`5s`, `1m30s`, `250ms`), as Go's time.ParseDuration reads it.
    pub fn duration(&self, key: &str) -> Option<(Duration, At)> {
        let (text, at) = self.str_at(key)?;
        let t = text.trim();
        if t.chars().all(|c| c.is_ascii_digit()) && t != "0" {
            self.bad(
                key,
                at,
                format!("{t:?} has no unit: write \"{t}s\" (a bare number would be nanoseconds to blackbox_exporter)"),
            );
            return None;
        }
        match go_duration(t) {
            Some(d) => Some((d, at)),
            None => {
                self.bad(
                    key,
                    at,
                    format!("{t:?} is not a duration (e.g. \"5s\", \"1m30s\", \"250ms\")"),
                );
                None
            }
        }
    }

    fn seq(&self, key: &str) -> Option<&'a [Node]> {
        let n = self.get(key)?;
        match &n.value {
            Value::Seq(items) => Some(items),
            _ if n.is_null() => None,
            _ => {
                self.bad(key, n.at, format!("{} where a list belongs", n.kind()));
                None
            }
        }
    }

    /// `key` as a list of text.
    pub fn strs(&self, key: &str) -> Vec<(String, At)> {
        self.seq(key)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| self.node_str(key, n).map(|s| (s, n.at)))
            .collect()
    }

    /// `key` as a list of regular expressions, each checked (Rust's regex
    /// syntax, RE2's for what blackbox's configs write).
    pub fn regexes(&self, key: &str) -> Vec<String> {
        self.strs(key)
            .into_iter()
            .filter_map(|(r, at)| match http_proto::expect::regex(key, &r) {
                Ok(_) => Some(r),
                Err(e) => {
                    self.bad(key, at, e);
                    None
                }
            })
            .collect()
    }

    /// `key` as a list of integers.
    pub fn ints(&self, key: &str) -> Vec<(i64, At)> {
        self.seq(key)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| self.node_int(key, n).map(|v| (v, n.at)))
            .collect()
    }

    /// `key` as a mapping of text to text (`headers`).
    pub fn str_map(&self, key: &str) -> Vec<(String, String, At)> {
        let b = self.block(key);
        b.entries()
            .iter()
            .filter_map(|(k, v)| {
                let name = k.key_text();
                let value = if v.is_null() {
                    Some(String::new())
                } else {
                    b.node_str(&name, v)
                };
                value.map(|v| (name, v, k.at))
            })
            .collect()
    }

    /// `key` as a block of its own.
    pub fn block(&self, key: &str) -> Block<'a> {
        let path = self.key_path(key);
        Block::of(self.ctx, self.get(key), &path, self.at)
    }

    /// `key` as a list of blocks.
    pub fn blocks(&self, key: &str) -> Vec<Block<'a>> {
        let path = self.key_path(key);
        self.seq(key)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, n)| Block::of(self.ctx, Some(n), &format!("{path}[{i}]"), n.at))
            .collect()
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        for ((k, _), used) in self.entries.iter().zip(self.used.borrow().iter()) {
            if !used {
                self.ctx.add(
                    k.at,
                    Severity::Error,
                    format!(
                        "{}: unknown key (blackbox_exporter has no such key here either; check its spelling and indentation)",
                        self.key_path(&k.key_text())
                    ),
                );
            }
        }
    }
}

/// Whether a value is its type's zero (`false`, `""`, `[]`, `{}`, null): Go's
/// YAML leaves such a field as if it were not given.
pub fn is_zero(n: &Node) -> bool {
    match &n.value {
        _ if n.is_null() => true,
        Value::Scalar { text, plain, .. } => {
            (*plain && matches!(text.as_str(), "false" | "False" | "FALSE" | "0"))
                || text.is_empty()
        }
        Value::Seq(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
    }
}

/// Go's `time.ParseDuration` (units ns, us, µs, ms, s, m, h; no sign), and
/// Prometheus's `d`, `w`, `y` for good measure.
pub fn go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 604800.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        assert_eq!(go_duration("5"), None);
        assert_eq!(go_duration("s"), None);
        assert_eq!(go_duration("5x"), None);
        assert_eq!(go_duration(""), None);
    }

    #[test]
    fn problems_are_collected_not_returned_one_by_one() {
        let n = super::super::yaml::parse(
            "a: yes\nb: [1, x]\nc: !!binary aGk=\nd: 5\ne: {x: 1}\ntypo: 1\n",
        )
        .unwrap();
        let ctx = Ctx::new(Path::new("."));
        {
            let b = Block::of(&ctx, Some(&n), "m", At::default());
            assert_eq!(b.bool("a"), Some(true));
            assert_eq!(b.ints("b").len(), 1);
            assert_eq!(b.bytes("c").as_deref(), Some(&b"hi"[..]));
            assert_eq!(b.duration("d"), None);
            assert!(b.str("e").is_none());
        }
        let p = ctx.into_problems();
        let msgs: Vec<String> = p
            .iter()
            .map(|p| format!("{}:{} {}", p.at.line, p.at.col, p.message))
            .collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("2:8 m.b: \"x\" is not an integer"),
            "{msgs:#?}"
        );
        assert!(msgs[1].contains("m.d: \"5\" has no unit"), "{msgs:#?}");
        assert!(
            msgs[2].contains("m.e: a mapping where a scalar belongs"),
            "{msgs:#?}"
        );
        assert!(msgs[3].starts_with("6:1 m.typo: unknown key"), "{msgs:#?}");
    }
}
