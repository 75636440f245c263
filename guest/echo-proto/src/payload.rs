//! The bytes an echo client sends, produced as a stream so that a payload of any
//! size takes constant memory to send and to verify.

/// The message the original Python client sent; the default payload.
pub const DEFAULT_MESSAGE: &str = "This is a test message";

/// xorshift64*: cheap, deterministic, and never stuck at zero because of the `| 1`.
#[derive(Debug, Clone)]
struct Generator {
    state: u64,
    word: [u8; 8],
    used: usize,
}

impl Generator {
    fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            word: [0; 8],
            used: 8,
        }
    }

    fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            if self.used == 8 {
                self.state ^= self.state >> 12;
                self.state ^= self.state << 25;
                self.state ^= self.state >> 27;
                self.word = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
                self.used = 0;
            }
            *b = self.word[self.used];
            self.used += 1;
        }
    }
}

/// A payload read front to back in chunks: a message, or generated data.
#[derive(Debug, Clone)]
pub struct PayloadStream {
    source: Source,
    len: u64,
    pos: u64,
}

#[derive(Debug, Clone)]
enum Source {
    Message(Vec<u8>),
    Generated(Generator),
}

impl PayloadStream {
    /// The bytes of `message`.
    pub fn message(message: &[u8]) -> Self {
        Self {
            len: message.len() as u64,
            source: Source::Message(message.to_vec()),
            pos: 0,
        }
    }

    /// `len` bytes of deterministic data unique to `seed`, so that concurrent
    /// exchanges never carry the same bytes and a crossed echo is detected.
    pub fn generated(seed: u64, len: u64) -> Self {
        Self {
            source: Source::Generated(Generator::new(seed)),
            len,
            pos: 0,
        }
    }

    /// Total length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> u64 {
        self.len - self.pos
    }

    /// Fill the front of `buf` with the next bytes; how many (0 at the end).
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = (buf.len() as u64).min(self.remaining()) as usize;
        match &mut self.source {
            Source::Message(m) => {
                let at = self.pos as usize;
                buf[..n].copy_from_slice(&m[at..at + n]);
            }
            Source::Generated(g) => g.fill(&mut buf[..n]),
        }
        self.pos += n as u64;
        n
    }
}

/// The whole of a generated payload at once (for payloads that fit a datagram).
pub fn generated_payload(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    PayloadStream::generated(seed, len as u64).read(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_requested_length() {
        for len in [0, 1, 7, 8, 9, 65_536, 1 << 20] {
            assert_eq!(generated_payload(3, len).len(), len);
        }
    }

    #[test]
    fn is_deterministic_per_seed() {
        assert_eq!(generated_payload(42, 100), generated_payload(42, 100));
    }

    #[test]
    fn differs_between_seeds() {
        let a = generated_payload(0, 64);
        let b = generated_payload(1, 64);
        assert_ne!(a, b);
    }

    #[test]
    fn prefix_is_stable_across_lengths() {
        assert_eq!(generated_payload(9, 10)[..], generated_payload(9, 20)[..10]);
    }

    #[test]
    fn chunks_of_any_size_make_the_same_stream() {
        let whole = generated_payload(5, 1000);
        let mut s = PayloadStream::generated(5, 1000);
        let mut got = Vec::new();
        let mut buf = [0u8; 13];
        loop {
            let n = s.read(&mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, whole);
        let mut m = PayloadStream::message(b"hello");
        let mut two = [0u8; 2];
        assert_eq!((m.read(&mut two), &two), (2, b"he"));
        assert_eq!(m.remaining(), 3);
    }
}
