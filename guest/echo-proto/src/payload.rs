//! The bytes an echo client sends.

/// The message the original Python client sent; the default payload.
pub const DEFAULT_MESSAGE: &str = "This is a test message";

/// `len` bytes of deterministic data unique to `seed`, so that concurrent
/// exchanges never carry the same bytes and a crossed echo is detected.
pub fn generated_payload(seed: u64, len: usize) -> Vec<u8> {
    // xorshift64*: cheap, deterministic, and never stuck at zero because of the `| 1`.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let take = word.len().min(len - out.len());
        out.extend_from_slice(&word[..take]);
    }
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
}
