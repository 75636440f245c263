//! `--send-hex` / `--expect-hex` payloads and the hex dump of a reply.

/// Bytes from hex text: pairs of hex digits, optionally separated by spaces,
/// colons or dashes, with an optional `0x` prefix (`"de ad be ef"`, `"0xdeadbeef"`).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let body = text.trim();
    let body = body
        .strip_prefix("0x")
        .or_else(|| body.strip_prefix("0X"))
        .unwrap_or(body);
    let digits: Vec<u8> = body
        .bytes()
        .filter(|b| !matches!(b, b' ' | b':' | b'-' | b'\t'))
        .collect();
    if digits.is_empty() {
        return Err("no hex digits (e.g. --send-hex 'de ad be ef')".into());
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "{} hex digits: bytes need two each (e.g. 0a, not a)",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).unwrap_or("??");
            u8::from_str_radix(s, 16).map_err(|_| format!("{s:?} is not a hex byte"))
        })
        .collect()
}

/// A `hexdump -C`-style dump: offset, 16 bytes in hex, the printable ones as text.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!(
            "{:08x}  {:<47}  |{text}|\n",
            i * 16,
            hex.join(" ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_the_usual_spellings() {
        let want = vec![0xde, 0xad, 0xbe, 0xef];
        for text in [
            "deadbeef",
            "de ad be ef",
            "0xDEADBEEF",
            "de:ad:be:ef",
            "de-ad-be-ef",
        ] {
            assert_eq!(parse_hex(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn bad_hex_is_named() {
        assert!(parse_hex("abc").unwrap_err().contains("3 hex digits"));
        assert!(parse_hex("zz").unwrap_err().contains("\"zz\""));
        assert!(parse_hex("").unwrap_err().contains("no hex digits"));
    }

    #[test]
    fn dump_shows_offsets_hex_and_text() {
        let d = hex_dump(b"hello\x00world, this is long");
        assert!(d.starts_with("00000000  68 65 6c 6c 6f 00 77 6f"), "{d}");
        assert!(d.contains("|hello.world, thi|"), "{d}");
        assert!(d.contains("00000010  "), "{d}");
    }
}
