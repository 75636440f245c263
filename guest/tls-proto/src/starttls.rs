//! STARTTLS: the plain-text dialogue before the handshake. SMTP (RFC 3207).

use crate::transport::{Recv, Transport};

/// The most a server may say in one reply.
const MAX_REPLY: usize = 64 * 1024;

/// SMTP: read the greeting, EHLO, check the server offers STARTTLS, send it,
/// and read its go-ahead. After `Ok` the handshake starts on the same transport.
pub fn smtp<T: Transport>(t: &mut T, deadline_ns: u64) -> Result<(), String> {
    let mut buf = Vec::new();
    let greeting = reply(t, &mut buf, deadline_ns, "greeting")?;
    expect(&greeting, 220, "greeting")?;
    send(t, b"EHLO netkit.invalid\r\n", deadline_ns)?;
    let ehlo = reply(t, &mut buf, deadline_ns, "EHLO reply")?;
    expect(&ehlo, 250, "EHLO")?;
    if !ehlo
        .lines
        .iter()
        .any(|l| l.trim().eq_ignore_ascii_case("STARTTLS"))
    {
        return Err("the SMTP server does not offer STARTTLS (not in its EHLO reply)".into());
    }
    send(t, b"STARTTLS\r\n", deadline_ns)?;
    let go = reply(t, &mut buf, deadline_ns, "STARTTLS reply")?;
    expect(&go, 220, "STARTTLS")?;
    if !buf.is_empty() {
        // Bytes after the go-ahead, before our ClientHello: a server injecting plain text.
        return Err("the SMTP server sent data after its STARTTLS go-ahead".into());
    }
    Ok(())
}

/// One SMTP reply: its code and its lines' texts.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text after the code on each line.
    pub lines: Vec<String>,
}

fn expect(r: &Reply, code: u16, what: &str) -> Result<(), String> {
    if r.code == code {
        Ok(())
    } else {
        Err(format!(
            "SMTP {what}: expected {code}, got {} {}",
            r.code,
            r.lines.first().map(String::as_str).unwrap_or("")
        ))
    }
}

fn send<T: Transport>(t: &mut T, bytes: &[u8], deadline: u64) -> Result<(), String> {
    match t.send(bytes, deadline) {
        Ok(true) => Ok(()),
        Ok(false) => Err("STARTTLS: timed out sending to the server".into()),
        Err(e) => Err(format!("STARTTLS: {e}")),
    }
}

/// Read one (multi-line) reply, keeping what follows it in `buf`.
fn reply<T: Transport>(
    t: &mut T,
    buf: &mut Vec<u8>,
    deadline: u64,
    what: &str,
) -> Result<Reply, String> {
    loop {
        if let Some((r, used)) = parse_reply(buf)? {
            buf.drain(..used);
            return Ok(r);
        }
        if buf.len() > MAX_REPLY {
            return Err(format!("the SMTP {what} is longer than {MAX_REPLY} bytes"));
        }
        match t
            .recv(4096, deadline)
            .map_err(|e| format!("STARTTLS: {e}"))?
        {
            Recv::Data(d) => buf.extend_from_slice(&d),
            Recv::Closed => {
                return Err(format!(
                    "the SMTP server closed the connection before its {what}"
                ));
            }
            Recv::Timeout => return Err(format!("no SMTP {what} before the timeout")),
        }
    }
}

/// A complete reply at the start of `buf`, and how many bytes it took.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let mut at = 0;
    let mut lines = Vec::new();
    let mut code = None;
    while let Some(end) = buf[at..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| at + p)
    {
        let line = String::from_utf8_lossy(&buf[at..end]).into_owned();
        at = end + 2;
        let c: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("not an SMTP reply line: {:?}", crate::text::clip(&line, 80)))?;
        if *code.get_or_insert(c) != c {
            return Err(format!("SMTP reply changed code mid-reply: {line:?}"));
        }
        let more = line.as_bytes().get(3) == Some(&b'-');
        lines.push(line.get(4..).unwrap_or("").to_string());
        if !more {
            return Ok(Some((Reply { code: c, lines }, at)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_replies_end_at_the_line_without_a_dash() {
        let buf = b"250-mail.test\r\n250-SIZE 100\r\n250 STARTTLS\r\n220 go";
        let (r, used) = parse_reply(buf).unwrap().unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, vec!["mail.test", "SIZE 100", "STARTTLS"]);
        assert_eq!(&buf[used..], b"220 go");
        assert_eq!(parse_reply(b"220 go").unwrap(), None);
        assert!(
            parse_reply(b"HTTP/1.1 200 OK\r\n")
                .unwrap_err()
                .contains("not an SMTP reply")
        );
    }

    struct Silent;
    impl Transport for Silent {
        fn recv(
            &mut self,
            _max: usize,
            _deadline: u64,
        ) -> Result<Recv, crate::transport::TransportError> {
            Ok(Recv::Timeout)
        }
        fn send(
            &mut self,
            _buf: &[u8],
            _deadline: u64,
        ) -> Result<bool, crate::transport::TransportError> {
            Ok(true)
        }
        fn shutdown_send(&mut self) {}
        fn now_ns(&self) -> u64 {
            0
        }
    }

    #[test]
    fn a_silent_server_is_named_in_plain_words() {
        // Issue 31: it said "no SMTP the greeting before the timeout".
        assert_eq!(
            smtp(&mut Silent, 1).unwrap_err(),
            "no SMTP greeting before the timeout"
        );
    }
}
