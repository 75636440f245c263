//! The 48-byte NTP header (RFC 5905 §7.3). Extension fields after it are ignored.

use crate::time::{NtpShort, NtpTimestamp};
use std::fmt;

/// Length of the NTP header on the wire.
pub const PACKET_LEN: usize = 48;

/// Leap indicator (2 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeapIndicator {
    /// No leap second pending.
    NoWarning,
    /// The last minute of the day has 61 seconds.
    Insert,
    /// The last minute of the day has 59 seconds.
    Delete,
    /// The server's clock is not synchronised.
    Unsynchronized,
}

impl LeapIndicator {
    /// From the two wire bits.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => Self::NoWarning,
            1 => Self::Insert,
            2 => Self::Delete,
            _ => Self::Unsynchronized,
        }
    }

    /// To the two wire bits.
    pub fn to_bits(self) -> u8 {
        match self {
            Self::NoWarning => 0,
            Self::Insert => 1,
            Self::Delete => 2,
            Self::Unsynchronized => 3,
        }
    }

    /// The name WIT gives it (`netkit:diag/sntp-types.leap`), as JSON prints it.
    pub fn wit_name(self) -> &'static str {
        match self {
            Self::NoWarning => "no-warning",
            Self::Insert => "insert",
            Self::Delete => "delete",
            Self::Unsynchronized => "unsynchronized",
        }
    }

    /// Short name as ntpdig prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoWarning => "no-leap",
            Self::Insert => "add-leap",
            Self::Delete => "del-leap",
            Self::Unsynchronized => "unsync",
        }
    }
}

/// Association mode (3 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// 0: reserved.
    Reserved,
    /// 1: symmetric active.
    SymmetricActive,
    /// 2: symmetric passive.
    SymmetricPassive,
    /// 3: client.
    Client,
    /// 4: server.
    Server,
    /// 5: broadcast.
    Broadcast,
    /// 6: NTP control message.
    Control,
    /// 7: private use.
    Private,
}

impl Mode {
    /// From the three wire bits.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0b111 {
            0 => Self::Reserved,
            1 => Self::SymmetricActive,
            2 => Self::SymmetricPassive,
            3 => Self::Client,
            4 => Self::Server,
            5 => Self::Broadcast,
            6 => Self::Control,
            _ => Self::Private,
        }
    }

    /// To the three wire bits.
    pub fn to_bits(self) -> u8 {
        match self {
            Self::Reserved => 0,
            Self::SymmetricActive => 1,
            Self::SymmetricPassive => 2,
            Self::Client => 3,
            Self::Server => 4,
            Self::Broadcast => 5,
            Self::Control => 6,
            Self::Private => 7,
        }
    }
}

/// An NTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packet {
    /// Leap indicator.
    pub leap: LeapIndicator,
    /// Version number (3 bits).
    pub version: u8,
    /// Mode.
    pub mode: Mode,
    /// Stratum: 0 = Kiss-o'-Death, 1 = primary, 2..=15 secondary, 16 = unsynchronised.
    pub stratum: u8,
    /// Poll interval, log2 seconds.
    pub poll: i8,
    /// Clock precision, log2 seconds.
    pub precision: i8,
    /// Round-trip delay to the reference clock.
    pub root_delay: NtpShort,
    /// Dispersion to the reference clock.
    pub root_dispersion: NtpShort,
    /// Reference id: a 4-character code (stratum 0 and 1) or an IPv4 address.
    pub reference_id: [u8; 4],
    /// When the server's clock was last set.
    pub reference_ts: NtpTimestamp,
    /// T1 as echoed by the server (the client's transmit timestamp).
    pub origin_ts: NtpTimestamp,
    /// T2: when the server received the request.
    pub receive_ts: NtpTimestamp,
    /// T3: when the server sent the reply (or the client its request).
    pub transmit_ts: NtpTimestamp,
}

/// Why bytes are not an NTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer than 48 bytes.
    TooShort {
        /// Bytes received.
        len: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooShort { len } => {
                write!(
                    f,
                    "packet of {len} bytes is shorter than the {PACKET_LEN}-byte NTP header"
                )
            }
        }
    }
}

impl std::error::Error for ParseError {}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    (u64::from(u32_at(b, at)) << 32) | u64::from(u32_at(b, at + 4))
}

