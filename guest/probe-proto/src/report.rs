//! A run's report as plain values: its JSON (the same from the components and
//! from netkit) and its target syntax.

use crate::{Summary, printable};
use serde_json::{Value, json};

/// One attempt's values, whatever bindings they came from.
#[derive(Debug, Clone)]
pub struct AttemptView<'a> {
    /// 1, 2, ...
    pub seq: u32,
    /// The WIT name of its status: ok, refused, timeout, reset, unreachable,
    /// denied, mismatch, error.
    pub status: &'a str,
    /// Connect time or round trip (ns).
    pub rtt_ns: Option<u64>,
    /// Time to the expected reply (ns).
    pub reply_ns: Option<u64>,
    /// What was read back.
    pub received: &'a [u8],
    /// One line on what happened.
    pub detail: &'a str,
}

/// An attempt's line, with what came back when anything did.
pub fn attempt_text(target: &str, what: &str, a: &AttemptView<'_>) -> String {
    let mut l = crate::attempt_line(a.seq, target, a.status, what, a.rtt_ns, a.detail);
    if !a.received.is_empty() && a.status == "ok" {
        l.push_str(&format!(
            " ({} bytes: {})",
            a.received.len(),
            printable(a.received, 80)
        ));
    }
    l
}

/// The statistics of `attempts`.
pub fn summary_of(attempts: &[AttemptView<'_>]) -> Summary {
    Summary::of(attempts.iter().map(|a| (a.status == "ok", a.rtt_ns)))
}

/// `{"target":…,"attempts":[…],"summary":{…}}`.
pub fn report_json(target: &str, attempts: &[AttemptView<'_>]) -> Value {
    let s = summary_of(attempts);
    let rtt = |i: usize| s.rtt_ns.map(|r| r[i]);
    json!({
        "target": target,
        "attempts": attempts.iter().map(|a| json!({
            "seq": a.seq,
            "status": a.status,
            "rtt_ns": a.rtt_ns,
            "reply_ns": a.reply_ns,
            "received": printable(a.received, crate::MAX_REPLY),
            "received_bytes": a.received.len(),
            "detail": a.detail,
        })).collect::<Vec<_>>(),
        "summary": {
            "sent": s.sent,
            "ok": s.ok,
            "loss_percent": s.loss_percent(),
            "rtt_min_ns": rtt(0),
            "rtt_avg_ns": rtt(1),
            "rtt_max_ns": rtt(2),
            "rtt_mdev_ns": rtt(3),
        },
    })
}

/// `HOST:PORT`, `IP:PORT` or `[IPv6]:PORT` split into host and port; the port is required.
pub fn split_target(text: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, p) = rest
            .split_once("]:")
            .ok_or_else(|| format!("{text:?}: write an IPv6 target as [ADDRESS]:PORT"))?;
        (h.to_string(), p)
    } else {
        let (h, p) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("{text:?} has no port: write HOST:PORT, e.g. 127.0.0.1:22"))?;
        if h.contains(':') {
            return Err(format!("{text:?}: write an IPv6 target as [ADDRESS]:PORT"));
        }
        (h.to_string(), p)
    };
    if host.is_empty() {
        return Err(format!("{text:?} has no host: write HOST:PORT"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("{port:?} is not a port (1-65535)"))?;
    Ok((host, port))
}

/// The message of a `probe-error` from any bindings of it.
#[macro_export]
macro_rules! probe_error_text {
    ($E:ident, $e:expr) => {
        match $e {
            $E::InvalidRequest(m) | $E::NameNotFound(m) => m.clone(),
        }
    };
}

/// The WIT name of a `probe-error` case from any bindings of it.
#[macro_export]
macro_rules! probe_error_kind {
    ($E:ident, $e:expr) => {
        match $e {
            $E::InvalidRequest(_) => "invalid-request",
            $E::NameNotFound(_) => "name-not-found",
        }
    };
}

/// The WIT name of an `attempt-status` case from any bindings of it.
#[macro_export]
macro_rules! status_name {
    ($S:ident, $s:expr) => {
        match $s {
            $S::Ok => "ok",
            $S::Refused => "refused",
            $S::Timeout => "timeout",
            $S::Reset => "reset",
            $S::Unreachable => "unreachable",
            $S::Denied => "denied",
            $S::Mismatch => "mismatch",
            $S::Error => "error",
        }
    };
}

/// An [`AttemptView`] of any bindings' `attempt` record.
#[macro_export]
macro_rules! attempt_view {
    ($S:ident, $a:expr) => {{
        let a = $a;
        $crate::AttemptView {
            seq: a.seq,
            status: $crate::status_name!($S, a.status),
            rtt_ns: a.rtt_ns,
            reply_ns: a.reply_ns,
            received: &a.received,
            detail: &a.detail,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            split_target("127.0.0.1:22").unwrap(),
            ("127.0.0.1".into(), 22)
        );
        assert_eq!(split_target("[::1]:53").unwrap(), ("::1".into(), 53));
        assert_eq!(
            split_target("localhost:80").unwrap(),
            ("localhost".into(), 80)
        );
        assert!(split_target("127.0.0.1").unwrap_err().contains("no port"));
        assert!(
            split_target("::1:53")
                .unwrap_err()
                .contains("[ADDRESS]:PORT")
        );
        assert!(split_target("h:0").unwrap_err().contains("not a port"));
        assert!(split_target(":22").unwrap_err().contains("no host"));
    }

    #[test]
    fn json_carries_attempts_and_summary() {
        let a = [
            AttemptView {
                seq: 1,
                status: "ok",
                rtt_ns: Some(2000),
                reply_ns: None,
                received: b"hi\n",
                detail: "",
            },
            AttemptView {
                seq: 2,
                status: "refused",
                rtt_ns: None,
                reply_ns: None,
                received: b"",
                detail: "connection refused",
            },
        ];
        let j = report_json("127.0.0.1:1", &a);
        assert_eq!(j["attempts"][0]["received"], "hi\\n");
        assert_eq!(j["attempts"][1]["status"], "refused");
        assert_eq!(j["summary"]["ok"], 1);
        assert_eq!(j["summary"]["loss_percent"], 50.0);
        assert_eq!(j["summary"]["rtt_min_ns"], 2000);
    }
}
