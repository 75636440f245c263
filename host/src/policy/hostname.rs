//! What counts as a host name: the one rule for grants, command-line hosts and
//! the names a guest looks up. Anything that looks like a number is not a name:
//! `127.0.0.010`, `2130706433` or `0x7f.1` would otherwise reach a resolver that
//! reads them as octal, decimal or hex addresses (127.0.0.8, 127.0.0.1, ...).

/// Why a text is not a host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// It looks like an address but is not one in the canonical form.
    NumberLike,
    /// Empty, too long, or with characters or labels a host name cannot have.
    Malformed,
}

impl NameError {
    /// The one line saying what to write instead.
    pub fn message(&self, text: &str) -> String {
        match self {
            NameError::NumberLike => format!(
                "host {text:?} looks like an address but is not one: write IPv4 addresses in \
                 dotted decimal without leading zeros (e.g. 127.0.0.1) and IPv6 in brackets"
            ),
            NameError::Malformed => format!(
                "host {text:?} is not a host name (letters, digits and '-', labels of 1-63 \
                 characters, at most 253 in all)"
            ),
        }
    }
}

/// `text` without one pair of enclosing brackets (`[::1]` → `::1`), else as is.
pub fn unbracket(text: &str) -> &str {
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text)
}

/// `text` as an IP literal: an address, IPv6 optionally in one pair of brackets.
pub fn ip_literal(text: &str) -> Option<std::net::IpAddr> {
    unbracket(text).parse().ok()
}

/// `text` as a host name: lower-case, one trailing dot dropped. Refuses anything
/// that looks like a number in any base, and anything that is not LDH labels.
pub fn host_name(text: &str) -> Result<String, NameError> {
    let name = text.strip_suffix('.').unwrap_or(text);
    let labels: Vec<&str> = name.split('.').collect();
    let ldh = !name.is_empty()
        && name.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if looks_numeric(name, &labels) {
        return Err(NameError::NumberLike);
    }
    if !ldh {
        return Err(NameError::Malformed);
    }
    Ok(name.to_ascii_lowercase())
}

/// Digits-and-dots, a hex label (`0x…`), or an all-digit last label (no
/// top-level domain is numeric): what `inet_aton` would take as an address.
fn looks_numeric(name: &str, labels: &[&str]) -> bool {
    let digits = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit());
    let hex = |l: &str| {
        (l.starts_with("0x") || l.starts_with("0X"))
            && l[2..].bytes().all(|b| b.is_ascii_hexdigit())
    };
    !name.is_empty()
        && (labels.iter().all(|l| digits(l) || hex(l)) || labels.last().is_some_and(|l| digits(l)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names() {
        assert_eq!(host_name("Pool.NTP.org."), Ok("pool.ntp.org".into()));
        assert_eq!(host_name("localhost"), Ok("localhost".into()));
        assert_eq!(host_name("ip6-localhost"), Ok("ip6-localhost".into()));
        assert_eq!(host_name("1e100.net"), Ok("1e100.net".into()));
    }

    #[test]
    fn refuses_number_lookalikes() {
        for t in [
            "127.0.0.010",
            "2130706433",
            "0x7f.1",
            "0x7f000001",
            "127.1",
            "8.8.8.8.",
            "010.0.0.1",
            "1.2.3.4.5",
        ] {
            assert_eq!(host_name(t), Err(NameError::NumberLike), "{t}");
        }
        assert!(
            NameError::NumberLike
                .message("127.0.0.010")
                .contains("dotted decimal")
        );
    }

    #[test]
    fn refuses_malformed_names() {
        for t in [
            "",
            ".",
            "a..b",
            "8.8.8.8....",
            "[[[10.0.0.1]",
            "exa mple",
            "-a.b",
            "a-.b",
            "x\\n",
            &"a".repeat(64),
            &format!("{}.com", "a.".repeat(130)),
        ] {
            assert!(host_name(t).is_err(), "{t:?}");
        }
    }
}