impl Packet {
    /// Decode the header from the first 48 bytes; anything after is ignored.
    pub fn parse(bytes: &[u8]) -> Result<Packet, ParseError> {
        if bytes.len() < PACKET_LEN {
            return Err(ParseError::TooShort { len: bytes.len() });
        }
        let b = bytes;
        Ok(Packet {
            leap: LeapIndicator::from_bits(b[0] >> 6),
            version: (b[0] >> 3) & 0b111,
            mode: Mode::from_bits(b[0]),
            stratum: b[1],
            poll: b[2] as i8,
            precision: b[3] as i8,
            root_delay: NtpShort(u32_at(b, 4)),
            root_dispersion: NtpShort(u32_at(b, 8)),
            reference_id: [b[12], b[13], b[14], b[15]],
            reference_ts: NtpTimestamp(u64_at(b, 16)),
            origin_ts: NtpTimestamp(u64_at(b, 24)),
            receive_ts: NtpTimestamp(u64_at(b, 32)),
            transmit_ts: NtpTimestamp(u64_at(b, 40)),
        })
    }

    /// Encode the header.
    pub fn encode(&self) -> [u8; PACKET_LEN] {
        let mut b = [0u8; PACKET_LEN];
        b[0] = (self.leap.to_bits() << 6) | ((self.version & 0b111) << 3) | self.mode.to_bits();
        b[1] = self.stratum;
        b[2] = self.poll as u8;
        b[3] = self.precision as u8;
        b[4..8].copy_from_slice(&self.root_delay.0.to_be_bytes());
        b[8..12].copy_from_slice(&self.root_dispersion.0.to_be_bytes());
        b[12..16].copy_from_slice(&self.reference_id);
        b[16..24].copy_from_slice(&self.reference_ts.0.to_be_bytes());
        b[24..32].copy_from_slice(&self.origin_ts.0.to_be_bytes());
        b[32..40].copy_from_slice(&self.receive_ts.0.to_be_bytes());
        b[40..48].copy_from_slice(&self.transmit_ts.0.to_be_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real chronyd 4.3 reply captured on loopback (`local stratum 10`), to a
    /// request whose transmit timestamp was 0x123456789abcdef0.
    const CHRONY_REPLY: [u8; 48] = [
        0x24, 0x0a, 0x00, 0xe6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0x7f, 0x01,
        0x01, 0xee, 0xb0, 0xd0, 0xb8, 0x39, 0xf4, 0xcd, 0x2d, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
        0xde, 0xf0, 0xee, 0xb0, 0xd0, 0xb9, 0xa1, 0xe2, 0x97, 0x41, 0xee, 0xb0, 0xd0, 0xb9, 0xa1,
        0xe7, 0xb9, 0x80,
    ];

    #[test]
    fn leap_bits_round_trip() {
        for bits in 0..4 {
            assert_eq!(LeapIndicator::from_bits(bits).to_bits(), bits);
        }
    }

    #[test]
    fn mode_bits_round_trip() {
        for bits in 0..8 {
            assert_eq!(Mode::from_bits(bits).to_bits(), bits);
        }
    }

    #[test]
    fn decodes_captured_reply() {
        let p = Packet::parse(&CHRONY_REPLY).unwrap();
        assert_eq!(p.leap, LeapIndicator::NoWarning);
        assert_eq!(p.version, 4);
        assert_eq!(p.mode, Mode::Server);
        assert_eq!(p.stratum, 10);
        assert_eq!(p.poll, 0);
        assert_eq!(p.precision, -26);
        assert_eq!(p.reference_id, [127, 127, 1, 1]);
        assert_eq!(p.origin_ts, NtpTimestamp(0x1234_5678_9abc_def0));
        assert!(p.transmit_ts.0 > p.receive_ts.0);
    }

    #[test]
    fn captured_reply_re_encodes_identically() {
        assert_eq!(Packet::parse(&CHRONY_REPLY).unwrap().encode(), CHRONY_REPLY);
    }

    #[test]
    fn rejects_short_packet() {
        assert_eq!(
            Packet::parse(&[0u8; 47]),
            Err(ParseError::TooShort { len: 47 })
        );
        assert!(
            ParseError::TooShort { len: 3 }
                .to_string()
                .contains("3 bytes")
        );
    }

    #[test]
    fn ignores_extension_fields() {
        let mut long = CHRONY_REPLY.to_vec();
        long.extend_from_slice(&[0xab; 20]);
        assert_eq!(
            Packet::parse(&long).unwrap(),
            Packet::parse(&CHRONY_REPLY).unwrap()
        );
    }
}
