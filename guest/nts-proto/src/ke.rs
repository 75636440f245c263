//! NTS Key Establishment (RFC 8915 §4): the records a client sends, the
//! server's response read record by record as TLS delivers it, and the TLS
//! exporter's label and context for the two keys.
//!
//! A record is a 16-bit type whose top bit is the critical bit, a 16-bit body
//! length and the body. The exchange runs over TLS 1.3 (nothing older) with
//! ALPN `ntske/1`, on TCP port 4460 unless told otherwise.

use crate::AEAD_AES_SIV_CMAC_256;
use std::fmt;

/// The NTS-KE TCP port (RFC 8915 §6).
pub const DEFAULT_PORT: u16 = 4460;
/// The ALPN protocol id (§4).
pub const ALPN: &str = "ntske/1";
/// The TLS exporter label (§5.1).
pub const EXPORTER_LABEL: &[u8] = b"EXPORTER-network-time-security";
/// Next Protocol id of NTPv4 (§7.7).
pub const NTPV4: u16 = 0;
/// The NTP port when the server negotiates none.
pub const NTP_PORT: u16 = 123;

/// End of Message.
pub const END_OF_MESSAGE: u16 = 0;
/// NTS Next Protocol Negotiation.
pub const NEXT_PROTOCOL: u16 = 1;
/// Error.
pub const ERROR: u16 = 2;
/// Warning.
pub const WARNING: u16 = 3;
/// AEAD Algorithm Negotiation.
pub const AEAD_ALGORITHM: u16 = 4;
/// New Cookie for NTPv4.
pub const NEW_COOKIE: u16 = 5;
/// NTPv4 Server Negotiation.
pub const NTP_SERVER: u16 = 6;
/// NTPv4 Port Negotiation.
pub const NTP_PORT_RECORD: u16 = 7;

const CRITICAL: u16 = 0x8000;

/// The largest response netkit reads (a server sends ~1 KiB: eight cookies).
pub const MAX_RESPONSE: usize = 64 * 1024;
/// Cookies kept from one response (RFC 8915 §4.1.6 suggests eight).
pub const MAX_COOKIES: usize = 8;
/// The largest cookie netkit keeps (servers' are ~100 bytes; a request
/// carries up to eight of its size).
pub const MAX_COOKIE_LEN: usize = 1024;

/// The client's request: NTPv4 as next protocol, AEAD_AES_SIV_CMAC_256, End of Message.
pub fn request() -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    push(&mut out, true, NEXT_PROTOCOL, &NTPV4.to_be_bytes());
    push(
        &mut out,
        true,
        AEAD_ALGORITHM,
        &AEAD_AES_SIV_CMAC_256.to_be_bytes(),
    );
    push(&mut out, true, END_OF_MESSAGE, &[]);
    out
}

/// Append one record.
pub fn push(out: &mut Vec<u8>, critical: bool, kind: u16, body: &[u8]) {
    let kind = if critical { kind | CRITICAL } else { kind };
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// The TLS exporter context for one direction (§5.1): the protocol id, the
/// AEAD id, then 0x00 for client-to-server or 0x01 for server-to-client.
pub fn exporter_context(aead: u16, server_to_client: bool) -> [u8; 5] {
    let p = NTPV4.to_be_bytes();
    let a = aead.to_be_bytes();
    [p[0], p[1], a[0], a[1], u8::from(server_to_client)]
}

/// What a successful key exchange negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The AEAD algorithm id.
    pub aead: u16,
    /// The cookies, in the order sent (at most [`MAX_COOKIES`]).
    pub cookies: Vec<Vec<u8>>,
    /// The NTP server named by the response (an IP address or a name), if any.
    pub server: Option<String>,
    /// The NTP port named by the response, if any.
    pub port: Option<u16>,
}

/// Why a key exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeError {
    /// The server sent an Error record.
    Server(u16),
    /// The server sent a Warning record (none is defined, so none is understood: §4.1.4).
    Warning(u16),
    /// The response breaks the protocol; the text says how.
    Protocol(String),
    /// The connection ended before End of Message.
    Truncated,
    /// More than [`MAX_RESPONSE`] bytes without End of Message.
    TooLong,
}

