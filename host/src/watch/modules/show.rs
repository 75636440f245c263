//! The config as `/config` shows it: the file re-written from its tree with
//! every secret's value replaced by `<secret>`, as blackbox_exporter masks
//! them.

use super::yaml::{Node, Value};

/// Keys whose values are secrets (prometheus/common's `Secret` fields).
const SECRETS: &[&str] = &["password", "credentials", "bearer_token", "client_secret"];

fn scalar(text: &str, plain: bool, tag: Option<&str>) -> String {
    let safe = !text.is_empty()
        && plain
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:-".contains(c));
    let body = if safe {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    };
    match tag {
        Some(t) => format!("{t} {body}"),
        None => body,
    }
}

fn emit(n: &Node, indent: usize, out: &mut String, secret: bool, mask: bool) {
    let pad = " ".repeat(indent);
    match &n.value {
        Value::Scalar { .. } if secret && !n.is_null() => out.push_str(" <secret>\n"),
        Value::Scalar { text, plain, tag } => {
            if n.is_null() {
                out.push('\n');
            } else {
                out.push(' ');
                out.push_str(&scalar(text, *plain, tag.as_deref()));
                out.push('\n');
            }
        }
        Value::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Value::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Value::Seq(items) => {
            out.push('\n');
            for i in items {
                out.push_str(&format!("{pad}-"));
                emit(i, indent + 2, out, secret, mask);
            }
        }
        Value::Map(entries) => {
            out.push('\n');
            for (k, v) in entries {
                let key = k.key_text();
                out.push_str(&format!("{pad}{}:", scalar(&key, true, None)));
                emit(
                    v,
                    indent + 2,
                    out,
                    mask && SECRETS.contains(&key.as_str()),
                    mask,
                );
            }
        }
    }
}

/// A tree as YAML text, secrets and all (what the TOML converter writes).
pub fn render(root: &Node) -> String {
    write(root, false)
}

fn write(root: &Node, mask: bool) -> String {
    let mut out = String::new();
    emit(root, 0, &mut out, false, mask);
    out.trim_start_matches('\n').to_string()
}

/// `text` (a YAML config) with its secrets masked; a file that is not YAML
/// shows nothing of itself.
pub fn masked(text: &str) -> String {
    match super::yaml::parse(text) {
        Ok(root) => write(&root, true),
        Err(_) => "# (the file is not YAML)\n".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_the_rest_reads_back() {
        let text = "modules:\n  a:\n    prober: http\n    http:\n      basic_auth:\n        username: u\n        password: hunter2\n      bearer_token: t0k3n\n      valid_status_codes: [200, 301]\n      headers:\n        Accept: \"*/*\"\n      send: !!binary aGk=\n";
        let m = masked(text);
        assert!(!m.contains("hunter2") && !m.contains("t0k3n"), "{m}");
        assert!(
            m.contains("password: <secret>") && m.contains("bearer_token: <secret>"),
            "{m}"
        );
        let back = super::super::yaml::parse(&m).unwrap();
        let again = super::super::yaml::parse(&masked(text)).unwrap();
        assert_eq!(back, again);
        assert!(
            m.contains("Accept: \"*/*\"") && m.contains("send: !!binary \"aGk=\""),
            "{m}"
        );
    }
}
