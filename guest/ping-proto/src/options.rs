//! What a ping run is asked to do, checked once.

/// iputils' default payload: 56 bytes, 64 with the ICMP header.
pub const DEFAULT_PAYLOAD: u32 = 56;
/// The shortest interval iputils allows a user who is not root: 200 ms.
pub const MIN_USER_INTERVAL_NS: u64 = 200_000_000;
/// The largest echo payload over IPv4 (65535 less the IP and ICMP headers).
pub const MAX_PAYLOAD_V4: u32 = 65507;
/// Over IPv6 (65535 less the ICMPv6 header).
pub const MAX_PAYLOAD_V6: u32 = 65527;

/// How to ping, in nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Requests to send; none: until the deadline, or for ever.
    pub count: Option<u32>,
    /// Between the starts of two requests.
    pub interval_ns: u64,
    /// How long each reply may take.
    pub timeout_ns: u64,
    /// Stop after this long whatever happened.
    pub deadline_ns: Option<u64>,
    /// Payload bytes after the ICMP header.
    pub payload_size: u32,
    /// TTL / hop limit of the requests.
    pub hop_limit: Option<u8>,
    /// Set the IPv4 don't-fragment bit.
    pub dont_fragment: bool,
}

impl Default for Options {
    /// iputils' defaults: for ever, once a second, 56 bytes, 10 s for a reply.
    fn default() -> Self {
        Self {
            count: None,
            interval_ns: 1_000_000_000,
            timeout_ns: 10_000_000_000,
            deadline_ns: None,
            payload_size: DEFAULT_PAYLOAD,
            hop_limit: None,
            dont_fragment: false,
        }
    }
}

impl Options {
    /// Why these options cannot be run against an address of the family (`v6`).
    pub fn check(&self, v6: bool) -> Result<(), String> {
        if self.count == Some(0) {
            return Err("the count must be at least 1 (-c)".into());
        }
        if self.interval_ns == 0 {
            return Err("the interval must be above 0 (-i)".into());
        }
        if self.timeout_ns == 0 {
            return Err("the reply timeout must be above 0 (-W)".into());
        }
        if self.deadline_ns == Some(0) {
            return Err("the deadline must be above 0 (-w)".into());
        }
        if self.hop_limit == Some(0) {
            return Err("the TTL must be from 1 to 255 (-t)".into());
        }
        let max = if v6 { MAX_PAYLOAD_V6 } else { MAX_PAYLOAD_V4 };
        if self.payload_size > max {
            return Err(format!(
                "packet size {} is too large: at most {max} over {} (-s)",
                self.payload_size,
                if v6 { "IPv6" } else { "IPv4" }
            ));
        }
        Ok(())
    }
}

/// The payload of every request: bytes 0, 1, 2, ... as iputils fills its pattern.
pub fn payload(size: u32) -> Vec<u8> {
    (0..size).map(|i| i as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let ok = Options::default();
        assert_eq!(ok.check(false), Ok(()));
        let bad = |o: Options, v6: bool, word: &str| {
            let e = o.check(v6).unwrap_err();
            assert!(e.contains(word), "{e}");
        };
        bad(
            Options {
                count: Some(0),
                ..ok.clone()
            },
            false,
            "-c",
        );
        bad(
            Options {
                interval_ns: 0,
                ..ok.clone()
            },
            false,
            "-i",
        );
        bad(
            Options {
                timeout_ns: 0,
                ..ok.clone()
            },
            false,
            "-W",
        );
        bad(
            Options {
                deadline_ns: Some(0),
                ..ok.clone()
            },
            false,
            "-w",
        );
        bad(
            Options {
                hop_limit: Some(0),
                ..ok.clone()
            },
            false,
            "-t",
        );
        bad(
            Options {
                payload_size: 65508,
                ..ok.clone()
            },
            false,
            "65507",
        );
        assert_eq!(
            Options {
                payload_size: 65508,
                ..ok.clone()
            }
            .check(true),
            Ok(())
        );
        bad(
            Options {
                payload_size: 65528,
                ..ok
            },
            true,
            "65527",
        );
        assert_eq!(payload(3), [0, 1, 2]);
        assert_eq!(payload(300)[257], 1);
    }
}
