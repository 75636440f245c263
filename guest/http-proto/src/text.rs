//! The HTTP report: the summary line, `-v`'s headers, the JSON, the same from
//! the component under `wasmtime run` and from netkit.

use serde::Serialize;
use serde_json::{Value, json};

/// blackbox_exporter's five phases, summed over redirects (nanoseconds).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Timings {
    /// Name lookup (0 when netkit resolved it before the run, or for an IP).
    pub resolve_ns: u64,
    /// TCP connect.
    pub connect_ns: u64,
    /// TLS handshake.
    pub tls_ns: u64,
    /// Request sent to the first byte of the response.
    pub processing_ns: u64,
    /// First byte to the end of the body.
    pub transfer_ns: u64,
}

/// One probe's result: the final response, and how it got there.
#[derive(Debug, Clone, Serialize)]
pub struct HttpReport {
    /// The final URL.
    pub url: String,
    /// `IP:PORT` of the final connection.
    pub target: String,
    /// Status code and reason.
    pub status: u16,
    pub reason: String,
    /// `HTTP/1.1`.
    pub version: String,
    /// Response headers, in order.
    pub headers: Vec<(String, String)>,
    /// The Content-Length header, when sent.
    pub content_length: Option<u64>,
    /// Body bytes as sent (de-chunked, still encoded).
    pub body_size: u64,
    /// Body bytes after Content-Encoding decoding.
    pub uncompressed_size: u64,
    /// The Content-Encoding.
    pub content_encoding: Option<String>,
    /// The URLs redirected through, in order (not counting the first).
    pub redirects: Vec<String>,
    /// The phases.
    pub timings: Timings,
    /// Whether the final response came over TLS.
    pub tls: bool,
    /// The final connection's TLS facts.
    pub handshake: Option<tls_proto::Handshake>,
    /// Last-Modified as Unix seconds.
    pub last_modified: Option<i64>,
    /// Wall clock at the probe (Unix seconds).
    pub now: i64,
    /// The decoded body (not in the JSON; `--output` writes it).
    #[serde(skip)]
    pub body: Vec<u8>,
}

impl HttpReport {
    /// The total of the phases.
    pub fn total_ns(&self) -> u64 {
        let t = &self.timings;
        t.resolve_ns + t.connect_ns + t.tls_ns + t.processing_ns + t.transfer_ns
    }
}

fn ms(ns: u64) -> String {
    format!("{:.2}", ns as f64 / 1e6)
}

/// One line: status, size, phases.
pub fn summary_line(r: &HttpReport) -> String {
    let t = &r.timings;
    let redirects = match r.redirects.len() {
        0 => String::new(),
        n => format!(", {n} redirect{}", if n == 1 { "" } else { "s" }),
    };
    let enc = r
        .content_encoding
        .as_deref()
        .map(|e| format!(" ({e} {} bytes)", r.body_size))
        .unwrap_or_default();
    format!(
        "{} {} {} {}: {} bytes{enc}{redirects} in {} ms (resolve {}, connect {}, tls {}, processing {}, transfer {})",
        r.url,
        r.version,
        r.status,
        r.reason,
        r.uncompressed_size,
        ms(r.total_ns()),
        ms(t.resolve_ns),
        ms(t.connect_ns),
        ms(t.tls_ns),
        ms(t.processing_ns),
        ms(t.transfer_ns)
    )
}

/// `-v`: the status line and headers as received, `< `-prefixed like curl.
pub fn headers_text(r: &HttpReport) -> String {
    let mut out = format!("< {} {} {}\n", r.version, r.status, r.reason);
    for (k, v) in &r.headers {
        out.push_str(&format!("< {k}: {v}\n"));
    }
    out
}

/// The report as JSON.
pub fn report_json(r: &HttpReport) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["headers"] = Value::Array(
        r.headers
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect(),
    );
    v["total_ns"] = json!(r.total_ns());
    v
}

/// An HTTP-date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
pub fn http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, d, mon, y, hms, "GMT"] = parts.as_slice() else {
        return None;
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months.iter().position(|x| x == mon)? as i64 + 1;
    let (d, y): (i64, i64) = (d.parse().ok()?, y.parse().ok()?);
    let hms: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [hh, mm, ss] = hms.as_slice() else {
        return None;
    };
    // days_from_civil (Howard Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// `http_proto::text::HttpReport` from a WIT `http-response` of any bindings;
/// `$E` is those bindings' `verify-error`.
#[macro_export]
macro_rules! report_from_wit {
    ($E:ident, $r:expr) => {{
        let r = $r;
        $crate::text::HttpReport {
            url: r.url.clone(),
            target: r.target.clone(),
            status: r.status,
            reason: r.reason.clone(),
            version: r.version.clone(),
            headers: r
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
            content_length: r.content_length,
            body_size: r.body_size,
            uncompressed_size: r.uncompressed_size,
            content_encoding: r.content_encoding.clone(),
            redirects: r.redirects.clone(),
            timings: $crate::text::Timings {
                resolve_ns: r.timings.resolve_ns,
                connect_ns: r.timings.connect_ns,
                tls_ns: r.timings.tls_ns,
                processing_ns: r.timings.processing_ns,
                transfer_ns: r.timings.transfer_ns,
            },
            tls: r.tls,
            handshake: r
                .handshake
                .as_ref()
                .map(|h| tls_proto::handshake_from_wit!($E, h)),
            last_modified: r.last_modified,
            now: r.now,
            body: r.body.clone(),
        }
    }};
}

/// The kind (WIT case name) and message of an `http-error` of any bindings.
#[macro_export]
macro_rules! http_error {
    ($E:ident, $e:expr) => {
        match $e {
            $E::InvalidRequest(m) => ("invalid-request", m.clone()),
            $E::NameNotFound(m) => ("name-not-found", m.clone()),
            $E::Connect(m) => ("connect", m.clone()),
            $E::Timeout(m) => ("timeout", m.clone()),
            $E::Tls((m, _)) => ("tls", m.clone()),
            $E::Protocol(m) => ("protocol", m.clone()),
            $E::RedirectNotGranted(u) => (
                "redirect-not-granted",
                format!("redirect to {u} not granted (allow it with --allow-redirect URL)"),
            ),
            $E::TooManyRedirects(m) => ("too-many-redirects", m.clone()),
        }
    };
}
