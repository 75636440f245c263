//! NTP extension fields (RFC 7822) as NTS uses them (RFC 8915 §5): a 16-bit
//! type, a 16-bit length that counts the whole field (header and padding, a
//! multiple of 4), the value padded with zeros.

use std::fmt;

/// Unique Identifier (RFC 8915 §5.3).
pub const UNIQUE_IDENTIFIER: u16 = 0x0104;
/// NTS Cookie (§5.4).
pub const COOKIE: u16 = 0x0204;
/// NTS Cookie Placeholder (§5.5).
pub const COOKIE_PLACEHOLDER: u16 = 0x0304;
/// NTS Authenticator and Encrypted Extension Fields (§5.6).
pub const AUTHENTICATOR: u16 = 0x0404;

/// Length of the unique identifier netkit sends (§5.3: at least 32 bytes).
pub const UNIQUE_ID_LEN: usize = 32;
/// Length of the nonce netkit sends in its authenticator (AES-SIV: at least 16).
pub const NONCE_LEN: usize = 16;

/// One field as found: its type, where it starts in the buffer, and its value (padding included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field type.
    pub kind: u16,
    /// Offset of the field's header in the buffer that was read.
    pub start: usize,
    /// The value, with its padding.
    pub value: &'a [u8],
}

/// Why extension fields could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EfError {
    /// Fewer than 4 bytes where a field header should be.
    Truncated {
        /// Offset of the bad field.
        at: usize,
    },
    /// A length that is below 4, not a multiple of 4, or past the end.
    BadLength {
        /// Offset of the bad field.
        at: usize,
        /// The length it claimed.
        length: usize,
    },
}

impl fmt::Display for EfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EfError::Truncated { at } => {
                write!(f, "extension field at byte {at} is cut short")
            }
            EfError::BadLength { at, length } => write!(
                f,
                "extension field at byte {at} claims length {length} (at least 4, a multiple of 4, within the packet)"
            ),
        }
    }
}

/// Read the fields of `bytes` (from `offset` on) to its end.
pub fn parse(bytes: &[u8], offset: usize) -> Result<Vec<Field<'_>>, EfError> {
    let mut fields = Vec::new();
    let mut at = offset;
    while at < bytes.len() {
        let Some(head) = bytes.get(at..at + 4) else {
            return Err(EfError::Truncated { at });
        };
        let kind = u16::from_be_bytes([head[0], head[1]]);
        let length = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if length < 4 || !length.is_multiple_of(4) || at + length > bytes.len() {
            return Err(EfError::BadLength { at, length });
        }
        fields.push(Field {
            kind,
            start: at,
            value: &bytes[at + 4..at + length],
        });
        at += length;
    }
    Ok(fields)
}

/// Append one field of `kind` with `value`, zero-padded to a multiple of 4.
pub fn push(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let padded = value.len().div_ceil(4) * 4;
    let length = u16::try_from(4 + padded).expect("netkit's fields are far below 64 KiB");
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + padded - value.len(), 0);
}

/// The authenticator's value (§5.6): nonce length, ciphertext length, the
/// nonce and the ciphertext each padded to 4 bytes.
pub fn authenticator_value(nonce: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + nonce.len() + ciphertext.len() + 6);
    v.extend_from_slice(&(nonce.len() as u16).to_be_bytes());
    v.extend_from_slice(&(ciphertext.len() as u16).to_be_bytes());
    v.extend_from_slice(nonce);
    v.resize(v.len().div_ceil(4) * 4, 0);
    v.extend_from_slice(ciphertext);
    v.resize(v.len().div_ceil(4) * 4, 0);
    v
}

