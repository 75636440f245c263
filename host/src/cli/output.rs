//! What a command produced, in one shape that prints either as text for people or
//! as one JSON object: `{"ok", KEY: result | "error": {kind, message}, "grants", "audit"}`.

use serde_json::{Value, json};
use std::process::ExitCode;

/// The result of one command, before printing.
pub struct Outcome {
    /// Whether it succeeded.
    pub ok: bool,
    /// The process exit code.
    pub code: u8,
    /// The JSON key of the result: `report`, `summary`, `exit`, `files`.
    pub key: &'static str,
    /// The result (or, on failure, `{kind, message}` under `error`).
    pub value: Value,
    /// Text for stdout (the result people asked for).
    pub stdout: Option<String>,
    /// One line for stderr, after `netkit: LABEL: ` (a summary or the error).
    pub stderr: Option<String>,
}

impl Outcome {
    /// A result under `key`, with `text` printed on stdout.
    pub fn success(key: &'static str, value: Value, text: Option<String>) -> Self {
        Self {
            ok: true,
            code: 0,
            key,
            value,
            stdout: text,
            stderr: None,
        }
    }

    /// A result under `key` that may report a failure (a probe with lost
    /// attempts, a DNS answer with an error rcode): exit 0 only when `ok`.
    pub fn verdict(ok: bool, key: &'static str, value: Value, text: Option<String>) -> Self {
        Self {
            ok,
            code: if ok { 0 } else { 1 },
            ..Self::success(key, value, text)
        }
    }

    /// How a run ended: `{kind, code, message}` under `exit`, and `code` as the
    /// process exit code (ok only for 0).
    pub fn exit(kind: &str, code: u8, message: String) -> Self {
        Self {
            ok: code == 0,
            code,
            key: "exit",
            value: json!({ "kind": kind, "code": code, "message": message }),
            stdout: None,
            stderr: None,
        }
    }

    /// A failure of `kind` (its WIT name) with a one-line message; exit 1.
    pub fn failure(kind: &str, message: String) -> Self {
        Self {
            ok: false,
            code: 1,
            key: "error",
            value: json!({ "kind": kind, "message": message }),
            stdout: None,
            stderr: Some(message),
        }
    }

    /// The same outcome with `line` for stderr.
    pub fn note(mut self, line: String) -> Self {
        self.stderr = Some(line);
        self
    }

    /// The exit code as the process returns it.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }

    /// The JSON object, with the grants and the audit added.
    pub fn json(&self, grants: Vec<String>, audit: Value) -> Value {
        let mut body = json!({ "ok": self.ok });
        body[self.key] = self.value.clone();
        body["grants"] = json!(grants);
        body["audit"] = audit;
        body
    }
}
