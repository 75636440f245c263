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

/// Checks received bytes against the payload, however the reads are split.
#[derive(Debug)]
pub struct Verifier<'a> {
    expected: &'a [u8],
    received: usize,
}

impl<'a> Verifier<'a> {
    /// A verifier expecting `expected` to come back.
    pub fn new(expected: &'a [u8]) -> Self {
        Self {
            expected,
            received: 0,
        }
    }

    /// Bytes received and matched so far.
    pub fn received(&self) -> u64 {
        self.received as u64
    }

    /// Whether every expected byte has arrived.
    pub fn is_complete(&self) -> bool {
        self.received == self.expected.len()
    }

    /// Feed the next received chunk.
    pub fn feed(&mut self, chunk: &[u8]) -> EchoCheck {
        let rest = &self.expected[self.received..];
        let overlap = chunk.len().min(rest.len());
        if let Some(i) = (0..overlap).find(|&i| chunk[i] != rest[i]) {
            return EchoCheck::Wrong {
                at: (self.received + i) as u64,
            };
        }
        if chunk.len() > rest.len() {
            return EchoCheck::Wrong {
                at: self.expected.len() as u64,
            };
        }
        self.received += chunk.len();
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

    #[test]
    fn accepts_echo_split_into_any_chunks() {
        let data: Vec<u8> = (0..=255).collect();
        for split in [1, 2, 3, 100, 255, 256] {
            let mut v = Verifier::new(&data);
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
        let mut v = Verifier::new(data);
        assert_eq!(v.feed(b"hel"), EchoCheck::Partial);
        assert_eq!(v.feed(b"lX"), EchoCheck::Wrong { at: 4 });
    }

    #[test]
    fn rejects_bytes_beyond_payload() {
        let mut v = Verifier::new(b"ab");
        assert_eq!(v.feed(b"abc"), EchoCheck::Wrong { at: 2 });
    }

    #[test]
    fn empty_payload_is_complete_at_once() {
        let v = Verifier::new(b"");
        assert!(v.is_complete());
    }

    #[test]
    fn counts_received_bytes() {
        let mut v = Verifier::new(b"abcdef");
        v.feed(b"abcd");
        assert_eq!(v.received(), 4);
        assert!(!v.is_complete());
    }
}
