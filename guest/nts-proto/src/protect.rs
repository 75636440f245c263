//! An NTS-protected NTP packet (RFC 8915 §5): the 48-byte header, then
//! extension fields. A client's request carries a Unique Identifier, one
//! cookie, placeholders asking for more, and an authenticator over everything
//! before it. A server's reply echoes the identifier and seals fresh cookies
//! under the server-to-client key. The server side is here too, for the
//! scripted servers netkit's tests run.

use crate::Aead;
use crate::ef::{self, AUTHENTICATOR, COOKIE, COOKIE_PLACEHOLDER, Field, UNIQUE_IDENTIFIER};
use sntp_proto::PACKET_LEN;
use std::fmt;

/// Why a reply was not accepted as NTS-authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not a header plus well-formed extension fields.
    Malformed(String),
    /// No Unique Identifier, or not the one of a request still waiting.
    UniqueIdMismatch,
    /// A Kiss-o'-Death NTSN: the server could not use the cookie.
    Nak,
    /// No authenticator before any other content, or none at all.
    NoAuthenticator,
    /// The authenticator does not verify under the server-to-client key.
    AuthFailed,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Malformed(why) => write!(f, "NTS extension fields: {why}"),
            Rejection::UniqueIdMismatch => f.write_str("unique identifier does not match"),
            Rejection::Nak => f.write_str(
                "NTS NAK: the server refused the cookie (kiss-o'-death NTSN); key exchange again",
            ),
            Rejection::NoAuthenticator => f.write_str("the reply has no NTS authenticator"),
            Rejection::AuthFailed => f.write_str("authenticator does not verify"),
        }
    }
}

/// Build a protected request: `header` (sntp-proto's request), then the
/// unique identifier, `cookie`, `placeholders` placeholders of the cookie's
/// size, and the authenticator sealed with `c2s` and `nonce`.
pub fn request(
    header: &[u8; PACKET_LEN],
    unique_id: &[u8],
    cookie: &[u8],
    placeholders: usize,
    c2s: &Aead,
    nonce: &[u8],
) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(PACKET_LEN + 40 + (1 + placeholders) * (cookie.len() + 8) + 48);
    out.extend_from_slice(header);
    ef::push(&mut out, UNIQUE_IDENTIFIER, unique_id);
    ef::push(&mut out, COOKIE, cookie);
    let zeros = vec![0u8; cookie.len()];
    for _ in 0..placeholders {
        ef::push(&mut out, COOKIE_PLACEHOLDER, &zeros);
    }
    let tag = c2s.seal(&out, nonce, &[]);
    ef::push(
        &mut out,
        AUTHENTICATOR,
        &ef::authenticator_value(nonce, &tag),
    );
    out
}

/// The fields after the header, or why not.
fn fields(bytes: &[u8]) -> Result<Vec<Field<'_>>, Rejection> {
    if bytes.len() < PACKET_LEN {
        return Err(Rejection::Malformed(format!(
            "{} bytes is shorter than an NTP header",
            bytes.len()
        )));
    }
    ef::parse(bytes, PACKET_LEN).map_err(|e| Rejection::Malformed(e.to_string()))
}

/// The Unique Identifier's value (padding included) of a packet, if it has one.
pub fn unique_id(bytes: &[u8]) -> Result<Option<&[u8]>, Rejection> {
    Ok(fields(bytes)?
        .into_iter()
        .find(|f| f.kind == UNIQUE_IDENTIFIER)
        .map(|f| f.value))
}

/// Whether a reply header is Kiss-o'-Death NTSN (stratum 0, reference id `NTSN`).
pub fn is_nak(bytes: &[u8]) -> bool {
    bytes.len() >= PACKET_LEN && bytes[1] == 0 && &bytes[12..16] == b"NTSN"
}

