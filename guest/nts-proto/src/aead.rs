//! AEAD_AES_SIV_CMAC_256 (RFC 5297), the algorithm NTS-KE negotiates: keys
//! from the TLS exporter, the nonce as the last associated-data component.

use aes_siv::KeyInit;
use aes_siv::siv::Aes128Siv;

/// IANA AEAD id of AEAD_AES_SIV_CMAC_256 (RFC 5297 §6.1; RFC 8915 §5.1 makes it mandatory).
pub const AEAD_AES_SIV_CMAC_256: u16 = 15;

/// Key length of AEAD_AES_SIV_CMAC_256 in bytes (two AES-128 keys).
pub const KEY_LEN: usize = 32;

/// The IANA name of an AEAD id netkit knows, or `AEAD N`.
pub fn aead_name(id: u16) -> String {
    match id {
        AEAD_AES_SIV_CMAC_256 => "AEAD_AES_SIV_CMAC_256".into(),
        16 => "AEAD_AES_SIV_CMAC_384".into(),
        17 => "AEAD_AES_SIV_CMAC_512".into(),
        30 => "AEAD_AES_128_GCM_SIV".into(),
        n => format!("AEAD {n}"),
    }
}

/// One direction's key.
#[derive(Clone)]
pub struct Aead {
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for Aead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Aead(AEAD_AES_SIV_CMAC_256, key hidden)")
    }
}

impl Aead {
    /// A key of exactly [`KEY_LEN`] bytes.
    pub fn new(key: &[u8]) -> Result<Self, String> {
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| {
            format!(
                "an AEAD_AES_SIV_CMAC_256 key is {KEY_LEN} bytes, not {}",
                key.len()
            )
        })?;
        Ok(Self { key })
    }

    /// The key's bytes.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    fn siv(&self) -> Aes128Siv {
        Aes128Siv::new_from_slice(&self.key).expect("the key length is checked in new")
    }

    /// Seal `plaintext` with `associated` data and `nonce`: the 16-byte
    /// synthetic IV followed by the ciphertext.
    pub fn seal(&self, associated: &[u8], nonce: &[u8], plaintext: &[u8]) -> Vec<u8> {
        self.siv()
            .encrypt([associated, nonce], plaintext)
            .expect("two headers and any plaintext are within AES-SIV's limits")
    }

    /// Open what [`Aead::seal`] made; `None` when it does not verify.
    pub fn open(&self, associated: &[u8], nonce: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        self.siv().decrypt([associated, nonce], sealed).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5297 Appendix A.1 (deterministic, one header): the library is the RFC's.
    #[test]
    fn rfc5297_vector() {
        let key: Vec<u8> = (0..32)
            .map(|i| {
                [
                    0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7, 0xf6, 0xf5, 0xf4, 0xf3,
                    0xf2, 0xf1, 0xf0, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
                    0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
                ][i]
            })
            .collect();
        let ad: Vec<u8> = (0x10..=0x27).collect();
        let pt = [
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        ];
        let mut siv = Aes128Siv::new_from_slice(&key).unwrap();
        let out = siv.encrypt([&ad[..]], &pt).unwrap();
        let expect = [
            0x85, 0x63, 0x2d, 0x07, 0xc6, 0xe8, 0xf3, 0x7f, 0x95, 0x0a, 0xcd, 0x32, 0x0a, 0x2e,
            0xcc, 0x93, 0x40, 0xc0, 0x2b, 0x96, 0x90, 0xc4, 0xdc, 0x04, 0xda, 0xef, 0x7f, 0x6a,
            0xfe, 0x5c,
        ];
        assert_eq!(out, expect);
    }

    #[test]
    fn seal_open_and_tamper() {
        let a = Aead::new(&[7u8; 32]).unwrap();
        let sealed = a.seal(b"header", b"nonce-0123456789", b"cookies");
        assert_eq!(sealed.len(), 16 + 7);
        assert_eq!(
            a.open(b"header", b"nonce-0123456789", &sealed).unwrap(),
            b"cookies"
        );
        assert!(a.open(b"headeR", b"nonce-0123456789", &sealed).is_none());
        assert!(a.open(b"header", b"nonce-0123456788", &sealed).is_none());
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        assert!(a.open(b"header", b"nonce-0123456789", &bad).is_none());
        assert!(
            a.open(b"header", b"nonce-0123456789", &sealed[..10])
                .is_none()
        );
        let other = Aead::new(&[8u8; 32]).unwrap();
        assert!(
            other
                .open(b"header", b"nonce-0123456789", &sealed)
                .is_none()
        );
        assert!(
            Aead::new(&[0; 16])
                .unwrap_err()
                .contains("32 bytes, not 16")
        );
    }
}
