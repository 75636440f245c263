//! blackbox_exporter's checks on a response: status codes, HTTP versions,
//! TLS or not, and regular expressions on the body and on headers.

use regex_lite::Regex;

/// Accepted status codes: ranges, e.g. `200-299,301`; empty means 2xx.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusSpec(pub Vec<(u16, u16)>);

impl StatusSpec {
    /// From `200-299,301` (also `2xx`).
    pub fn parse(text: &str) -> Result<StatusSpec, String> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let code = |s: &str| {
                s.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| {
                        format!("{s:?} is not an HTTP status (100-599); write e.g. 200-299,301")
                    })
            };
            if let Some(class) = part.strip_suffix("xx").and_then(|d| d.parse::<u16>().ok()) {
                out.push((class * 100, class * 100 + 99));
            } else if let Some((a, b)) = part.split_once('-') {
                let (a, b) = (code(a)?, code(b)?);
                if a > b {
                    return Err(format!("{part:?}: the range is backwards"));
                }
                out.push((a, b));
            } else {
                let c = code(part)?;
                out.push((c, c));
            }
        }
        Ok(StatusSpec(out))
    }

    /// From blackbox's list of codes.
    pub fn of_codes(codes: &[u16]) -> StatusSpec {
        StatusSpec(codes.iter().map(|&c| (c, c)).collect())
    }

    /// Whether `status` is accepted.
    pub fn accepts(&self, status: u16) -> bool {
        if self.0.is_empty() {
            return (200..300).contains(&status);
        }
        self.0.iter().any(|&(a, b)| (a..=b).contains(&status))
    }

    /// As written.
    pub fn describe(&self) -> String {
        if self.0.is_empty() {
            return "2xx".into();
        }
        self.0
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A rule on a header (`fail_if_header_matches` / `_not_matches`).
#[derive(Debug, Clone)]
pub struct HeaderRule {
    /// The header's name.
    pub header: String,
    /// The regex.
    pub regexp: Regex,
    /// A missing header passes the rule.
    pub allow_missing: bool,
}

/// Every check of a probe.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Accepted statuses.
    pub status: StatusSpec,
    /// Accepted versions (`HTTP/1.1`); empty: any.
    pub versions: Vec<String>,
    /// Fail over TLS.
    pub fail_if_ssl: bool,
    /// Fail over plain HTTP.
    pub fail_if_not_ssl: bool,
    /// The body must not match any of these.
    pub body_matches: Vec<Regex>,
    /// The body must match every one of these.
    pub body_not_matches: Vec<Regex>,
    /// Fail when the header matches.
    pub header_matches: Vec<HeaderRule>,
    /// Fail when the header does not match.
    pub header_not_matches: Vec<HeaderRule>,
}

/// A regex, or an error naming where it came from.
pub fn regex(what: &str, re: &str) -> Result<Regex, String> {
    Regex::new(re).map_err(|e| format!("{what} {re:?} is not a regular expression: {e}"))
}

/// Why a response failed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// A regex check (blackbox's `probe_failed_due_to_regex`).
    pub regex: bool,
    /// What failed.
    pub message: String,
}

impl Checks {
    /// Check one final response.
    pub fn check(
        &self,
        status: u16,
        version: &str,
        tls: bool,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), Failed> {
        let fail = |regex, message: String| Err(Failed { regex, message });
        if !self.status.accepts(status) {
            return fail(
                false,
                format!("status {status} is not one of {}", self.status.describe()),
            );
        }
        if !self.versions.is_empty()
            && !self
                .versions
                .iter()
                .any(|v| v.eq_ignore_ascii_case(version))
        {
            return fail(
                false,
                format!("{version} is not one of {}", self.versions.join(", ")),
            );
        }
        if tls && self.fail_if_ssl {
            return fail(
                false,
                "the final response came over TLS (fail_if_ssl)".into(),
            );
        }
        if !tls && self.fail_if_not_ssl {
            return fail(
                false,
                "the final response did not come over TLS (fail_if_not_ssl)".into(),
            );
        }
        let text = String::from_utf8_lossy(body);
        if let Some(re) = self.body_matches.iter().find(|re| re.is_match(&text)) {
            return fail(true, format!("the body matches {:?}", re.as_str()));
        }
        if let Some(re) = self.body_not_matches.iter().find(|re| !re.is_match(&text)) {
            return fail(true, format!("the body does not match {:?}", re.as_str()));
        }
        let values = |name: &str| -> Vec<&str> {
            headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect()
        };
        for rule in &self.header_matches {
            let vs = values(&rule.header);
            if vs.is_empty() && !rule.allow_missing {
                return fail(true, format!("header {} is missing", rule.header));
            }
            if vs.iter().any(|v| rule.regexp.is_match(v)) {
                return fail(
                    true,
                    format!("header {} matches {:?}", rule.header, rule.regexp.as_str()),
                );
            }
        }
        for rule in &self.header_not_matches {
            let vs = values(&rule.header);
            if vs.is_empty() {
                if rule.allow_missing {
                    continue;
                }
                return fail(true, format!("header {} is missing", rule.header));
            }
            if !vs.iter().any(|v| rule.regexp.is_match(v)) {
                return fail(
                    true,
                    format!(
                        "header {} does not match {:?}",
                        rule.header,
                        rule.regexp.as_str()
                    ),
                );
            }
        }
        Ok(())
    }
}

impl Checks {
    /// From the command line's flags (`--expect-status`, `--expect-body`,
    /// `--fail-if-body`, `--expect-header`, `--fail-if-header`).
    pub fn from_flags(
        status: Option<&str>,
        expect_body: &[String],
        fail_if_body: &[String],
        expect_header: &[String],
        fail_if_header: &[String],
    ) -> Result<Checks, String> {
        let rule = |flag: &str, h: &String| -> Result<HeaderRule, String> {
            let (name, re) = h
                .split_once(':')
                .ok_or_else(|| format!("{flag} {h:?}: write 'Name: REGEX'"))?;
            Ok(HeaderRule {
                header: name.trim().to_string(),
                regexp: regex(flag, re.trim())?,
                allow_missing: false,
            })
        };
        Ok(Checks {
            status: StatusSpec::parse(status.unwrap_or(""))
                .map_err(|e| format!("--expect-status: {e}"))?,
            body_not_matches: expect_body
                .iter()
                .map(|r| regex("--expect-body", r))
                .collect::<Result<_, _>>()?,
            body_matches: fail_if_body
                .iter()
                .map(|r| regex("--fail-if-body", r))
                .collect::<Result<_, _>>()?,
            header_not_matches: expect_header
                .iter()
                .map(|h| rule("--expect-header", h))
                .collect::<Result<_, _>>()?,
            header_matches: fail_if_header
                .iter()
                .map(|h| rule("--fail-if-header", h))
                .collect::<Result<_, _>>()?,
            ..Checks::default()
        })
    }
}
