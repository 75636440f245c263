//! The request as bytes on the wire.

use url::Url;

/// What to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Where.
    pub url: Url,
    /// Extra headers (an `Authorization` among them is never echoed anywhere).
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// Offer gzip, deflate and br.
    pub compression: bool,
}

/// A method token: letters only, as RFC 9110 methods are in practice.
pub fn check_method(m: &str) -> Result<(), String> {
    if !m.is_empty() && m.len() <= 32 && m.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(format!(
            "{m:?} is not an HTTP method (letters only, e.g. GET, POST, HEAD)"
        ))
    }
}

/// A header name and value safe to put on the wire (no CR/LF injection).
pub fn check_header(name: &str, value: &str) -> Result<(), String> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(format!("{name:?} is not a header name"));
    }
    if ["content-length", "transfer-encoding"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        // A length that disagrees with the body leaves the server waiting.
        return Err(format!(
            "{name} is not a header to set: netkit frames the body itself (give the body with --data or --data-file, body in watch)"
        ));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(format!(
            "the value of header {name:?} contains CR, LF or NUL"
        ));
    }
    Ok(())
}

/// The `Host` header's value: the host, and the port when it is not the scheme's.
pub fn host_header(url: &Url) -> String {
    let host = match url.host() {
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

impl Request {
    /// The bytes to send.
    pub fn encode(&self) -> Vec<u8> {
        let mut target = self.url.path().to_string();
        if let Some(q) = self.url.query() {
            target.push('?');
            target.push_str(q);
        }
        let mut head = format!("{} {target} HTTP/1.1\r\n", self.method);
        let has = |n: &str| self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        if !has("host") {
            head.push_str(&format!("Host: {}\r\n", host_header(&self.url)));
        }
        if !has("user-agent") {
            head.push_str(concat!(
                "User-Agent: netkit/",
                env!("CARGO_PKG_VERSION"),
                "\r\n"
            ));
        }
        if !has("accept") {
            head.push_str("Accept: */*\r\n");
        }
        if self.compression && !has("accept-encoding") {
            head.push_str("Accept-Encoding: gzip, deflate, br\r\n");
        }
        head.push_str("Connection: close\r\n");
        for (k, v) in &self.headers {
            // Framing is netkit's (check_header refuses these from users).
            if k.eq_ignore_ascii_case("content-length")
                || k.eq_ignore_ascii_case("transfer-encoding")
            {
                continue;
            }
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = &self.body {
            head.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        if let Some(b) = &self.body {
            out.extend_from_slice(b);
        }
        out
    }

    /// The request line and headers for `-v`, credentials redacted.
    pub fn shown(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.encode()).into_owned();
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        head.split("\r\n")
            .map(|l| match l.split_once(':') {
                Some((k, _)) if crate::redirect::is_credential(k) => {
                    format!("{k}: (redacted)")
                }
                _ => l.to_string(),
            })
            .collect()
    }
}