/// Authenticate a reply under `s2c`: its authenticator must verify over
/// everything before it, and the unique identifier must be among what it
/// covers. The fresh cookies it sealed, in order.
pub fn open_reply(bytes: &[u8], unique_id: &[u8], s2c: &Aead) -> Result<Vec<Vec<u8>>, Rejection> {
    let fields = fields(bytes)?;
    let auth = fields
        .iter()
        .find(|f| f.kind == AUTHENTICATOR)
        .ok_or(Rejection::NoAuthenticator)?;
    let covered = fields
        .iter()
        .take_while(|f| f.start < auth.start)
        .any(|f| f.kind == UNIQUE_IDENTIFIER && f.value == unique_id);
    if !covered {
        return Err(Rejection::UniqueIdMismatch);
    }
    let (nonce, sealed) = ef::read_authenticator(auth.value).map_err(Rejection::Malformed)?;
    let plain = s2c
        .open(&bytes[..auth.start], nonce, sealed)
        .ok_or(Rejection::AuthFailed)?;
    let inner = ef::parse(&plain, 0)
        .map_err(|e| Rejection::Malformed(format!("inside the authenticator: {e}")))?;
    Ok(inner
        .into_iter()
        .filter(|f| f.kind == COOKIE && !f.value.is_empty())
        .map(|f| f.value.to_vec())
        .collect())
}

/// A client's request as a server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest<'a> {
    /// The Unique Identifier's value.
    pub unique_id: &'a [u8],
    /// The cookie.
    pub cookie: &'a [u8],
    /// How many placeholders asked for more cookies.
    pub placeholders: usize,
    /// Where the authenticator starts (what it covers ends there).
    pub auth_start: usize,
    /// The authenticator's nonce and sealed tag.
    pub nonce: &'a [u8],
    /// The authenticator's ciphertext.
    pub sealed: &'a [u8],
}

/// Read a protected request (server side).
pub fn read_request(bytes: &[u8]) -> Result<ClientRequest<'_>, Rejection> {
    let fields = fields(bytes)?;
    let find = |kind| fields.iter().find(|f| f.kind == kind);
    let auth = find(AUTHENTICATOR).ok_or(Rejection::NoAuthenticator)?;
    let (nonce, sealed) = ef::read_authenticator(auth.value).map_err(Rejection::Malformed)?;
    Ok(ClientRequest {
        unique_id: find(UNIQUE_IDENTIFIER)
            .ok_or(Rejection::UniqueIdMismatch)?
            .value,
        cookie: find(COOKIE)
            .ok_or_else(|| Rejection::Malformed("no cookie".into()))?
            .value,
        placeholders: fields
            .iter()
            .filter(|f| f.kind == COOKIE_PLACEHOLDER)
            .count(),
        auth_start: auth.start,
        nonce,
        sealed,
    })
}

/// Whether a request's authenticator verifies under `c2s` (server side).
pub fn request_verifies(bytes: &[u8], request: &ClientRequest<'_>, c2s: &Aead) -> bool {
    c2s.open(&bytes[..request.auth_start], request.nonce, request.sealed)
        .is_some_and(|p| p.is_empty())
}

