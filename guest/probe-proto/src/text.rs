//! The lines a probe prints, the same from the component's own command line and
//! from netkit.

use crate::Summary;

/// Bytes as one line of text: printable ASCII as is, the rest escaped
/// (`\r`, `\n`, `\t`, `\xNN`), cut at `max` bytes with `...`.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(max) {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > max {
        out.push_str("...");
    }
    out
}

/// Text a peer sent (a certificate's names, a component's description), safe
/// for a terminal, JSON and a log line alike: control characters (newlines,
/// escape sequences), zero-width and bidirectional marks escaped as `\n`,
/// `\u{1b}`, …; everything else as is. The one escaping of peer text netkit
/// uses (issue 31: a CN with `\nVerification: OK` forged a line).
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// One attempt: `seq=1 127.0.0.1:22 connected in 0.123 ms` / `... refused: ...`.
///
/// `status` is the attempt's status name (`ok`, `refused`, ...), `what` says what
/// an ok attempt did (`connected`, `replied`), `detail` the reason otherwise.
pub fn attempt_line(
    seq: u32,
    target: &str,
    status: &str,
    what: &str,
    rtt_ns: Option<u64>,
    detail: &str,
) -> String {
    match (status, rtt_ns) {
        ("ok", Some(t)) if detail.is_empty() => format!("seq={seq} {target} {what} in {}", ms(t)),
        ("ok", Some(t)) => format!("seq={seq} {target} {what} in {}: {detail}", ms(t)),
        (_, Some(t)) => format!("seq={seq} {target} {status} after {}: {detail}", ms(t)),
        (_, None) => format!("seq={seq} {target} {status}: {detail}"),
    }
}

/// The closing lines: counts and loss, then min/avg/max/mdev when anything succeeded.
pub fn summary_line(target: &str, s: &Summary) -> String {
    let mut line = format!(
        "--- {target} probe statistics ---\n{} sent, {} ok, {:.1}% loss",
        s.sent,
        s.ok,
        s.loss_percent()
    );
    if let Some([min, avg, max, mdev]) = s.rtt_ns {
        line.push_str(&format!(
            "\nrtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms",
            min as f64 / 1e6,
            avg as f64 / 1e6,
            max as f64 / 1e6,
            mdev as f64 / 1e6
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_tcping() {
        assert_eq!(
            attempt_line(1, "127.0.0.1:22", "ok", "connected", Some(123_456), ""),
            "seq=1 127.0.0.1:22 connected in 0.123 ms"
        );
        assert_eq!(
            attempt_line(
                2,
                "127.0.0.1:9",
                "refused",
                "connected",
                None,
                "connection refused"
            ),
            "seq=2 127.0.0.1:9 refused: connection refused"
        );
        let s = Summary::of([(true, Some(1_000_000)), (false, None)]);
        assert_eq!(
            summary_line("h:1", &s),
            "--- h:1 probe statistics ---\n2 sent, 1 ok, 50.0% loss\nrtt min/avg/max/mdev = 1.000/1.000/1.000/0.000 ms"
        );
    }

    #[test]
    fn replies_are_escaped() {
        assert_eq!(printable(b"OK\r\n\x1b[31m", 100), "OK\\r\\n\\x1b[31m");
        assert_eq!(printable(b"abcdef", 3), "abc...");
    }
}