impl KeError {
    /// The name of an Error record's code (§4.1.3).
    pub fn code_name(code: u16) -> &'static str {
        match code {
            0 => "Unrecognized Critical Record",
            1 => "Bad Request",
            2 => "Internal Server Error",
            _ => "unknown error code",
        }
    }
}

impl fmt::Display for KeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeError::Server(code) => write!(
                f,
                "the NTS-KE server answered with error {code} ({})",
                Self::code_name(*code)
            ),
            KeError::Warning(code) => write!(
                f,
                "the NTS-KE server sent warning {code}, which netkit does not understand (RFC 8915 4.1.4: stop)"
            ),
            KeError::Protocol(why) => write!(f, "bad NTS-KE response: {why}"),
            KeError::Truncated => {
                f.write_str("the NTS-KE server closed the connection before End of Message")
            }
            KeError::TooLong => write!(
                f,
                "the NTS-KE response went past {} KiB without End of Message",
                MAX_RESPONSE / 1024
            ),
        }
    }
}

/// Reads the server's response as bytes arrive.
#[derive(Debug, Default)]
pub struct Response {
    buf: Vec<u8>,
    read: usize,
    protocols: Option<Vec<u16>>,
    aead: Option<u16>,
    cookies: Vec<Vec<u8>>,
    server: Option<String>,
    port: Option<u16>,
    done: Option<Result<Negotiated, KeError>>,
}

