//! ICMP echo on the wire, and what the kernel says beside it: pure functions
//! over bytes, so that every path is unit-tested without a socket.
//!
//! On an ICMP datagram socket the kernel writes the identifier and the
//! checksum of a request and delivers replies without their IP header, so an
//! echo message here is the 8-byte ICMP header and the payload. What the kernel
//! adds (the reply's TTL, its arrival time, an ICMP error about a request and
//! who sent it) comes as control messages, parsed here from their bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bytes of the ICMP echo header: type, code, checksum, identifier, sequence.
pub const HEADER: usize = 8;
/// The largest echo payload: an IPv4 datagram of 65535 bytes less its 20-byte
/// header and the ICMP header.
pub const MAX_PAYLOAD_V4: usize = 65535 - 20 - HEADER;
/// The largest ICMPv6 echo payload: a 65535-byte IPv6 payload less the ICMP header.
pub const MAX_PAYLOAD_V6: usize = 65535 - HEADER;

/// ICMP types of echo request and reply, by family.
fn echo_types(v6: bool) -> (u8, u8) {
    if v6 { (128, 129) } else { (8, 0) }
}

/// An echo request with sequence number `seq` and `payload` (identifier and
/// checksum left zero: the kernel fills them in).
pub fn request(v6: bool, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(HEADER + payload.len());
    packet.extend_from_slice(&[echo_types(v6).0, 0, 0, 0, 0, 0]);
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

/// An echo reply as received: its sequence number and payload, if `message`
/// is one (anything else the socket delivers is not).
pub fn reply(v6: bool, message: &[u8]) -> Option<(u16, &[u8])> {
    if message.len() < HEADER || message[0] != echo_types(v6).1 || message[1] != 0 {
        return None;
    }
    Some((
        u16::from_be_bytes([message[6], message[7]]),
        &message[HEADER..],
    ))
}

/// The sequence number of our own request as an ICMP error quotes it (the
/// error queue hands back the request that caused the error).
pub fn quoted_request(v6: bool, message: &[u8]) -> Option<u16> {
    if message.len() < HEADER || message[0] != echo_types(v6).0 {
        return None;
    }
    Some(u16::from_be_bytes([message[6], message[7]]))
}

/// What one receive's control messages said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ancillary {
    /// The reply's IPv4 TTL or IPv6 hop limit.
    pub hop_limit: Option<u8>,
    /// When the kernel received it: Unix nanoseconds (CLOCK_REALTIME).
    pub received_unix_ns: Option<i128>,
    /// An extended error from the error queue.
    pub error: Option<ExtendedError>,
}

/// A `sock_extended_err` and the address that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedError {
    /// `SO_EE_ORIGIN_*`: 2 = ICMP, 3 = ICMPv6, 1 = local.
    pub origin: u8,
    /// The ICMP type and code.
    pub icmp_type: u8,
    pub icmp_code: u8,
    /// The errno the kernel maps it to.
    pub errno: u32,
    /// Who sent the ICMP error (`SO_EE_OFFENDER`), when given.
    pub offender: Option<IpAddr>,
}

/// ICMP from an IPv4 or IPv6 router or host.
pub const ORIGIN_ICMP: u8 = 2;
/// ICMPv6.
pub const ORIGIN_ICMP6: u8 = 3;

/// What an ICMP error says, by family and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpKind {
    /// Destination unreachable.
    Unreachable,
    /// Time exceeded in transit.
    TimeExceeded,
    /// Anything else.
    Other,
}

/// The kind of an ICMP error of `icmp_type`.
pub fn icmp_kind(v6: bool, icmp_type: u8) -> IcmpKind {
    match (v6, icmp_type) {
        (false, 3) | (true, 1) => IcmpKind::Unreachable,
        (false, 11) | (true, 3) => IcmpKind::TimeExceeded,
        _ => IcmpKind::Other,
    }
}

const LEVEL_SOCKET: i32 = libc::SOL_SOCKET;
const LEVEL_IP: i32 = libc::SOL_IP;
const LEVEL_IPV6: i32 = libc::SOL_IPV6;

