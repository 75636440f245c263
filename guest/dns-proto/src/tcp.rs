//! DNS over TCP: every message behind its two-byte length (RFC 1035 §4.2.2).

/// `msg` with its length in front.
pub fn tcp_frame(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// Bytes read from a TCP connection, cut into messages as they complete.
#[derive(Debug, Default)]
pub struct TcpFrames {
    buf: Vec<u8>,
}

impl TcpFrames {
    /// Nothing read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add bytes read.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, if one is in.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        if self.buf.len() < 2 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
        if self.buf.len() < 2 + len {
            return None;
        }
        let msg = self.buf[2..2 + len].to_vec();
        self.buf.drain(..2 + len);
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_out_whole_however_the_bytes_arrive() {
        let mut stream = tcp_frame(b"first");
        stream.extend(tcp_frame(b"second message"));
        let mut f = TcpFrames::new();
        let mut got = Vec::new();
        for b in stream.chunks(3) {
            f.push(b);
            while let Some(m) = f.next_message() {
                got.push(m);
            }
        }
        assert_eq!(got, vec![b"first".to_vec(), b"second message".to_vec()]);
    }
}
