//! Which NTP server a key exchange may lead the client to (RFC 8915 §4.1.7:
//! by default the KE server's own address, port 123). A negotiated port on
//! the KE host is used as negotiated; **another host is reached only if the
//! user granted it** (`--allow-ntp-server HOST[:PORT]`, watch's
//! `allow_ntp_servers`).

use crate::ke::NTP_PORT;
use std::net::IpAddr;

/// An NTP server the user allows a key exchange to name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// A host name (lower case) or an IP address.
    pub host: String,
    /// The port (123 when not given).
    pub port: u16,
}

impl Allowed {
    /// From `HOST`, `HOST:PORT`, `IP`, `IPv6`, `[IPv6]:PORT`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{text:?} is not an NTP server: give HOST, HOST:PORT, IP or [IPv6]:PORT (default port {NTP_PORT})"
            )
        };
        let (host, port) = if let Ok(ip) = text.parse::<IpAddr>() {
            (ip.to_string(), NTP_PORT)
        } else if let Some(rest) = text.strip_prefix('[') {
            let (ip, tail) = rest.split_once(']').ok_or_else(bad)?;
            let ip: IpAddr = ip.parse().map_err(|_| bad())?;
            let port = match tail {
                "" => NTP_PORT,
                t => t
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(bad)?,
            };
            (ip.to_string(), port)
        } else {
            let (h, p) = match text.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
                None => (text, NTP_PORT),
            };
            if h.is_empty() || h.contains(':') {
                return Err(bad());
            }
            (h.trim_end_matches('.').to_ascii_lowercase(), p)
        };
        if port == 0 {
            return Err(format!("{text:?}: port 0 is not an NTP server's"));
        }
        Ok(Self { host, port })
    }

    /// `HOST:PORT` (`[v6]:PORT`), as the flag takes it.
    pub fn text(host: &str, port: u16) -> String {
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.port == port && same_host(&self.host, host)
    }
}

fn same_host(a: &str, b: &str) -> bool {
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(x), Ok(y)) => x == y,
        (Err(_), Err(_)) => a
            .trim_end_matches('.')
            .eq_ignore_ascii_case(b.trim_end_matches('.')),
        _ => false,
    }
}

/// The NTP server and port a key exchange with `ke_ip` leads to.
pub fn negotiated(ke_ip: IpAddr, server: Option<&str>, port: Option<u16>) -> (String, u16) {
    (
        server.map_or_else(|| ke_ip.to_string(), str::to_string),
        port.unwrap_or(NTP_PORT),
    )
}

/// Whether the client may go to `host:port` after a key exchange with
/// `ke_name` (as the user gave it) at `ke_ip`: yes on the KE host (by address
/// or by the same name), else only if `allowed` names it. The error says
/// which flag grants it.
pub fn check(
    ke_name: &str,
    ke_ip: IpAddr,
    host: &str,
    port: u16,
    allowed: &[Allowed],
) -> Result<(), String> {
    let ke_host = host
        .parse::<IpAddr>()
        .map_or_else(|_| same_host(host, ke_name), |ip| ip == ke_ip);
    if ke_host || allowed.iter().any(|a| a.matches(host, port)) {
        return Ok(());
    }
    let wanted = Allowed::text(host, port);
    Err(format!(
        "the NTS key exchange with {ke_ip} named the NTP server {wanted}, another host than the key exchange's: not granted (allow it with --allow-ntp-server {wanted}, or allow_ntp_servers = [\"{wanted}\"] in watch)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allowed_entries_parse() {
        let a = |s| Allowed::parse(s).unwrap();
        assert_eq!(
            a("127.0.0.1"),
            Allowed {
                host: "127.0.0.1".into(),
                port: 123
            }
        );
        assert_eq!(a("127.0.0.1:4123").port, 4123);
        assert_eq!(
            a("::1"),
            Allowed {
                host: "::1".into(),
                port: 123
            }
        );
        assert_eq!(
            a("[::1]:9"),
            Allowed {
                host: "::1".into(),
                port: 9
            }
        );
        assert_eq!(a("[::1]").port, 123);
        assert_eq!(
            a("Time.Example.:7"),
            Allowed {
                host: "time.example".into(),
                port: 7
            }
        );
        for bad in [
            "", ":5", "h:x", "[::1", "[::1]x", "[nope]:1", "a:b:c", "h:0",
        ] {
            assert!(Allowed::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Allowed::text("::1", 123), "[::1]:123");
    }

    #[test]
    fn the_ke_host_is_always_allowed_at_any_port() {
        assert!(check("127.0.0.1", ip("127.0.0.1"), "127.0.0.1", 4123, &[]).is_ok());
        assert!(check("ntp.test", ip("127.0.0.1"), "NTP.test", 123, &[]).is_ok());
        assert!(check("ntp.test", ip("::1"), "::1", 123, &[]).is_ok());
        assert_eq!(negotiated(ip("::1"), None, None), ("::1".into(), 123));
        assert_eq!(
            negotiated(ip("::1"), Some("127.0.0.2"), Some(5)),
            ("127.0.0.2".into(), 5)
        );
    }

    #[test]
    fn another_host_needs_a_grant_naming_it_and_its_port() {
        let e = check("127.0.0.2", ip("127.0.0.2"), "127.0.0.1", 4123, &[]).unwrap_err();
        assert!(e.contains("--allow-ntp-server 127.0.0.1:4123"), "{e}");
        assert!(e.contains("with 127.0.0.2 named"), "{e}");
        let grant = [Allowed::parse("127.0.0.1:4123").unwrap()];
        assert!(check("127.0.0.2", ip("127.0.0.2"), "127.0.0.1", 4123, &grant).is_ok());
        // The same host at another port, another host at the granted port: refused.
        assert!(check("127.0.0.2", ip("127.0.0.2"), "127.0.0.1", 123, &grant).is_err());
        assert!(check("127.0.0.2", ip("127.0.0.2"), "127.0.0.3", 4123, &grant).is_err());
        // A name is matched by name, never by what it might resolve to.
        let names = [Allowed::parse("time.test").unwrap()];
        assert!(check("ke.test", ip("127.0.0.2"), "time.test", 123, &names).is_ok());
        assert!(check("ke.test", ip("127.0.0.2"), "169.254.169.254", 123, &names).is_err());
        let e = check("::1", ip("::1"), "::2", 123, &[]).unwrap_err();
        assert!(
            e.contains("--allow-ntp-server [::2]:123") && e.contains("with ::1 named"),
            "{e}"
        );
    }
}
