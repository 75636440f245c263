//! A response read off a transport: the head (bounded in size and header
//! count), then the body by its framing (content-length, chunked, until
//! close), never more than the limit, each step before the deadline.

use tls_proto::{Recv, Transport};

/// Bounds on what a server may make the probe hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The head (status line and headers).
    pub max_head: usize,
    /// Header lines.
    pub max_headers: usize,
    /// The body as sent (after de-chunking, before decoding).
    pub max_body: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 64 * 1024,
            max_headers: 128,
            max_body: 10 * 1024 * 1024,
        }
    }
}

/// The status line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A whole response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status line and headers.
    pub head: Head,
    /// The body as sent, de-chunked (still content-encoded).
    pub body: Vec<u8>,
    /// Bytes of body on the wire (chunk framing included).
    pub wire_body: u64,
    /// When the first byte of the response arrived (transport clock).
    pub first_byte_ns: u64,
    /// When the body was complete.
    pub done_ns: u64,
}

/// Why no complete response came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// The deadline passed (while waiting for what).
    Timeout(String),
    /// Not HTTP, or broken framing.
    Malformed(String),
    /// More than `limit` bytes of head or too many header lines.
    HeadTooLarge(String),
    /// The body is over the limit.
    BodyTooLarge(u64),
    /// The connection failed or closed early.
    Transport(String),
}

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseError::Timeout(what) => write!(f, "timed out waiting for {what}"),
            ResponseError::Malformed(why) => write!(f, "malformed response: {why}"),
            ResponseError::HeadTooLarge(why) => write!(f, "response head too large: {why}"),
            ResponseError::BodyTooLarge(limit) => {
                write!(
                    f,
                    "response body larger than the limit of {limit} bytes (--max-body / body_size_limit)"
                )
            }
            ResponseError::Transport(why) => f.write_str(why),
        }
    }
}

/// What is read at once.
const CHUNK: usize = 16 * 1024;

struct Reader<'t, T: Transport> {
    t: &'t mut T,
    buf: Vec<u8>,
    pos: usize,
    deadline: u64,
    first_byte_ns: Option<u64>,
    closed: bool,
}

impl<T: Transport> Reader<'_, T> {
    fn avail(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Read more; `Ok(false)` when the peer closed.
    fn more(&mut self, what: &str) -> Result<bool, ResponseError> {
        if self.closed {
            return Ok(false);
        }
        // A peer that always has more (a flood of 100 Continue, an endless
        // body under the limit) must not carry the read past the deadline:
        // recv only looks at it when it has to wait (issue 31).
        if self.t.now_ns() >= self.deadline {
            return Err(ResponseError::Timeout(what.into()));
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        match self
            .t
            .recv(CHUNK, self.deadline)
            .map_err(|e| ResponseError::Transport(e.0))?
        {
            Recv::Data(d) => {
                self.first_byte_ns.get_or_insert_with(|| self.t.now_ns());
                self.buf.extend_from_slice(&d);
                Ok(true)
            }
            Recv::Closed => {
                self.closed = true;
                Ok(false)
            }
            Recv::Timeout => Err(ResponseError::Timeout(what.into())),
        }
    }
}

/// Parse a head at the start of `buf`: `Ok(None)` when incomplete.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, ResponseError> {
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let status = r.code.unwrap_or(0);
            if !(100..=599).contains(&status) {
                return Err(ResponseError::Malformed(format!(
                    "status {status:03} is not an HTTP status (100 to 599)"
                )));
            }
            let head = Head {
                version: format!("HTTP/1.{}", r.version.unwrap_or(1)),
                status: r.code.unwrap_or(0),
                reason: r.reason.unwrap_or("").to_string(),
                headers: r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
            };
            Ok(Some((head, n)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(ResponseError::HeadTooLarge(format!(
            "more than {} header lines",
            limits.max_headers
        ))),
        Err(e) => Err(ResponseError::Malformed(format!(
            "{e} (the reply begins {:?})",
            tls_proto::text::clip(&String::from_utf8_lossy(&buf[..buf.len().min(60)]), 60)
        ))),
    }
}

enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

fn framing(head: &Head, head_request: bool) -> Result<Framing, ResponseError> {
    if head_request || head.status / 100 == 1 || head.status == 204 || head.status == 304 {
        return Ok(Framing::None);
    }
    let codings: Vec<String> = head
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|(_, v)| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    if !codings.is_empty() {
        // netkit sends no TE header, so chunked is the only transfer coding a
        // server may use (RFC 9112 §6.1, §7.4); anything else would be read
        // undecoded or to the close, and skew the body's figures.
        if codings != ["chunked"] {
            return Err(ResponseError::Malformed(format!(
                "Transfer-Encoding {:?}: only chunked is allowed in a response to a request without TE",
                codings.join(", ")
            )));
        }
        return Ok(Framing::Chunked);
    }
    let lengths: Vec<&str> = head
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim())
        .collect();
    match lengths.first() {
        None => Ok(Framing::UntilClose),
        Some(first) => {
            if lengths.iter().any(|l| l != first) {
                return Err(ResponseError::Malformed(
                    "conflicting Content-Length headers".into(),
                ));
            }
            // Digits only: Rust's parse would take "+2".
            first
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| first.parse::<u64>().ok())
                .flatten()
                .map(Framing::Length)
                .ok_or_else(|| {
                    ResponseError::Malformed(format!("Content-Length {first:?} is not a number"))
                })
        }
    }
}