/// Read a native-endian integer of `N` bytes at `at`, if it is there.
fn bytes<const N: usize>(data: &[u8], at: usize) -> Option<[u8; N]> {
    data.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Parse the control messages of one `recvmsg` (the `cmsghdr` layout of this
/// platform: a `size_t` length, two `int`s, data aligned to `size_t`).
pub fn ancillary(control: &[u8]) -> Ancillary {
    let word = std::mem::size_of::<usize>();
    let align = |n: usize| n.div_ceil(word) * word;
    let header = align(word + 8);
    let mut out = Ancillary::default();
    let mut at = 0;
    while let Some(len) = bytes::<{ std::mem::size_of::<usize>() }>(control, at) {
        let len = usize::from_ne_bytes(len);
        let (Some(level), Some(kind)) = (
            bytes::<4>(control, at + word),
            bytes::<4>(control, at + word + 4),
        ) else {
            break;
        };
        if len < header || at + len > control.len() {
            break;
        }
        let data = &control[at + header..at + len];
        let int = || bytes::<4>(data, 0).map(i32::from_ne_bytes);
        match (i32::from_ne_bytes(level), i32::from_ne_bytes(kind)) {
            (LEVEL_IP, libc::IP_TTL) | (LEVEL_IPV6, libc::IPV6_HOPLIMIT) => {
                out.hop_limit = int().and_then(|v| u8::try_from(v).ok());
            }
            (LEVEL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                if let (Some(s), Some(ns)) = (bytes::<8>(data, 0), bytes::<8>(data, 8)) {
                    let (s, ns) = (i64::from_ne_bytes(s), i64::from_ne_bytes(ns));
                    out.received_unix_ns = Some(i128::from(s) * 1_000_000_000 + i128::from(ns));
                }
            }
            (LEVEL_IP, libc::IP_RECVERR) | (LEVEL_IPV6, libc::IPV6_RECVERR) => {
                out.error = extended_error(data);
            }
            _ => {}
        }
        at += align(len);
    }
    out
}

/// A `sock_extended_err` followed by the offender's `sockaddr_in` or `sockaddr_in6`.
fn extended_error(data: &[u8]) -> Option<ExtendedError> {
    let errno = u32::from_ne_bytes(bytes::<4>(data, 0)?);
    let [origin, icmp_type, icmp_code, _pad] = bytes::<4>(data, 4)?;
    // ee_info and ee_data, then SO_EE_OFFENDER.
    let addr = data.get(16..).unwrap_or_default();
    let offender = match bytes::<2>(addr, 0).map(u16::from_ne_bytes).map(i32::from) {
        Some(libc::AF_INET) => bytes::<4>(addr, 4).map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        Some(libc::AF_INET6) => bytes::<16>(addr, 8).map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        _ => None,
    };
    Some(ExtendedError {
        origin,
        icmp_type,
        icmp_code,
        errno,
        offender,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One control message as the kernel lays it out.
    fn cmsg(level: i32, kind: i32, data: &[u8]) -> Vec<u8> {
        let word = std::mem::size_of::<usize>();
        let header = (word + 8).div_ceil(word) * word;
        let len = header + data.len();
        let mut out = Vec::new();
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&level.to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.resize(header, 0);
        out.extend_from_slice(data);
        out.resize(len.div_ceil(word) * word, 0);
        out
    }

    #[test]
    fn requests_carry_type_sequence_and_payload() {
        assert_eq!(
            request(false, 0x0102, b"ab"),
            [8, 0, 0, 0, 0, 0, 1, 2, b'a', b'b']
        );
        assert_eq!(request(true, 7, b"")[0], 128);
    }

    #[test]
    fn only_echo_replies_are_replies() {
        let mut m = request(false, 9, b"xyz");
        assert_eq!(reply(false, &m), None, "a request is no reply");
        m[0] = 0;
        assert_eq!(reply(false, &m), Some((9, &b"xyz"[..])));
        assert_eq!(reply(true, &m), None, "an ICMPv4 reply on an IPv6 socket");
        m[1] = 1;
        assert_eq!(reply(false, &m), None, "code must be 0");
        assert_eq!(reply(false, &m[..7]), None, "short");
        let mut v6 = request(true, 65535, b"");
        v6[0] = 129;
        assert_eq!(reply(true, &v6), Some((65535, &b""[..])));
        assert_eq!(quoted_request(true, &request(true, 4, b"p")), Some(4));
        assert_eq!(quoted_request(false, &v6), None);
    }

    #[test]
    fn control_messages_give_ttl_time_and_errors() {
        let mut control = cmsg(LEVEL_IP, libc::IP_TTL, &64i32.to_ne_bytes());
        let mut ts = 1_700_000_000i64.to_ne_bytes().to_vec();
        ts.extend_from_slice(&123_456_789i64.to_ne_bytes());
        control.extend(cmsg(LEVEL_SOCKET, libc::SCM_TIMESTAMPNS, &ts));
        let a = ancillary(&control);
        assert_eq!(a.hop_limit, Some(64));
        assert_eq!(a.received_unix_ns, Some(1_700_000_000_123_456_789));
        assert_eq!(a.error, None);

        let mut err = 113u32.to_ne_bytes().to_vec(); // EHOSTUNREACH
        err.extend_from_slice(&[ORIGIN_ICMP, 3, 1, 0]);
        err.extend_from_slice(&[0; 8]);
        err.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        err.extend_from_slice(&[0, 0, 127, 0, 0, 9]);
        err.extend_from_slice(&[0; 8]);
        let a = ancillary(&cmsg(LEVEL_IP, libc::IP_RECVERR, &err));
        let e = a.error.unwrap();
        assert_eq!(
            (e.origin, e.icmp_type, e.icmp_code, e.errno),
            (2, 3, 1, 113)
        );
        assert_eq!(e.offender, Some("127.0.0.9".parse().unwrap()));
        assert_eq!(icmp_kind(false, e.icmp_type), IcmpKind::Unreachable);

        let mut err6 = 0u32.to_ne_bytes().to_vec();
        err6.extend_from_slice(&[ORIGIN_ICMP6, 3, 0, 0]);
        err6.extend_from_slice(&[0; 8]);
        err6.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        err6.extend_from_slice(&[0; 6]);
        err6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        err6.extend_from_slice(&[0; 4]);
        let mut hop = cmsg(LEVEL_IPV6, libc::IPV6_HOPLIMIT, &3i32.to_ne_bytes());
        hop.extend(cmsg(LEVEL_IPV6, libc::IPV6_RECVERR, &err6));
        let a = ancillary(&hop);
        assert_eq!(a.hop_limit, Some(3));
        let e = a.error.unwrap();
        assert_eq!(e.offender, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(icmp_kind(true, e.icmp_type), IcmpKind::TimeExceeded);
    }

    #[test]
    fn malformed_control_messages_are_ignored() {
        assert_eq!(ancillary(&[]), Ancillary::default());
        assert_eq!(ancillary(&[0xff; 7]), Ancillary::default());
        // A length running past the buffer, and a length shorter than a header.
        let mut bad = cmsg(LEVEL_IP, libc::IP_TTL, &64i32.to_ne_bytes());
        bad[0] = 200;
        assert_eq!(ancillary(&bad), Ancillary::default());
        let mut short = cmsg(LEVEL_IP, libc::IP_TTL, &64i32.to_ne_bytes());
        short[..8].copy_from_slice(&3usize.to_ne_bytes());
        assert_eq!(ancillary(&short), Ancillary::default());
        // A TTL out of range, a truncated error.
        let a = ancillary(&cmsg(LEVEL_IP, libc::IP_TTL, &300i32.to_ne_bytes()));
        assert_eq!(a.hop_limit, None);
        let a = ancillary(&cmsg(LEVEL_IP, libc::IP_RECVERR, &[1, 2, 3]));
        assert_eq!(a.error, None);
        // Pseudo-random bytes never panic.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..2000 {
            let buf: Vec<u8> = (0..n % 97)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = ancillary(&buf);
        }
    }
}
