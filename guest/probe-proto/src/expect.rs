//! What a reply must look like: a regular expression (on the reply read as
//! UTF-8, lossily) and/or bytes it must contain.

use regex_lite::Regex;

/// An expectation on a reply.
#[derive(Debug, Clone)]
pub struct Expectation {
    regex: Option<Regex>,
    bytes: Option<Vec<u8>>,
}

/// What the bytes read so far say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// They match.
    Match,
    /// They do not match (yet: more may come).
    NoMatch,
}

impl Expectation {
    /// An expectation from `--expect REGEX` and/or `--expect-hex` bytes; `None`
    /// when neither is given. A bad regex is named with the reason.
    pub fn new(regex: Option<&str>, bytes: Option<Vec<u8>>) -> Result<Option<Self>, String> {
        if regex.is_none() && bytes.is_none() {
            return Ok(None);
        }
        let regex = regex
            .map(|r| {
                Regex::new(r)
                    .map_err(|e| format!("--expect {r:?} is not a valid regular expression: {e}"))
            })
            .transpose()?;
        if bytes.as_ref().is_some_and(|b| b.is_empty()) {
            return Err("--expect-hex needs at least one byte".into());
        }
        Ok(Some(Self { regex, bytes }))
    }

    /// Whether `reply` (everything read so far) meets the expectation.
    pub fn check(&self, reply: &[u8]) -> Verdict {
        let regex_ok = self
            .regex
            .as_ref()
            .is_none_or(|r| r.is_match(&String::from_utf8_lossy(reply)));
        let bytes_ok = self
            .bytes
            .as_ref()
            .is_none_or(|b| reply.windows(b.len()).any(|w| w == b.as_slice()));
        if regex_ok && bytes_ok {
            Verdict::Match
        } else {
            Verdict::NoMatch
        }
    }

    /// What was expected, for messages: `/REGEX/` and/or the hex bytes.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.regex {
            parts.push(format!("/{}/", r.as_str()));
        }
        if let Some(b) = &self.bytes {
            parts.push(format!(
                "bytes {}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ));
        }
        parts.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_and_bytes_both_count() {
        let e = Expectation::new(Some("^SSH-2\\.0"), Some(b"Open".to_vec()))
            .unwrap()
            .unwrap();
        assert_eq!(e.check(b"SSH-2.0-OpenSSH_9.2\r\n"), Verdict::Match);
        assert_eq!(e.check(b"SSH-2.0-dropbear\r\n"), Verdict::NoMatch);
        assert_eq!(e.check(b"HTTP/1.1 400"), Verdict::NoMatch);
        assert_eq!(e.describe(), "/^SSH-2\\.0/ and bytes 4f70656e");
    }

    #[test]
    fn nothing_to_expect_is_none_and_bad_regex_is_named() {
        assert!(Expectation::new(None, None).unwrap().is_none());
        let err = Expectation::new(Some("(unclosed"), None).unwrap_err();
        assert!(
            err.contains("(unclosed") && err.contains("not a valid"),
            "{err}"
        );
        assert!(Expectation::new(None, Some(vec![])).is_err());
    }

    #[test]
    fn binary_replies_are_matched_lossily() {
        let e = Expectation::new(Some("pong"), None).unwrap().unwrap();
        assert_eq!(e.check(b"\xff\xfepong\x00"), Verdict::Match);
    }
}
