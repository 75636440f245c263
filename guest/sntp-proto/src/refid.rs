//! The reference id, shown as a 4-character code or an IPv4 address depending on stratum.

use std::fmt;

/// A reference id interpreted for display.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefId {
    /// Stratum 0 (Kiss-o'-Death code) or 1 (reference clock code), e.g. `RATE`, `GPS`.
    Code(String),
    /// Stratum 2 and up: the IPv4 address of the upstream server (or an IPv6 hash).
    Address([u8; 4]),
}

impl RefId {
    /// Interpret the four bytes for a packet of `stratum`.
    pub fn new(bytes: [u8; 4], stratum: u8) -> Self {
        if stratum <= 1 {
            let code: String = bytes
                .iter()
                .take_while(|&&b| b != 0)
                .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
                .collect();
            RefId::Code(code)
        } else {
            RefId::Address(bytes)
        }
    }
}

impl fmt::Display for RefId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefId::Code(c) => f.write_str(c),
            RefId::Address([a, b, c, d]) => write!(f, "{a}.{b}.{c}.{d}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiss_code_is_text() {
        assert_eq!(RefId::new(*b"RATE", 0).to_string(), "RATE");
    }

    #[test]
    fn short_code_stops_at_nul() {
        assert_eq!(RefId::new(*b"GPS\0", 1).to_string(), "GPS");
    }

    #[test]
    fn non_ascii_code_is_masked() {
        assert_eq!(RefId::new([b'A', 0xff, b'B', b'C'], 1).to_string(), "A?BC");
    }

    #[test]
    fn secondary_is_address() {
        assert_eq!(RefId::new([127, 127, 1, 0], 10).to_string(), "127.127.1.0");
    }
}