/// The nonce and ciphertext of an authenticator's value, or why not.
pub fn read_authenticator(value: &[u8]) -> Result<(&[u8], &[u8]), String> {
    if value.len() < 4 {
        return Err("the authenticator field is too short for its lengths".into());
    }
    let nonce_len = usize::from(u16::from_be_bytes([value[0], value[1]]));
    let cipher_len = usize::from(u16::from_be_bytes([value[2], value[3]]));
    let nonce_end = 4 + nonce_len;
    let cipher_start = 4 + nonce_len.div_ceil(4) * 4;
    let cipher_end = cipher_start + cipher_len;
    if cipher_end > value.len() {
        return Err(format!(
            "the authenticator claims a {nonce_len}-byte nonce and {cipher_len} bytes of ciphertext, more than its {} bytes",
            value.len()
        ));
    }
    if cipher_len < 16 {
        return Err(format!(
            "the authenticator's ciphertext is {cipher_len} bytes, shorter than AES-SIV's 16-byte tag"
        ));
    }
    Ok((&value[4..nonce_end], &value[cipher_start..cipher_end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pads_and_parse_reads_back() {
        let mut b = vec![0xAA; 48];
        push(&mut b, UNIQUE_IDENTIFIER, &[1; 32]);
        push(&mut b, COOKIE, &[2; 5]);
        push(&mut b, COOKIE_PLACEHOLDER, &[]);
        assert_eq!(b.len(), 48 + 36 + 12 + 4);
        let f = parse(&b, 48).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f[0].kind, f[0].start, f[0].value.len()),
            (UNIQUE_IDENTIFIER, 48, 32)
        );
        assert_eq!(f[1].kind, COOKIE);
        assert_eq!(f[1].value, &[2, 2, 2, 2, 2, 0, 0, 0]);
        assert_eq!((f[2].kind, f[2].value.len()), (COOKIE_PLACEHOLDER, 0));
        assert!(parse(&b, b.len()).unwrap().is_empty());
    }

    #[test]
    fn bad_fields_are_named() {
        let mut b = vec![0; 48];
        b.extend_from_slice(&[0x01, 0x04, 0x00]);
        assert_eq!(parse(&b, 48), Err(EfError::Truncated { at: 48 }));
        for length in [0u16, 2, 6, 12] {
            let mut b = vec![0; 48];
            b.extend_from_slice(&[0x01, 0x04]);
            b.extend_from_slice(&length.to_be_bytes());
            b.extend_from_slice(&[0; 4]);
            let e = parse(&b, 48).unwrap_err();
            assert_eq!(
                e,
                EfError::BadLength {
                    at: 48,
                    length: length.into()
                }
            );
            assert!(e.to_string().contains("byte 48"), "{e}");
        }
    }

    #[test]
    fn authenticator_round_trip_and_bounds() {
        let v = authenticator_value(&[9; 16], &[7; 21]);
        assert_eq!(v.len(), 4 + 16 + 24);
        let (n, c) = read_authenticator(&v).unwrap();
        assert_eq!((n, c), (&[9u8; 16][..], &[7u8; 21][..]));
        // Odd nonce lengths are padded before the ciphertext.
        let v = authenticator_value(&[1; 13], &[2; 16]);
        let (n, c) = read_authenticator(&v).unwrap();
        assert_eq!((n.len(), c), (13, &[2u8; 16][..]));
        assert!(read_authenticator(&[0, 16]).is_err());
        let mut big = authenticator_value(&[1; 16], &[2; 16]);
        big[2..4].copy_from_slice(&200u16.to_be_bytes());
        assert!(read_authenticator(&big).unwrap_err().contains("more than"));
        let short = authenticator_value(&[1; 16], &[2; 8]);
        assert!(
            read_authenticator(&short)
                .unwrap_err()
                .contains("16-byte tag")
        );
    }

    /// Pseudo-random bytes never panic the reader (the fuzz target does more).
    #[test]
    fn random_bytes_do_not_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 200) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| (x.rotate_left(i as u32 % 64) >> 3) as u8)
                .collect();
            if let Ok(fields) = parse(&bytes, 0) {
                for f in fields {
                    let _ = read_authenticator(f.value);
                }
            }
        }
    }
}