/// A protected reply (server side): `header`, the echoed identifier, and
/// `cookies` sealed under `s2c` with `nonce`.
pub fn reply(
    header: &[u8; PACKET_LEN],
    unique_id: &[u8],
    cookies: &[Vec<u8>],
    s2c: &Aead,
    nonce: &[u8],
) -> Vec<u8> {
    let mut out = header.to_vec();
    ef::push(&mut out, UNIQUE_IDENTIFIER, unique_id);
    let mut plain = Vec::new();
    for c in cookies {
        ef::push(&mut plain, COOKIE, c);
    }
    let sealed = s2c.seal(&out, nonce, &plain);
    ef::push(
        &mut out,
        AUTHENTICATOR,
        &ef::authenticator_value(nonce, &sealed),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (Aead, Aead) {
        (Aead::new(&[1; 32]).unwrap(), Aead::new(&[2; 32]).unwrap())
    }

    fn header(mode: u8) -> [u8; PACKET_LEN] {
        let mut h = [0u8; PACKET_LEN];
        h[0] = 0x20 | mode;
        h[1] = 2;
        h
    }

    #[test]
    fn request_is_read_and_verified_by_a_server() {
        let (c2s, _) = keys();
        let bytes = request(&header(3), &[5; 32], &[9; 100], 3, &c2s, &[7; 16]);
        // Header, uid 36, cookie 104, three placeholders 312, authenticator 4+4+16+16.
        assert_eq!(bytes.len(), 48 + 36 + 104 + 3 * 104 + 40);
        let r = read_request(&bytes).unwrap();
        assert_eq!(
            (r.unique_id, r.cookie.len(), r.placeholders),
            (&[5u8; 32][..], 100, 3)
        );
        assert!(request_verifies(&bytes, &r, &c2s));
        assert!(!request_verifies(&bytes, &r, &Aead::new(&[3; 32]).unwrap()));
        let mut tampered = bytes.clone();
        tampered[60] ^= 1;
        let t = read_request(&tampered).unwrap();
        assert!(!request_verifies(&tampered, &t, &c2s));
    }

    #[test]
    fn reply_opens_with_its_cookies() {
        let (_, s2c) = keys();
        let cookies = vec![vec![1u8; 100], vec![2u8; 100]];
        let bytes = reply(&header(4), &[5; 32], &cookies, &s2c, &[8; 16]);
        assert_eq!(unique_id(&bytes).unwrap(), Some(&[5u8; 32][..]));
        assert_eq!(open_reply(&bytes, &[5; 32], &s2c).unwrap(), cookies);
        assert!(!is_nak(&bytes));
    }

    #[test]
    fn every_tampering_is_refused_by_name() {
        let (c2s, s2c) = keys();
        let good = reply(&header(4), &[5; 32], &[vec![1; 64]], &s2c, &[8; 16]);
        // The wrong key (the client-to-server one): forged.
        assert_eq!(
            open_reply(&good, &[5; 32], &c2s),
            Err(Rejection::AuthFailed)
        );
        // Another request's identifier.
        assert_eq!(
            open_reply(&good, &[6; 32], &s2c),
            Err(Rejection::UniqueIdMismatch)
        );
        // Any bit of the header or the identifier changed.
        for at in [0, 7, 40, 47, 52, 80] {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            let e = open_reply(&bad, &[5; 32], &s2c).unwrap_err();
            assert!(
                matches!(e, Rejection::AuthFailed | Rejection::UniqueIdMismatch),
                "byte {at}: {e:?}"
            );
        }
        // The sealed cookies changed.
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 3] ^= 1;
        assert_eq!(open_reply(&bad, &[5; 32], &s2c), Err(Rejection::AuthFailed));
        // No authenticator at all.
        let mut bare = header(4).to_vec();
        ef::push(&mut bare, UNIQUE_IDENTIFIER, &[5; 32]);
        assert_eq!(
            open_reply(&bare, &[5; 32], &s2c),
            Err(Rejection::NoAuthenticator)
        );
        // The identifier only after the authenticator: not covered.
        let mut after = header(4).to_vec();
        let sealed = s2c.seal(&after, &[8; 16], &[]);
        ef::push(
            &mut after,
            AUTHENTICATOR,
            &ef::authenticator_value(&[8; 16], &sealed),
        );
        ef::push(&mut after, UNIQUE_IDENTIFIER, &[5; 32]);
        assert_eq!(
            open_reply(&after, &[5; 32], &s2c),
            Err(Rejection::UniqueIdMismatch)
        );
        // Broken fields.
        let mut cut = good.clone();
        cut.truncate(good.len() - 2);
        assert!(matches!(
            open_reply(&cut, &[5; 32], &s2c),
            Err(Rejection::Malformed(_))
        ));
        assert!(matches!(
            open_reply(&good[..20], &[5; 32], &s2c),
            Err(Rejection::Malformed(_))
        ));
        for r in [
            Rejection::AuthFailed,
            Rejection::UniqueIdMismatch,
            Rejection::Nak,
            Rejection::NoAuthenticator,
        ] {
            assert!(!r.to_string().is_empty());
        }
        assert_eq!(
            Rejection::AuthFailed.to_string(),
            "authenticator does not verify"
        );
        assert_eq!(
            Rejection::UniqueIdMismatch.to_string(),
            "unique identifier does not match"
        );
        assert!(Rejection::Nak.to_string().starts_with("NTS NAK"));
    }

    #[test]
    fn nak_is_recognised() {
        let mut h = header(4);
        h[1] = 0;
        h[12..16].copy_from_slice(b"NTSN");
        let mut bytes = h.to_vec();
        ef::push(&mut bytes, UNIQUE_IDENTIFIER, &[5; 32]);
        assert!(is_nak(&bytes));
        assert_eq!(unique_id(&bytes).unwrap(), Some(&[5u8; 32][..]));
        h[12..16].copy_from_slice(b"RATE");
        assert!(!is_nak(&h));
    }
}
