//! Targets in `netkit watch`: a probe's own, the ones `/probe` asks for, and the
//! `allow_targets` patterns that may cover them. Authorization is decided on
//! the target as written, before any name is resolved: an IP literal is
//! covered only by networks, a host name only by the same name.

use crate::policy::{HostPattern, PortRange, host_name, ip_literal};
use std::net::IpAddr;

/// A host as a target names it: an address, or a host name (lower-case, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost {
    /// An IP literal (IPv6 written in brackets).
    Ip(IpAddr),
    /// A host name after the grants' host-name rules.
    Name(String),
}

/// A target `HOST:PORT`, checked but not resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host.
    pub host: TargetHost,
    /// The port.
    pub port: u16,
    /// For the http kind: the whole URL (its host and port are the two above).
    pub url: Option<String>,
}

impl Target {
    /// Whether it is a link-local address (169.254.0.0/16, fe80::/10: where
    /// clouds serve instance metadata and credentials), IPv4-mapped too.
    pub fn is_link_local(&self) -> bool {
        match &self.host {
            TargetHost::Ip(IpAddr::V4(a)) => a.is_link_local(),
            TargetHost::Ip(IpAddr::V6(a)) => {
                a.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local())
                    || (a.segments()[0] & 0xffc0) == 0xfe80
            }
            TargetHost::Name(_) => false,
        }
    }

    /// Whether it names `listen` (the exporter's own address; a wildcard
    /// listen address is every loopback and wildcard address, and localhost).
    pub fn names_listener(&self, listen: &std::net::SocketAddr) -> bool {
        if self.port != listen.port() {
            return false;
        }
        match &self.host {
            TargetHost::Ip(ip) => {
                ip == &listen.ip()
                    || (listen.ip().is_unspecified() && (ip.is_loopback() || ip.is_unspecified()))
                    || (listen.ip().is_loopback() && ip.is_loopback())
            }
            TargetHost::Name(n) => {
                n == "localhost" && (listen.ip().is_loopback() || listen.ip().is_unspecified())
            }
        }
    }

    /// Parse an `http://` or `https://` URL: its host and port are the target
    /// (after the WHATWG parser's normalisation: `http://0x7f000001/` is
    /// 127.0.0.1, covered only by networks, like any address).
    pub fn parse_url(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{text:?}: only http:// and https:// URLs"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{text:?}: no credentials in URLs (use basic_auth)"));
        }
        let host = match url.host() {
            Some(url::Host::Ipv4(a)) => TargetHost::Ip(a.into()),
            Some(url::Host::Ipv6(a)) => TargetHost::Ip(a.into()),
            Some(url::Host::Domain(d)) => TargetHost::Name(host_name(d).map_err(|e| e.message(d))?),
            None => return Err(format!("{text:?} has no host")),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        if port == 0 {
            return Err(format!("{text:?}: port 0 is no port to connect to"));
        }
        Ok(Self {
            host,
            port,
            url: Some(url.to_string()),
        })
    }

    /// The URL's scheme (`http`, `https`), for the http kind.
    pub fn scheme(&self) -> Option<&str> {
        self.url
            .as_deref()
            .and_then(|u| u.split_once("://"))
            .map(|(s, _)| s)
    }

    /// Parse `HOST:PORT` (IPv6 as `[ADDRESS]:PORT`); number-like and malformed
    /// names are refused with the rule they break.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (host, port) = probe_proto::split_target(text)?;
        let host = match ip_literal(&host) {
            Some(ip) => TargetHost::Ip(ip),
            None => TargetHost::Name(host_name(&host).map_err(|e| e.message(&host))?),
        };
        Ok(Self {
            host,
            port,
            url: None,
        })
    }

    /// A host with no port (the icmp kind): an IP, `[IPv6]` or a name.
    pub fn parse_host(text: &str) -> Result<Self, String> {
        let host = match ip_literal(text) {
            Some(ip) => TargetHost::Ip(ip),
            None if text.contains(':') => {
                return Err(format!(
                    "{text:?}: an ICMP target is a host with no port (e.g. 127.0.0.1, ::1, example.net)"
                ));
            }
            None => TargetHost::Name(host_name(text).map_err(|e| e.message(text))?),
        };
        Ok(Self {
            host,
            port: 0,
            url: None,
        })
    }

    /// The host as a grant or a command line writes it (`[::1]` for IPv6).
    pub fn host_text(&self) -> String {
        match &self.host {
            TargetHost::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
            TargetHost::Ip(ip) => ip.to_string(),
            TargetHost::Name(n) => n.clone(),
        }
    }

    /// The host without brackets (`::1`).
    pub fn bare_host(&self) -> String {
        match &self.host {
            TargetHost::Ip(ip) => ip.to_string(),
            TargetHost::Name(n) => n.clone(),
        }
    }

    /// `{target}`, `{host}` and `{port}` in `template` replaced by this target.
    pub fn fill(&self, template: &str) -> String {
        template
            .replace("{target}", &self.to_string())
            .replace("{host}", &self.host_text())
            .replace("{port}", &self.port.to_string())
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host_text(), self.port)
    }
}