impl Response {
    /// A response with nothing read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes as they arrive; `Some` once the response is complete or broken.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<Result<Negotiated, KeError>> {
        if self.done.is_none() {
            self.buf.extend_from_slice(bytes);
            self.done = self.records();
        }
        self.done.clone()
    }

    /// The connection closed: the outcome, [`KeError::Truncated`] if no End of Message came.
    pub fn closed(&mut self) -> Result<Negotiated, KeError> {
        self.done.clone().unwrap_or(Err(KeError::Truncated))
    }

    fn records(&mut self) -> Option<Result<Negotiated, KeError>> {
        loop {
            let rest = &self.buf[self.read..];
            if rest.len() < 4 {
                return (self.buf.len() > MAX_RESPONSE).then_some(Err(KeError::TooLong));
            }
            let head = u16::from_be_bytes([rest[0], rest[1]]);
            let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            if rest.len() < 4 + len {
                return (self.buf.len() > MAX_RESPONSE).then_some(Err(KeError::TooLong));
            }
            let body = rest[4..4 + len].to_vec();
            self.read += 4 + len;
            if self.read > MAX_RESPONSE {
                return Some(Err(KeError::TooLong));
            }
            let critical = head & CRITICAL != 0;
            match self.record(head & !CRITICAL, critical, &body) {
                Ok(false) => {}
                Ok(true) => return Some(self.finish()),
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// One record; `Ok(true)` at End of Message.
    fn record(&mut self, kind: u16, critical: bool, body: &[u8]) -> Result<bool, KeError> {
        let bad = |s: String| Err(KeError::Protocol(s));
        match kind {
            END_OF_MESSAGE => {
                if !body.is_empty() {
                    return bad(format!(
                        "End of Message has a {}-byte body (it must be empty)",
                        body.len()
                    ));
                }
                return Ok(true);
            }
            NEXT_PROTOCOL => {
                if self.protocols.is_some() {
                    return bad("Next Protocol Negotiation sent twice".into());
                }
                self.protocols = Some(u16s(body, "Next Protocol Negotiation")?);
            }
            ERROR => return Err(KeError::Server(u16_body(body, "Error")?)),
            WARNING => return Err(KeError::Warning(u16_body(body, "Warning")?)),
            AEAD_ALGORITHM => {
                if self.aead.is_some() {
                    return bad("AEAD Algorithm Negotiation sent twice".into());
                }
                let ids = u16s(body, "AEAD Algorithm Negotiation")?;
                match ids[..] {
                    [id] => self.aead = Some(id),
                    [] => {
                        return bad(
                            "the server supports none of the AEAD algorithms offered (AEAD_AES_SIV_CMAC_256)"
                                .into(),
                        );
                    }
                    _ => {
                        return bad(format!(
                            "the server chose {} AEAD algorithms, not one",
                            ids.len()
                        ));
                    }
                }
            }
            NEW_COOKIE => {
                if body.is_empty() {
                    return bad("an empty cookie".into());
                }
                if body.len() > MAX_COOKIE_LEN {
                    return bad(format!(
                        "a {}-byte cookie (netkit keeps cookies of at most {MAX_COOKIE_LEN} bytes)",
                        body.len()
                    ));
                }
                if self.cookies.len() < MAX_COOKIES {
                    self.cookies.push(body.to_vec());
                }
            }
            NTP_SERVER => {
                if self.server.is_some() {
                    return bad("NTPv4 Server Negotiation sent twice".into());
                }
                self.server = Some(server_name(body)?);
            }
            NTP_PORT_RECORD => {
                if self.port.is_some() {
                    return bad("NTPv4 Port Negotiation sent twice".into());
                }
                let port = u16_body(body, "NTPv4 Port Negotiation")?;
                if port == 0 {
                    return bad("NTPv4 Port Negotiation names port 0".into());
                }
                self.port = Some(port);
            }
            other if critical => {
                return bad(format!(
                    "record type {other} is marked critical and netkit does not know it"
                ));
            }
            _ => {} // §4: a client ignores a non-critical record it does not know.
        }
        Ok(false)
    }

    fn finish(&mut self) -> Result<Negotiated, KeError> {
        let bad = |s: &str| Err(KeError::Protocol(s.to_string()));
        match self.protocols.as_deref() {
            None => return bad("no Next Protocol Negotiation record"),
            Some([]) => return bad("the server supports none of the protocols offered (NTPv4)"),
            Some([NTPV4]) => {}
            Some([p]) => {
                return Err(KeError::Protocol(format!(
                    "the server chose protocol {p}, which was not offered (NTPv4 = 0)"
                )));
            }
            Some(ps) => {
                return Err(KeError::Protocol(format!(
                    "the server chose {} protocols, not one",
                    ps.len()
                )));
            }
        }
        let aead = match self.aead {
            None => return bad("no AEAD Algorithm Negotiation record"),
            Some(AEAD_AES_SIV_CMAC_256) => AEAD_AES_SIV_CMAC_256,
            Some(id) => {
                return Err(KeError::Protocol(format!(
                    "the server chose {} ({id}), which was not offered (AEAD_AES_SIV_CMAC_256 = 15)",
                    crate::aead_name(id)
                )));
            }
        };
        if self.cookies.is_empty() {
            return bad("no cookies (New Cookie for NTPv4 records)");
        }
        Ok(Negotiated {
            aead,
            cookies: std::mem::take(&mut self.cookies),
            server: self.server.take(),
            port: self.port,
        })
    }
}

fn u16s(body: &[u8], what: &str) -> Result<Vec<u16>, KeError> {
    if !body.len().is_multiple_of(2) {
        return Err(KeError::Protocol(format!(
            "{what} has an odd body length {}",
            body.len()
        )));
    }
    Ok(body
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

fn u16_body(body: &[u8], what: &str) -> Result<u16, KeError> {
    match body {
        [a, b] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(KeError::Protocol(format!(
            "{what} has a {}-byte body (it must be 2)",
            body.len()
        ))),
    }
}

/// An NTPv4 Server Negotiation body: an IPv4 or IPv6 literal or a host name (§4.1.7).
fn server_name(body: &[u8]) -> Result<String, KeError> {
    let text = std::str::from_utf8(body)
        .ok()
        .filter(|t| !t.is_empty() && t.len() <= 253)
        .ok_or_else(|| {
            KeError::Protocol("NTPv4 Server Negotiation is not an address or a host name".into())
        })?;
    if text.parse::<std::net::IpAddr>().is_ok() {
        return Ok(text.to_string());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if text.trim_end_matches('.').split('.').all(label_ok) {
        Ok(text.trim_end_matches('.').to_ascii_lowercase())
    } else {
        Err(KeError::Protocol(format!(
            "NTPv4 Server Negotiation {:?} is not an address or a host name",
            text.escape_debug().to_string()
        )))
    }
}

#[cfg(test)]
#[path = "ke_tests.rs"]
mod tests;
