//! The NTS part of a report, in words, for every front end.

use sntp_proto::duration_text;

/// `authenticated (NTS): key exchange with 127.0.0.1:4460 in 3.2 ms, time from
/// 127.0.0.1:123, AEAD_AES_SIV_CMAC_256, 8 cookies left`.
pub fn summary(ke_server: &str, ntp_server: &str, aead: &str, cookies: u32, ke_ns: u64) -> String {
    let ke = if ke_ns == 0 {
        format!("cookies kept from a key exchange with {ke_server}")
    } else {
        format!("key exchange with {ke_server} in {}", duration_text(ke_ns))
    };
    format!(
        "authenticated (NTS): {ke}, time from {ntp_server}, {aead}, {cookies} cookie{} left",
        if cookies == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn summary_reads() {
        assert_eq!(
            super::summary(
                "127.0.0.1:4460",
                "127.0.0.1:123",
                "AEAD_AES_SIV_CMAC_256",
                8,
                3_200_000
            ),
            "authenticated (NTS): key exchange with 127.0.0.1:4460 in 3.2 ms, time from 127.0.0.1:123, AEAD_AES_SIV_CMAC_256, 8 cookies left"
        );
        assert!(
            super::summary("k", "n", "a", 1, 0)
                .contains("cookies kept from a key exchange with k, time from n, a, 1 cookie left")
        );
    }
}