/// Whether `text` names the target through a placeholder.
pub fn has_placeholder(text: &str) -> bool {
    ["{target}", "{host}", "{port}"]
        .iter()
        .any(|p| text.contains(p))
}

/// Where a target may point: a network or a host name, and a port range
/// (`127.0.0.0/8:*`, `[::1]:53`, `db.example:5432`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPattern {
    hosts: HostPattern,
    ports: PortRange,
    text: String,
}

impl TargetPattern {
    /// The pattern `text` (`NETWORK:PORTS` or `NAME:PORTS`), with the grants' syntax.
    pub fn parse(text: &str) -> Result<Self, String> {
        let grant: crate::policy::Grant = format!("tcp-connect://{text}")
            .parse()
            .map_err(|e: crate::policy::GrantError| {
                format!(
                    "{text:?} is not NETWORK:PORTS or NAME:PORTS (e.g. 127.0.0.0/8:*, db.example:5432): {e}"
                )
            })?;
        Ok(Self {
            hosts: grant.host,
            ports: grant.ports,
            text: text.to_string(),
        })
    }

    /// Hosts with no ports (the icmp kind's allow_targets): `127.0.0.0/8`, `[::1]`, a name.
    pub fn parse_host(text: &str) -> Result<Self, String> {
        let grant: crate::policy::Grant = format!("icmp://{text}").parse().map_err(
            |e: crate::policy::GrantError| {
                format!(
                    "{text:?} is not a NETWORK or NAME with no port (e.g. 127.0.0.0/8, [::1]): {e}"
                )
            },
        )?;
        Ok(Self {
            hosts: grant.host,
            ports: grant.ports,
            text: text.to_string(),
        })
    }

    /// Whether `target` is covered: an address by a network containing it, a
    /// name by the same name (never by resolving it).
    pub fn covers(&self, target: &Target) -> bool {
        let host_ok = match (&self.hosts, &target.host) {
            (HostPattern::Net(net), TargetHost::Ip(ip)) => net.contains(ip),
            (HostPattern::Name(n), TargetHost::Name(m)) => n == m,
            _ => false,
        };
        host_ok && self.ports.contains(target.port)
    }
}

impl std::fmt::Display for TargetPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(s).unwrap()
    }

    #[test]
    fn networks_cover_addresses_only() {
        let p = TargetPattern::parse("127.0.0.0/8:*").unwrap();
        assert!(p.covers(&t("127.9.9.9:5")));
        assert!(!p.covers(&t("10.0.0.1:5")));
        // A name is never resolved to decide: localhost is not covered by 127/8.
        assert!(!p.covers(&t("localhost:5")));
    }

    #[test]
    fn names_cover_the_same_name_only() {
        // Regression (issue 20): localhost:1-65535 was accepted and never covered anything.
        let p = TargetPattern::parse("localhost:1-65535").unwrap();
        assert!(p.covers(&t("LOCALHOST.:80")));
        assert!(!p.covers(&t("127.0.0.1:80")));
        assert!(!p.covers(&t("localhost.evil:80")));
        let p = TargetPattern::parse("db.example:5432").unwrap();
        assert!(!p.covers(&t("db.example:5433")));
    }

    #[test]
    fn number_like_names_are_refused() {
        assert!(Target::parse("127.1:80").is_err());
        assert!(Target::parse("0x7f000001:80").is_err());
        assert!(TargetPattern::parse("2130706433:*").is_err());
    }

    #[test]
    fn fills_placeholders() {
        let v6 = t("[::1]:53");
        assert_eq!(v6.fill("udp://{target}"), "udp://[::1]:53");
        assert_eq!(v6.fill("--host={host} -p {port}"), "--host=[::1] -p 53");
        assert_eq!(v6.bare_host(), "::1");
        assert!(has_placeholder("x{port}") && !has_placeholder("{tar}"));
    }
}
