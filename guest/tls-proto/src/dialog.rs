//! blackbox_exporter's tcp `query_response` dialog over any [`Transport`]:
//! each step reads lines until one matches its `expect`, then reads its
//! `expect_bytes`, then sends its `send` (with `${N}` from the match) and a
//! newline, then, with `starttls`, runs a TLS handshake on the same
//! connection. One deadline covers the whole dialog, as blackbox's.
//!
//! Where netkit differs from blackbox, it is stricter and says so: plain text
//! the server sent after a STARTTLS go-ahead and before the handshake is a
//! failure (blackbox drops it unread), and `expect_bytes` takes bytes already
//! read with the lines before it (blackbox reads the socket past them).

use crate::client::{Handshake, TlsError, TlsOptions, TlsStream};
use crate::transport::{Recv, Transport, TransportError};
use regex_lite::{Captures, Regex};

/// A line longer than this fails the dialog (Go's `bufio.Scanner` limit).
pub const MAX_LINE: usize = 64 * 1024;
/// The transcript keeps at most this many entries...
pub const MAX_TRANSCRIPT: usize = 200;
/// ...of at most this many bytes each.
pub const MAX_ENTRY: usize = 256;

/// One step as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// A regular expression one line must match.
    pub expect: Option<String>,
    /// Bytes the next bytes read must equal.
    pub expect_bytes: Option<Vec<u8>>,
    /// `(name, template)`: set from this step's match (never, without an `expect`, as in blackbox).
    pub labels: Vec<(String, String)>,
    /// A line to send (a newline is added), `${N}` expanded from the match.
    pub send: Option<Vec<u8>>,
    /// TLS after this step's send.
    pub starttls: bool,
}

/// Why a dialog failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No line matched before the server closed.
    Regex,
    /// The bytes differ from `expect_bytes`.
    Bytes,
    /// The server closed before enough bytes came.
    Closed,
    /// The deadline passed.
    Timeout,
    /// A send or receive failed.
    Io,
    /// A TLS handshake failed.
    Handshake,
    /// The chain does not verify.
    Verify,
}

impl Failure {
    /// The WIT case name (`regex`, `bytes`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Failure::Regex => "regex",
            Failure::Bytes => "bytes",
            Failure::Closed => "closed",
            Failure::Timeout => "timeout",
            Failure::Io => "io",
            Failure::Handshake => "handshake",
            Failure::Verify => "verify",
        }
    }
}

/// What a dialog did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The last TLS handshake's facts, even a failed one's.
    pub handshake: Option<Handshake>,
    /// How many steps completed.
    pub steps_done: u32,
    /// Each step with labels whose expect matched: its labels, expanded.
    pub expect_info: Vec<Vec<(String, String)>>,
    /// None when every step completed.
    pub failure: Option<(Failure, String)>,
    /// `< ` read, `> ` sent, `* ` done, bounded.
    pub transcript: Vec<String>,
}

/// The steps with their regexes compiled: a bad one is refused before connecting.
#[derive(Debug, Clone)]
pub struct Plan {
    steps: Vec<(Step, Option<Regex>)>,
}

impl Plan {
    /// Compile `steps`; an invalid regex or an empty `expect_bytes` is named.
    pub fn new(steps: Vec<Step>) -> Result<Plan, String> {
        let mut out = Vec::with_capacity(steps.len());
        for (i, s) in steps.into_iter().enumerate() {
            let re = match s.expect.as_deref().filter(|e| !e.is_empty()) {
                Some(e) => Some(Regex::new(e).map_err(|err| {
                    format!(
                        "step {}: expect {e:?} is not a valid regular expression: {err}",
                        i + 1
                    )
                })?),
                None => None,
            };
            if s.expect_bytes.as_ref().is_some_and(|b| b.is_empty()) {
                return Err(format!("step {}: expect_bytes is empty", i + 1));
            }
            out.push((s, re));
        }
        Ok(Plan { steps: out })
    }

    /// Whether any step starts TLS.
    pub fn starts_tls(&self) -> bool {
        self.steps.iter().any(|(s, _)| s.starttls)
    }
}

