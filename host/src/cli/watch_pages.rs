//! `netkit watch`'s pages for people, as blackbox_exporter's: `/` (the
//! modules, which are open to any target, and the recent probes with links
//! to their logs), `/logs?id=` / `/logs?target=`, and `/config` (the loaded
//! config, secrets masked).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use netkit::watch::history::History;
use std::collections::HashMap;

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// `/`: the modules and the recent probes.
pub fn index(history: &History, modules: &[(String, bool)], prefix: &str) -> Response {
    let mut rows = String::new();
    for e in history.recent() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td><a href=\"{prefix}/logs?id={}\">Logs</a></td></tr>\n",
            escape(&e.module),
            escape(&e.target),
            if e.success { "ok" } else { "fail" },
            if e.success { "Success" } else { "Failure" },
            e.id
        ));
    }
    let mut mods = String::new();
    for (m, open) in modules {
        mods.push_str(&format!(
            "<li><code>{}</code>: {}</li>\n",
            escape(m),
            if *open {
                "open to any target (no allow_targets; link-local addresses and netkit's own address refused)"
            } else {
                "closed to what its allow_targets list"
            }
        ));
    }
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>netkit watch</title></head><body>\n<h1>netkit watch</h1>\n<p>A sandboxed blackbox_exporter: every probe runs in a sandbox granted only its target.</p>\n<p><a href=\"{prefix}/probe?module=MODULE&amp;target=TARGET\">Probe</a> (debug: add <code>&amp;debug=true</code>) · <a href=\"{prefix}/metrics\">Metrics</a> · <a href=\"{prefix}/config\">Configuration</a></p>\n<h2>Modules</h2>\n<ul id=\"modules\">\n{mods}</ul>\n<h2>Recent Probes</h2>\n<table id=\"recent\" border=\"1\"><tr><th>Module</th><th>Target</th><th>Result</th><th>Debug</th></tr>\n{rows}</table>\n</body></html>\n"
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// `/logs?id=N` or `/logs?target=T[&module=M]`: a recent probe's log.
pub fn logs(history: &History, q: &HashMap<String, String>) -> Response {
    let found = if let Some(id) = q.get("id") {
        match id.parse::<u64>() {
            Ok(id) => history.by_id(id),
            Err(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("id {id:?} is not a number: /logs?id=N\n"),
                );
            }
        }
    } else if let Some(t) = q.get("target") {
        history.by_target(t, q.get("module").map(String::as_str))
    } else {
        return text(
            StatusCode::BAD_REQUEST,
            "give id= or target= (and optionally module=): /logs?id=N\n".into(),
        );
    };
    match found {
        Some(e) => text(StatusCode::OK, e.log),
        None => text(
            StatusCode::NOT_FOUND,
            "Probe not found: the history keeps the last --history.limit probes\n".into(),
        ),
    }
}

/// `/config`: the loaded config, secrets masked.
pub fn config(text_loaded: &str, yaml: bool) -> Response {
    let body = if yaml {
        netkit::watch::modules::show::masked(text_loaded)
    } else {
        mask_toml(text_loaded)
    };
    text(StatusCode::OK, body)
}

/// A TOML config with the values of its secret keys masked.
fn mask_toml(text: &str) -> String {
    text.lines()
        .map(|l| {
            let key = l.split('=').next().unwrap_or("").trim();
            let inline = ["password", "credentials", "bearer_token"]
                .iter()
                .any(|k| l.contains(&format!("{k} =")) || l.contains(&format!("{k}=")));
            if ["password", "credentials", "bearer_token"].contains(&key) || inline {
                // The whole line: an inline table may hold the secret anywhere.
                format!("{} = \"<secret>\"", key)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_masks() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
        let m = mask_toml(
            "name = \"x\"\nbasic_auth = { username = \"u\", password = \"p\" }\npassword = \"q\"\n",
        );
        assert!(!m.contains("\"p\"") && !m.contains("\"q\""), "{m}");
    }
}
