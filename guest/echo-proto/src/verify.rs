//! Byte-for-byte verification of an echo, fed chunk by chunk as reads arrive.

/// Outcome of feeding received bytes to a [`Verifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoCheck {
    /// Everything so far matches; more bytes are expected.
    Partial,
    /// Every expected byte came back, unchanged.
    Complete,
    /// The byte at this offset differs from what was sent, or arrived beyond the payload's end.
    Wrong {
        /// Offset of the first wrong byte.
        at: u64,
    },
}

/// Checks received bytes against the payload as they arrive, however the reads
/// are split, generating what is expected chunk by chunk (constant memory).
#[derive(Debug)]
pub struct Verifier {
    expected: crate::PayloadStream,
    received: u64,
    scratch: Vec<u8>,
}

impl Verifier {
    /// A verifier expecting `expected` to come back.
    pub fn new(expected: crate::PayloadStream) -> Self {
        Self {
            expected,
            received: 0,
            scratch: Vec::new(),
        }
    }

    /// Bytes received and matched so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether every expected byte has arrived.
    pub fn is_complete(&self) -> bool {
        self.expected.remaining() == 0
    }

    /// Feed the next received chunk.
    pub fn feed(&mut self, chunk: &[u8]) -> EchoCheck {
        let rest = self.expected.remaining();
        let overlap = (chunk.len() as u64).min(rest) as usize;
        self.scratch.resize(overlap, 0);
        self.expected.read(&mut self.scratch);
        if let Some(i) = (0..overlap).find(|&i| chunk[i] != self.scratch[i]) {
            return EchoCheck::Wrong {
                at: self.received + i as u64,
            };
        }
        self.received += overlap as u64;
        if chunk.len() > overlap {
            return EchoCheck::Wrong { at: self.received };
        }
        if self.is_complete() {
            EchoCheck::Complete
        } else {
            EchoCheck::Partial
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PayloadStream;

    #[test]
    fn accepts_echo_split_into_any_chunks() {
        let data: Vec<u8> = (0..=255).collect();
        for split in [1, 2, 3, 100, 255, 256] {
            let mut v = Verifier::new(PayloadStream::message(&data));
            let mut last = EchoCheck::Partial;
            for chunk in data.chunks(split) {
                last = v.feed(chunk);
            }
            assert_eq!(last, EchoCheck::Complete, "split {split}");
        }
    }

    #[test]
    fn reports_first_wrong_offset() {
        let data = b"hello world";
        let mut v = Verifier::new(PayloadStream::message(data));
        assert_eq!(v.feed(b"hel"), EchoCheck::Partial);
        assert_eq!(v.feed(b"lX"), EchoCheck::Wrong { at: 4 });
    }

    #[test]
    fn rejects_bytes_beyond_payload() {
        let mut v = Verifier::new(PayloadStream::message(b"ab"));
        assert_eq!(v.feed(b"abc"), EchoCheck::Wrong { at: 2 });
    }

    #[test]
    fn empty_payload_is_complete_at_once() {
        let v = Verifier::new(PayloadStream::message(b""));
        assert!(v.is_complete());
    }

    #[test]
    fn counts_received_bytes() {
        let mut v = Verifier::new(PayloadStream::message(b"abcdef"));
        v.feed(b"abcd");
        assert_eq!(v.received(), 4);
        assert!(!v.is_complete());
    }
}