/// Go's `Regexp.Expand` on bytes: `$1`, `${1}`, `$name`, `${name}` are the
/// match's groups (empty when absent), `$$` is `$`, and a `$` that starts
/// none of these is kept as it is.
pub fn expand(template: &[u8], caps: &Captures) -> Vec<u8> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::with_capacity(template.len());
    let mut i = 0;
    while i < template.len() {
        let b = template[i];
        if b != b'$' {
            out.push(b);
            i += 1;
            continue;
        }
        let rest = &template[i + 1..];
        let (name, used) = match rest.first() {
            Some(b'$') => {
                out.push(b'$');
                i += 2;
                continue;
            }
            Some(b'{') => match rest.iter().position(|&c| c == b'}') {
                Some(end) if end > 1 && rest[1..end].iter().all(|&c| word(c)) => {
                    (&rest[1..end], end + 1)
                }
                _ => (&rest[..0], 0),
            },
            _ => {
                let n = rest.iter().take_while(|&&c| word(c)).count();
                (&rest[..n], n)
            }
        };
        if used == 0 || name.is_empty() {
            out.push(b'$');
            i += 1;
            continue;
        }
        let name = std::str::from_utf8(name).unwrap_or_default();
        let group = match name.parse::<usize>() {
            Ok(n) => caps.get(n),
            Err(_) => caps.name(name),
        };
        if let Some(g) = group {
            out.extend_from_slice(g.as_str().as_bytes());
        }
        i += 1 + used;
    }
    out
}

/// The connection, plain or upgraded.
enum Conn<T: Transport> {
    Plain(T),
    Tls(Box<TlsStream<T>>),
    Gone,
}

impl<T: Transport> Conn<T> {
    fn recv(&mut self, deadline: u64) -> Result<Recv, TransportError> {
        match self {
            Conn::Plain(t) => t.recv(16 * 1024, deadline),
            Conn::Tls(t) => t.recv(16 * 1024, deadline),
            Conn::Gone => Ok(Recv::Closed),
        }
    }

    fn send(&mut self, buf: &[u8], deadline: u64) -> Result<bool, TransportError> {
        match self {
            Conn::Plain(t) => t.send(buf, deadline),
            Conn::Tls(t) => t.send(buf, deadline),
            Conn::Gone => Err(TransportError("the connection is gone".into())),
        }
    }

    fn close(&mut self, deadline: u64) {
        match self {
            Conn::Plain(t) => t.shutdown_send(),
            Conn::Tls(t) => t.close(deadline),
            Conn::Gone => {}
        }
    }
}

/// The dialog's state while it runs.
struct Run<T: Transport> {
    conn: Conn<T>,
    buf: Vec<u8>,
    eof: bool,
    out: Outcome,
    deadline: u64,
}

type Step_ = Result<(), (Failure, String)>;

impl<T: Transport> Run<T> {
    fn note(&mut self, prefix: &str, text: &str) {
        if self.out.transcript.len() < MAX_TRANSCRIPT {
            self.out
                .transcript
                .push(format!("{prefix}{}", crate::text::clip(text, MAX_ENTRY)));
        }
    }

    /// More bytes into `buf`; `Ok(false)` at the end of the stream.
    fn fill(&mut self) -> Result<bool, (Failure, String)> {
        if self.eof {
            return Ok(false);
        }
        match self.conn.recv(self.deadline) {
            Ok(Recv::Data(d)) => {
                self.buf.extend_from_slice(&d);
                Ok(true)
            }
            Ok(Recv::Closed) => {
                self.eof = true;
                Ok(false)
            }
            Ok(Recv::Timeout) => Err((Failure::Timeout, "the timeout passed".into())),
            Err(e) => Err((Failure::Io, format!("reading: {e}"))),
        }
    }

