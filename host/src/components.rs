//! The guest components built by `build.rs` and embedded in the binary.

/// A component shipped inside netkit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `echo-server.wasm`: concurrent TCP echo and UDP echo.
    EchoServer,
    /// `echo-client.wasm`: verified echo round trips.
    EchoClient,
    /// `sntp-client.wasm`: validated SNTP queries.
    SntpClient,
    /// `sntp-server.wasm`: SNTP answers from the wall clock.
    SntpServer,
    /// `tcp-probe.wasm`: TCP connect latency, optional request and expected reply.
    TcpProbe,
    /// `udp-probe.wasm`: a datagram out, the round trip and the reply.
    UdpProbe,
    /// `dns-probe.wasm`: a DNS client showing rcode, flags and every section.
    DnsProbe,
    /// `tls-probe.wasm`: a TLS handshake's facts and the chain as sent.
    TlsProbe,
    /// `http-probe.wasm`: blackbox_exporter's http prober, redirects only where granted.
    HttpProbe,
    /// `ping.wasm`: ICMP echo like iputils ping, through netkit's ICMP capability.
    Ping,
}

impl Builtin {
    /// Every embedded component.
    pub const ALL: [Builtin; 10] = [
        Builtin::EchoServer,
        Builtin::EchoClient,
        Builtin::SntpClient,
        Builtin::SntpServer,
        Builtin::TcpProbe,
        Builtin::UdpProbe,
        Builtin::DnsProbe,
        Builtin::TlsProbe,
        Builtin::HttpProbe,
        Builtin::Ping,
    ];

    /// File name used by `netkit components --out`.
    pub fn file_name(self) -> &'static str {
        match self {
            Builtin::EchoServer => "echo-server.wasm",
            Builtin::EchoClient => "echo-client.wasm",
            Builtin::SntpClient => "sntp-client.wasm",
            Builtin::SntpServer => "sntp-server.wasm",
            Builtin::TcpProbe => "tcp-probe.wasm",
            Builtin::UdpProbe => "udp-probe.wasm",
            Builtin::DnsProbe => "dns-probe.wasm",
            Builtin::TlsProbe => "tls-probe.wasm",
            Builtin::HttpProbe => "http-probe.wasm",
            Builtin::Ping => "ping.wasm",
        }
    }

    /// One line on what it does (the `description` annotation of a push).
    pub fn description(self) -> &'static str {
        match self {
            Builtin::EchoServer => "netkit's TCP and UDP echo server as a WASI 0.2 component",
            Builtin::EchoClient => "netkit's echo client: verified TCP and UDP echo round trips",
            Builtin::SntpClient => {
                "netkit's SNTP client (and NTS, RFC 8915): validated time queries"
            }
            Builtin::SntpServer => "netkit's SNTP server: answers from the wall clock",
            Builtin::TcpProbe => {
                "netkit's TCP probe: connect latency, optional request and expected reply"
            }
            Builtin::UdpProbe => "netkit's UDP probe: a datagram out, its reply and round trip",
            Builtin::DnsProbe => "netkit's DNS client: rcode, flags and every section, like dig",
            Builtin::TlsProbe => {
                "netkit's TLS probe: version, cipher, the chain as sent, why it does not verify"
            }
            Builtin::HttpProbe => "netkit's HTTP(S) prober, in the manner of blackbox_exporter's",
            Builtin::Ping => "netkit's ping: ICMP echo through netkit's netkit:icmp capability",
        }
    }

    /// The component's SHA-256 (see [`crate::cache::digest`]), computed when netkit was built.
    pub fn digest(self) -> &'static crate::cache::ComponentDigest {
        match self {
            Builtin::EchoServer => &digests::ECHO_SERVER_SHA256,
            Builtin::EchoClient => &digests::ECHO_CLIENT_SHA256,
            Builtin::SntpClient => &digests::SNTP_CLIENT_SHA256,
            Builtin::SntpServer => &digests::SNTP_SERVER_SHA256,
            Builtin::TcpProbe => &digests::TCP_PROBE_SHA256,
            Builtin::UdpProbe => &digests::UDP_PROBE_SHA256,
            Builtin::DnsProbe => &digests::DNS_PROBE_SHA256,
            Builtin::TlsProbe => &digests::TLS_PROBE_SHA256,
            Builtin::HttpProbe => &digests::HTTP_PROBE_SHA256,
            Builtin::Ping => &digests::PING_SHA256,
        }
    }

    /// The component's bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Builtin::EchoServer => include_bytes!(env!("NETKIT_ECHO_SERVER_WASM")),
            Builtin::EchoClient => include_bytes!(env!("NETKIT_ECHO_CLIENT_WASM")),
            Builtin::SntpClient => include_bytes!(env!("NETKIT_SNTP_CLIENT_WASM")),
            Builtin::SntpServer => include_bytes!(env!("NETKIT_SNTP_SERVER_WASM")),
            Builtin::TcpProbe => include_bytes!(env!("NETKIT_TCP_PROBE_WASM")),
            Builtin::UdpProbe => include_bytes!(env!("NETKIT_UDP_PROBE_WASM")),
            Builtin::DnsProbe => include_bytes!(env!("NETKIT_DNS_PROBE_WASM")),
            Builtin::TlsProbe => include_bytes!(env!("NETKIT_TLS_PROBE_WASM")),
            Builtin::HttpProbe => include_bytes!(env!("NETKIT_HTTP_PROBE_WASM")),
            Builtin::Ping => include_bytes!(env!("NETKIT_PING_WASM")),
        }
    }
}

/// Written by build.rs.
#[allow(dead_code)]
mod digests {
    include!(concat!(env!("OUT_DIR"), "/builtin_digests.rs"));
}

#[cfg(test)]
mod tests {
    use super::Builtin;

    #[test]
    fn build_time_digests_are_the_components_digests() {
        for b in Builtin::ALL {
            assert_eq!(b.digest(), &crate::cache::digest(b.bytes()), "{b:?}");
        }
    }
}