/// Read one response to a request (`head_request`: it was HEAD, so no body).
pub fn read_response<T: Transport>(
    t: &mut T,
    head_request: bool,
    limits: &Limits,
    deadline_ns: u64,
) -> Result<Response, ResponseError> {
    let mut r = Reader {
        t,
        buf: Vec::new(),
        pos: 0,
        deadline: deadline_ns,
        first_byte_ns: None,
        closed: false,
    };
    // Skip interim 1xx responses (100 Continue, 103 Early Hints).
    let head = loop {
        let head = loop {
            if let Some((head, n)) = parse_head(r.avail(), limits)? {
                r.consume(n);
                break head;
            }
            if r.avail().len() > limits.max_head {
                return Err(ResponseError::HeadTooLarge(format!(
                    "no end of headers in the first {} bytes",
                    limits.max_head
                )));
            }
            if !r.more("the response headers")? {
                return Err(ResponseError::Transport(if r.avail().is_empty() {
                    "the server closed the connection without a response".into()
                } else {
                    "the server closed the connection in the middle of the headers".into()
                }));
            }
        };
        if head.status / 100 != 1 || head.status == 101 {
            break head;
        }
    };
    let mut body = Vec::new();
    let mut wire: u64 = 0;
    match framing(&head, head_request)? {
        Framing::None => {}
        Framing::Length(n) => {
            if n > limits.max_body {
                return Err(ResponseError::BodyTooLarge(limits.max_body));
            }
            while (body.len() as u64) < n {
                let want = (n - body.len() as u64) as usize;
                let take = r.avail().len().min(want);
                body.extend_from_slice(&r.avail()[..take]);
                r.consume(take);
                if (body.len() as u64) < n && !r.more("the response body")? {
                    return Err(ResponseError::Transport(format!(
                        "the server closed the connection after {} of {n} body bytes",
                        body.len()
                    )));
                }
            }
            wire = n;
        }
        Framing::UntilClose => loop {
            let take = r.avail().len();
            body.extend_from_slice(r.avail());
            r.consume(take);
            if body.len() as u64 > limits.max_body {
                return Err(ResponseError::BodyTooLarge(limits.max_body));
            }
            if !r.more("the response body")? {
                wire = body.len() as u64;
                break;
            }
        },
        Framing::Chunked => {
            loop {
                let (used, size) = loop {
                    match httparse::parse_chunk_size(r.avail()) {
                        Ok(httparse::Status::Complete(c)) => break c,
                        Ok(httparse::Status::Partial) => {
                            if r.avail().len() > 1024 {
                                return Err(ResponseError::Malformed(
                                    "a chunk-size line longer than 1 KiB".into(),
                                ));
                            }
                            if !r.more("the next chunk")? {
                                return Err(ResponseError::Transport("the server closed the connection in the middle of a chunked body".into()));
                            }
                        }
                        Err(_) => return Err(ResponseError::Malformed("bad chunk size".into())),
                    }
                };
                r.consume(used);
                wire += used as u64;
                if size == 0 {
                    // Trailers (ignored, bounded), then the blank line.
                    loop {
                        if let Some(end) = r.avail().windows(2).position(|w| w == b"\r\n") {
                            let blank = end == 0;
                            r.consume(end + 2);
                            wire += end as u64 + 2;
                            if blank {
                                break;
                            }
                        } else {
                            if r.avail().len() > limits.max_head {
                                return Err(ResponseError::HeadTooLarge(
                                    "chunked trailers too long".into(),
                                ));
                            }
                            if !r.more("the end of the chunked body")? {
                                // Closed right after the last chunk: everything arrived.
                                break;
                            }
                        }
                    }
                    break;
                }
                if body.len() as u64 + size > limits.max_body {
                    return Err(ResponseError::BodyTooLarge(limits.max_body));
                }
                let mut left = size + 2;
                while left > 0 {
                    if r.avail().is_empty() && !r.more("the rest of a chunk")? {
                        return Err(ResponseError::Transport(
                            "the server closed the connection in the middle of a chunk".into(),
                        ));
                    }
                    let take = (r.avail().len() as u64).min(left) as usize;
                    let data_left = left.saturating_sub(2) as usize;
                    let data = take.min(data_left);
                    body.extend_from_slice(&r.avail()[..data]);
                    r.consume(take);
                    left -= take as u64;
                    wire += take as u64;
                }
            }
        }
    }
    let now = r.t.now_ns();
    Ok(Response {
        first_byte_ns: r.first_byte_ns.unwrap_or(now),
        head,
        body,
        wire_body: wire,
        done_ns: now,
    })
}