    /// The next line without its `\n` (and `\r`), or `None` at the end of the stream.
    fn line(&mut self) -> Result<Option<String>, (Failure, String)> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.buf.len() > MAX_LINE {
                return Err((
                    Failure::Io,
                    format!("the server sent a line longer than {MAX_LINE} bytes"),
                ));
            }
            if !self.fill()? {
                // The last line may lack its newline, as bufio.Scanner reads it.
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let line = String::from_utf8_lossy(&self.buf).into_owned();
                self.buf.clear();
                return Ok(Some(line));
            }
        }
    }

    fn expect(&mut self, i: usize, step: &Step, re: &Regex) -> Result<Vec<u8>, (Failure, String)> {
        while let Some(line) = self.line()? {
            self.note("< ", &line);
            if let Some(caps) = re.captures(&line) {
                let send = step
                    .send
                    .as_deref()
                    .map(|t| expand(t, &caps))
                    .unwrap_or_default();
                if !step.labels.is_empty() {
                    let info = step
                        .labels
                        .iter()
                        .map(|(name, template)| {
                            let v = expand(template.as_bytes(), &caps);
                            (name.clone(), String::from_utf8_lossy(&v).into_owned())
                        })
                        .collect();
                    self.out.expect_info.push(info);
                }
                return Ok(send);
            }
        }
        Err((
            Failure::Regex,
            format!(
                "step {}: no line matched {:?} before the server closed the connection",
                i + 1,
                re.as_str()
            ),
        ))
    }

    fn expect_bytes(&mut self, i: usize, want: &[u8]) -> Step_ {
        while self.buf.len() < want.len() {
            if !self.fill()? {
                return Err((
                    Failure::Closed,
                    format!(
                        "step {}: the server closed after {} of the {} expected bytes",
                        i + 1,
                        self.buf.len(),
                        want.len()
                    ),
                ));
            }
        }
        let got: Vec<u8> = self.buf.drain(..want.len()).collect();
        self.note("< ", &crate::hex(&got));
        if got != want {
            return Err((
                Failure::Bytes,
                format!(
                    "step {}: expected the bytes {}, read {}",
                    i + 1,
                    crate::hex(want),
                    crate::hex(&got)
                ),
            ));
        }
        Ok(())
    }

    fn send(&mut self, line: &[u8]) -> Step_ {
        self.note("> ", &String::from_utf8_lossy(line));
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        match self.conn.send(&bytes, self.deadline) {
            Ok(true) => Ok(()),
            Ok(false) => Err((Failure::Timeout, "the timeout passed while sending".into())),
            Err(e) => Err((Failure::Io, format!("sending: {e}"))),
        }
    }

    /// Run the handshake on the connection as it is (plain).
    fn handshake(&mut self, options: &TlsOptions, insecure: bool) -> Step_ {
        let plain = match std::mem::replace(&mut self.conn, Conn::Gone) {
            Conn::Plain(t) => t,
            other => {
                self.conn = other;
                return Err((
                    Failure::Handshake,
                    "starttls on a connection that is already TLS".into(),
                ));
            }
        };
        if !self.buf.is_empty() {
            return Err((
                Failure::Io,
                format!(
                    "the server sent {} bytes of plain text after the STARTTLS go-ahead, before the handshake (netkit refuses text a third party could have injected; blackbox drops it)",
                    self.buf.len()
                ),
            ));
        }
        self.note("* ", "TLS handshake");
        match TlsStream::connect(plain, options, self.deadline) {
            Ok((stream, h)) => {
                let verdict = h.verification.clone();
                self.note("* ", &format!("{} {}", h.version, h.cipher));
                self.out.handshake = Some(h);
                self.conn = Conn::Tls(Box::new(stream));
                self.eof = false;
                match verdict.error {
                    Some(reason) if !insecure => Err((
                        Failure::Verify,
                        format!(
                            "the certificate does not verify ({}): {}",
                            reason.as_str(),
                            verdict.detail
                        ),
                    )),
                    _ => Ok(()),
                }
            }
            Err(e) => {
                let failure = match e {
                    TlsError::Timeout(_) => Failure::Timeout,
                    _ => Failure::Handshake,
                };
                let words = e.to_string();
                self.out.handshake = e.handshake().cloned();
                Err((failure, words))
            }
        }
    }

    fn step(
        &mut self,
        i: usize,
        step: &Step,
        re: Option<&Regex>,
        tls: &TlsOptions,
        insecure: bool,
    ) -> Step_ {
        let mut send = step.send.clone();
        if let Some(re) = re {
            // Go expands `send` with the match only when there is one.
            let expanded = self.expect(i, step, re)?;
            if send.is_some() {
                send = Some(expanded);
            }
        }
        if let Some(want) = &step.expect_bytes {
            self.expect_bytes(i, want)?;
        }
        if let Some(line) = send.filter(|s| !s.is_empty()) {
            self.send(&line)?;
        }
        if step.starttls {
            self.handshake(tls, insecure)?;
        }
        Ok(())
    }
}

