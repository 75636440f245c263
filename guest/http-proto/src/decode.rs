//! Content-Encoding: gzip, deflate and br, never past the limit (a small
//! compressed body can claim to expand without end).

use std::io::Read;

/// The body decoded by `encoding` (`None`, `identity`: as is), at most `max` bytes.
pub fn decode(encoding: Option<&str>, body: &[u8], max: u64) -> Result<Vec<u8>, String> {
    let enc = encoding.map(|e| e.trim().to_ascii_lowercase());
    let mut out = Vec::new();
    let result = match enc.as_deref() {
        None | Some("") | Some("identity") => return Ok(body.to_vec()),
        Some("gzip") | Some("x-gzip") => flate2::read::MultiGzDecoder::new(body)
            .take(max + 1)
            .read_to_end(&mut out),
        Some("deflate") => {
            // RFC 9110 says zlib; some servers send raw deflate.
            let zlib = flate2::read::ZlibDecoder::new(body)
                .take(max + 1)
                .read_to_end(&mut out);
            if zlib.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(body)
                    .take(max + 1)
                    .read_to_end(&mut out)
            } else {
                zlib
            }
        }
        Some("br") => brotli_decompressor::Decompressor::new(body, 4096)
            .take(max + 1)
            .read_to_end(&mut out),
        Some(other) => {
            return Err(format!(
                "unsupported Content-Encoding {other:?} (netkit decodes gzip, deflate and br)"
            ));
        }
    };
    result.map_err(|e| format!("the {} body does not decode: {e}", enc.unwrap_or_default()))?;
    if out.len() as u64 > max {
        return Err(format!(
            "the decoded body is larger than the limit of {max} bytes"
        ));
    }
    Ok(out)
}