/// Run `plan` over `transport` (connected), with TLS first when `tls_first`,
/// before `deadline_ns`. `tls` names the server and its roots for any
/// handshake; a chain that does not verify fails unless `insecure`.
pub fn run<T: Transport>(
    transport: T,
    plan: &Plan,
    tls_first: bool,
    tls: &TlsOptions,
    insecure: bool,
    deadline_ns: u64,
) -> Outcome {
    let mut run = Run {
        conn: Conn::Plain(transport),
        buf: Vec::new(),
        eof: false,
        out: Outcome::default(),
        deadline: deadline_ns,
    };
    let mut result = if tls_first {
        run.handshake(tls, insecure)
    } else {
        Ok(())
    };
    if result.is_ok() {
        for (i, (step, re)) in plan.steps.iter().enumerate() {
            result = run.step(i, step, re.as_ref(), tls, insecure);
            if result.is_err() {
                break;
            }
            run.out.steps_done += 1;
        }
    }
    run.out.failure = result.err();
    run.conn.close(deadline_ns);
    run.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A peer that answers from a script: what it says is queued in chunks; what it is sent is kept.
    struct Script {
        incoming: VecDeque<Vec<u8>>,
        sent: Vec<u8>,
        closes: bool,
    }

    impl Transport for Script {
        fn recv(&mut self, _max: usize, _deadline: u64) -> Result<Recv, TransportError> {
            Ok(match self.incoming.pop_front() {
                Some(d) => Recv::Data(d),
                None if self.closes => Recv::Closed,
                None => Recv::Timeout,
            })
        }
        fn send(&mut self, buf: &[u8], _deadline: u64) -> Result<bool, TransportError> {
            self.sent.extend_from_slice(buf);
            Ok(true)
        }
        fn shutdown_send(&mut self) {}
        fn now_ns(&self) -> u64 {
            0
        }
    }

    fn script(chunks: &[&[u8]], closes: bool) -> Script {
        Script {
            incoming: chunks.iter().map(|c| c.to_vec()).collect(),
            sent: Vec::new(),
            closes,
        }
    }

    fn step(expect: Option<&str>, send: Option<&str>) -> Step {
        Step {
            expect: expect.map(str::to_string),
            send: send.map(|s| s.as_bytes().to_vec()),
            ..Step::default()
        }
    }

    fn go(t: &mut Script, steps: Vec<Step>) -> Outcome {
        let plan = Plan::new(steps).unwrap();
        let tls = TlsOptions {
            server_name: "localhost".into(),
            roots: Vec::new(),
            min_version: None,
            max_version: None,
            alpn: Vec::new(),
            client_certificate: None,
        };
        run(t, &plan, false, &tls, false, 1)
    }

    impl Transport for &mut Script {
        fn recv(&mut self, max: usize, d: u64) -> Result<Recv, TransportError> {
            (**self).recv(max, d)
        }
        fn send(&mut self, buf: &[u8], d: u64) -> Result<bool, TransportError> {
            (**self).send(buf, d)
        }
        fn shutdown_send(&mut self) {}
        fn now_ns(&self) -> u64 {
            0
        }
    }

    #[test]
    fn irc_pong_echoes_the_cookie_from_the_last_match() {
        let mut t = script(
            &[
                b"NOTICE * :hi\r\nPING :c0ff",
                b"ee\r\n",
                b":srv 001 prober :Welcome\r\n",
            ],
            false,
        );
        let out = go(
            &mut t,
            vec![
                step(None, Some("NICK prober")),
                step(Some("PING :([^ ]+)"), Some("PONG ${1}")),
                step(Some("^:[^ ]+ 001"), None),
            ],
        );
        assert_eq!(out.failure, None, "{:?}", out.transcript);
        assert_eq!(out.steps_done, 3);
        assert_eq!(t.sent, b"NICK prober\nPONG c0ffee\n");
    }

    #[test]
    fn templates_expand_as_go_expands_them() {
        let re = Regex::new("(?P<host>[a-z]+) (\\d+)").unwrap();
        let caps = re.captures("mail 25").unwrap();
        let x = |t: &str| String::from_utf8(expand(t.as_bytes(), &caps)).unwrap();
        assert_eq!(x("${1}:$2"), "mail:25");
        assert_eq!(x("$host/${host}"), "mail/mail");
        assert_eq!(x("$$1 costs $"), "$1 costs $");
        assert_eq!(x("$1x ${9} ${} $-"), "  ${} $-");
        assert_eq!(expand(b"\x00\xff$1", &caps), b"\x00\xffmail");
    }

    #[test]
    fn a_send_without_expect_is_sent_as_written() {
        let mut t = script(&[], false);
        let out = go(&mut t, vec![step(None, Some("PONG ${1}"))]);
        assert_eq!(out.failure, None);
        assert_eq!(t.sent, b"PONG ${1}\n");
    }

    #[test]
    fn labels_are_expanded_from_the_match() {
        let mut t = script(&[b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n"], false);
        let mut s = step(Some("^SSH-2.0-([^ -]+)"), None);
        s.labels = vec![("version".into(), "${1}".into())];
        let out = go(&mut t, vec![s]);
        assert_eq!(
            out.expect_info,
            vec![vec![("version".to_string(), "OpenSSH_9.2p1".to_string())]]
        );
    }

    #[test]
    fn a_close_without_a_match_is_the_regex_failure_a_silence_is_a_timeout() {
        let mut t = script(&[b"220 mail ESMTP\n", b"no newline at the end"], true);
        let out = go(&mut t, vec![step(Some("^250"), None)]);
        assert_eq!(out.failure.as_ref().map(|f| f.0), Some(Failure::Regex));
        assert_eq!(
            out.transcript,
            ["< 220 mail ESMTP", "< no newline at the end"]
        );
        let mut t = script(&[b"220 mail ESMTP\n"], false);
        let out = go(&mut t, vec![step(Some("^250"), None)]);
        assert_eq!(out.failure.map(|f| f.0), Some(Failure::Timeout));
        assert_eq!(out.steps_done, 0);
    }

    #[test]
    fn expect_bytes_takes_what_the_lines_left_and_compares_exactly() {
        let mut t = script(&[b"hello\n\x00\x01", b"\x02rest"], false);
        let mut s = step(Some("hello"), None);
        s.expect_bytes = Some(vec![0, 1, 2]);
        assert_eq!(go(&mut t, vec![s.clone()]).failure, None);
        let mut t = script(&[b"hello\n\x00\x01\x03"], false);
        let out = go(&mut t, vec![s.clone()]);
        assert_eq!(out.failure.map(|f| f.0), Some(Failure::Bytes));
        let mut t = script(&[b"hello\n\x00"], true);
        let out = go(&mut t, vec![s]);
        assert_eq!(out.failure.map(|f| f.0), Some(Failure::Closed));
    }

    #[test]
    fn plain_text_after_the_starttls_go_ahead_is_refused() {
        let mut t = script(&[b"220 go ahead\r\n250 injected\r\n"], false);
        let mut s = step(Some("^220"), None);
        s.starttls = true;
        let out = go(&mut t, vec![s]);
        let (f, words) = out.failure.unwrap();
        assert_eq!(f, Failure::Io);
        assert!(words.contains("after the STARTTLS go-ahead"), "{words}");
    }

    #[test]
    fn a_long_line_and_bad_plans_are_named() {
        let mut t = script(&[&vec![b'a'; MAX_LINE + 10]], false);
        let out = go(&mut t, vec![step(Some("b"), None)]);
        assert_eq!(out.failure.map(|f| f.0), Some(Failure::Io));
        assert!(
            Plan::new(vec![step(Some("("), None)])
                .unwrap_err()
                .contains("step 1")
        );
        let mut s = step(None, None);
        s.expect_bytes = Some(Vec::new());
        assert!(
            Plan::new(vec![s])
                .unwrap_err()
                .contains("expect_bytes is empty")
        );
    }
}
