//! Network grants: parsed once from text, matched by one pure function, deny by default.
//!
//! A grant reads `KIND://HOST:PORT`:
//!
//! | kind          | lets the guest                                             |
//! |---------------|------------------------------------------------------------|
//! | `tcp-connect` | connect to HOST:PORT (and make the implicit wildcard bind)  |
//! | `tcp-listen`  | bind and listen on HOST:PORT                                |
//! | `tcp-accept`  | accept clients whose address is in HOST:PORT                |
//! | `udp`         | send datagrams to and receive them from HOST:PORT (and make the implicit wildcard bind) |
//! | `udp-bind`    | bind a UDP socket on HOST:PORT                              |
//!
//! HOST is an IP (`127.0.0.1`, `[::1]`), a CIDR (`127.0.0.0/8`, `[::1/128]`) or a
//! name (resolved by the host before the guest starts). PORT is a number, a range
//! `a-b`, or `*` for any.
//!
//! ```
//! use netkit::policy::{Grant, Policy};
//! use wasmtime_wasi::sockets::SocketAddrUse;
//!
//! let policy = Policy::new(vec!["tcp-connect://127.0.0.1:7007".parse::<Grant>().unwrap()]);
//! assert!(policy.check("127.0.0.1:7007".parse().unwrap(), SocketAddrUse::TcpConnect).is_some());
//! assert!(policy.check("127.0.0.1:7008".parse().unwrap(), SocketAddrUse::TcpConnect).is_none());
//! ```

use crate::dns::NameTable;
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use wasmtime_wasi::sockets::SocketAddrUse;

/// What a grant allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantKind {
    /// `tcp-connect://`: connect to the address.
    TcpConnect,
    /// `tcp-listen://`: bind and listen on the address.
    TcpListen,
    /// `tcp-accept://`: accept clients from the address.
    TcpAccept,
    /// `udp://`: exchange datagrams with the address.
    Udp,
    /// `udp-bind://`: bind a UDP socket on the address.
    UdpBind,
}

impl GrantKind {
    const ALL: [GrantKind; 5] = [
        GrantKind::TcpConnect,
        GrantKind::TcpListen,
        GrantKind::TcpAccept,
        GrantKind::Udp,
        GrantKind::UdpBind,
    ];

    /// The scheme, as written before `://`.
    pub fn scheme(self) -> &'static str {
        match self {
            GrantKind::TcpConnect => "tcp-connect",
            GrantKind::TcpListen => "tcp-listen",
            GrantKind::TcpAccept => "tcp-accept",
            GrantKind::Udp => "udp",
            GrantKind::UdpBind => "udp-bind",
        }
    }

    /// Whether this kind concerns TCP (otherwise UDP).
    pub fn is_tcp(self) -> bool {
        matches!(
            self,
            GrantKind::TcpConnect | GrantKind::TcpListen | GrantKind::TcpAccept
        )
    }
}

/// The host part of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    /// An IP network; a single IP is a /32 or /128.
    Net(IpNet),
    /// A name; it matches nothing until [`Policy::resolve_names`] turns it into addresses.
    Name(String),
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// Lowest port allowed.
    pub first: u16,
    /// Highest port allowed.
    pub last: u16,
}

impl PortRange {
    /// Exactly one port.
    pub fn single(port: u16) -> Self {
        Self {
            first: port,
            last: port,
        }
    }

    /// Every port (`*`).
    pub fn any() -> Self {
        Self {
            first: 0,
            last: u16::MAX,
        }
    }

    fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

/// One permission: a kind, a host pattern and a port range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    /// What is allowed.
    pub kind: GrantKind,
    /// With which hosts.
    pub host: HostPattern,
    /// On which ports.
    pub ports: PortRange,
}

/// Why a grant's text could not be parsed; each names the bad text and the valid form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantError {
    /// The whole grant as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid grant {:?}: {} (valid form: KIND://HOST:PORT with KIND one of \
             tcp-connect, tcp-listen, tcp-accept, udp, udp-bind; e.g. udp://127.0.0.1:123, \
             tcp-connect://[::1]:7007, tcp-accept://127.0.0.0/8:*)",
            self.input, self.reason
        )
    }
}

impl std::error::Error for GrantError {}

impl Grant {
    /// A grant for exactly one socket address.
    pub fn exact(kind: GrantKind, addr: SocketAddr) -> Self {
        Self {
            kind,
            host: HostPattern::Net(IpNet::from(addr.ip())),
            ports: PortRange::single(addr.port()),
        }
    }

    /// A grant for a network and port range.
    pub fn net(kind: GrantKind, net: IpNet, ports: PortRange) -> Self {
        Self {
            kind,
            host: HostPattern::Net(net),
            ports,
        }
    }

    /// Whether `addr` falls inside this grant's host and ports.
    pub fn covers(&self, addr: SocketAddr) -> bool {
        self.ports.contains(addr.port())
            && match &self.host {
                HostPattern::Net(net) => net.contains(&addr.ip()),
                HostPattern::Name(_) => false,
            }
    }
}

impl FromStr for Grant {
    type Err = GrantError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| GrantError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| err("it does not start with a kind and '://'"))?;
        let kind = GrantKind::ALL
            .into_iter()
            .find(|k| k.scheme() == scheme)
            .ok_or_else(|| err(&format!("unknown kind {scheme:?}")))?;
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| err("it has no ':PORT' (use '*' for any port)"))?;
        if host.is_empty() {
            return Err(err("the host is empty"));
        }
        let host = parse_host(host).map_err(|r| err(&r))?;
        let ports = parse_ports(port).map_err(|r| err(&r))?;
        Ok(Grant { kind, host, ports })
    }
}

fn parse_host(text: &str) -> Result<HostPattern, String> {
    let bracketed = text.starts_with('[');
    let inner = if bracketed {
        text.strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .ok_or_else(|| format!("host {text:?} opens '[' without closing it"))?
    } else {
        text
    };
    if let Ok(ip) = inner.parse::<IpAddr>() {
        if ip.is_ipv6() != bracketed {
            return Err(format!(
                "host {text:?}: write IPv6 addresses in brackets, e.g. [::1], and IPv4 without"
            ));
        }
        return Ok(HostPattern::Net(IpNet::from(ip)));
    }
    if inner.contains('/') {
        let net: IpNet = inner
            .parse()
            .map_err(|_| format!("host {text:?} is not a valid CIDR network"))?;
        if matches!(net, IpNet::V6(_)) != bracketed {
            return Err(format!(
                "host {text:?}: write IPv6 networks in brackets, e.g. [fd00::/8]"
            ));
        }
        return Ok(HostPattern::Net(net.trunc()));
    }
    let is_name = !bracketed
        && inner.len() <= 253
        && inner.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
        });
    if is_name {
        Ok(HostPattern::Name(inner.to_ascii_lowercase()))
    } else {
        Err(format!(
            "host {text:?} is neither an IP, a CIDR nor a host name"
        ))
    }
}

fn parse_ports(text: &str) -> Result<PortRange, String> {
    if text == "*" {
        return Ok(PortRange::any());
    }
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("port {p:?} is not a number from 0 to 65535"))
    };
    match text.split_once('-') {
        None => Ok(PortRange::single(port(text)?)),
        Some((a, b)) => {
            let (first, last) = (port(a)?, port(b)?);
            if first > last {
                return Err(format!("port range {text:?} runs backwards"));
            }
            Ok(PortRange { first, last })
        }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind.scheme())?;
        match &self.host {
            HostPattern::Net(IpNet::V4(n)) if n.prefix_len() == 32 => write!(f, "{}", n.addr())?,
            HostPattern::Net(IpNet::V6(n)) if n.prefix_len() == 128 => write!(f, "[{}]", n.addr())?,
            HostPattern::Net(IpNet::V4(n)) => write!(f, "{n}")?,
            HostPattern::Net(IpNet::V6(n)) => write!(f, "[{n}]")?,
            HostPattern::Name(name) => f.write_str(name)?,
        }
        match self.ports {
            p if p == PortRange::any() => f.write_str(":*"),
            p if p.first == p.last => write!(f, ":{}", p.first),
            p => write!(f, ":{}-{}", p.first, p.last),
        }
    }
}

/// The set of grants a guest runs under. Anything no grant covers is denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    grants: Vec<Grant>,
}

impl Policy {
    /// A policy of exactly these grants (none: everything is denied).
    pub fn new(grants: Vec<Grant>) -> Self {
        Self { grants }
    }

    /// The grants, in the order given.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Whether any grant concerns TCP; if none does, TCP stays switched off.
    pub fn uses_tcp(&self) -> bool {
        self.grants.iter().any(|g| g.kind.is_tcp())
    }

    /// Whether any grant concerns UDP; if none does, UDP stays switched off.
    pub fn uses_udp(&self) -> bool {
        self.grants.iter().any(|g| !g.kind.is_tcp())
    }

    /// Replace every name grant by one grant per address the name resolves to
    /// (host-side DNS), and return the names with their addresses: the only names
    /// the guest may then look up itself (see [`crate::dns`]).
    pub fn resolve_names(&self) -> Result<(Policy, NameTable), String> {
        let mut out = Vec::new();
        let mut names = NameTable::new();
        for g in &self.grants {
            match &g.host {
                HostPattern::Net(_) => out.push(g.clone()),
                HostPattern::Name(name) => {
                    let addrs = (name.as_str(), 0)
                        .to_socket_addrs()
                        .map_err(|e| format!("cannot resolve {name:?} in grant {g}: {e}"))?;
                    let entry = names.entry(name.clone()).or_default();
                    for a in addrs {
                        if !entry.contains(&a.ip()) {
                            entry.push(a.ip());
                        }
                        let resolved = Grant {
                            host: HostPattern::Net(IpNet::from(a.ip())),
                            ..g.clone()
                        };
                        if !out.contains(&resolved) {
                            out.push(resolved);
                        }
                    }
                }
            }
        }
        Ok((Policy::new(out), names))
    }

    /// The grant that allows `use_` of `addr`, or `None`: denied.
    ///
    /// Implicit binds (the wildcard address with port 0, which wasmtime-wasi checks
    /// before a connect or a first send) are allowed when a grant of the matching
    /// client kind exists, since they reach no peer.
    pub fn check(&self, addr: SocketAddr, use_: SocketAddrUse) -> Option<&Grant> {
        let implicit_bind = addr.ip().is_unspecified() && addr.port() == 0;
        let find = |kind: GrantKind| {
            self.grants
                .iter()
                .find(|g| g.kind == kind && g.covers(addr))
        };
        let any_of = |kind: GrantKind| self.grants.iter().find(|g| g.kind == kind);
        match use_ {
            SocketAddrUse::TcpBind => find(GrantKind::TcpListen).or_else(|| {
                implicit_bind
                    .then(|| any_of(GrantKind::TcpConnect))
                    .flatten()
            }),
            SocketAddrUse::TcpListen => find(GrantKind::TcpListen),
            SocketAddrUse::TcpAccept => find(GrantKind::TcpAccept),
            SocketAddrUse::TcpConnect => find(GrantKind::TcpConnect),
            SocketAddrUse::UdpBind => find(GrantKind::UdpBind)
                .or_else(|| implicit_bind.then(|| any_of(GrantKind::Udp)).flatten()),
            SocketAddrUse::UdpSend => find(GrantKind::Udp),
            SocketAddrUse::UdpReceive => find(GrantKind::Udp),
        }
    }
}

/// The operation name used in messages and the audit, e.g. `tcp-connect`.
pub fn use_name(use_: SocketAddrUse) -> &'static str {
    match use_ {
        SocketAddrUse::TcpBind => "tcp-bind",
        SocketAddrUse::TcpListen => "tcp-listen",
        SocketAddrUse::TcpAccept => "tcp-accept",
        SocketAddrUse::TcpConnect => "tcp-connect",
        SocketAddrUse::UdpBind => "udp-bind",
        SocketAddrUse::UdpSend => "udp-send",
        SocketAddrUse::UdpReceive => "udp-receive",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(s: &str) -> Grant {
        s.parse().unwrap()
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn policy(grants: &[&str]) -> Policy {
        Policy::new(grants.iter().map(|g| grant(g)).collect())
    }

    #[test]
    fn parses_exact_ipv4() {
        let g = grant("tcp-connect://127.0.0.1:7007");
        assert_eq!(g.kind, GrantKind::TcpConnect);
        assert_eq!(g.ports, PortRange::single(7007));
        assert!(g.covers(addr("127.0.0.1:7007")));
        assert!(!g.covers(addr("127.0.0.2:7007")));
    }

    #[test]
    fn parses_bracketed_ipv6() {
        let g = grant("udp://[::1]:123");
        assert!(g.covers(addr("[::1]:123")));
        assert!(!g.covers(addr("127.0.0.1:123")));
    }

    #[test]
    fn parses_cidr_and_port_range() {
        let g = grant("tcp-accept://127.0.0.0/8:1000-2000");
        assert!(g.covers(addr("127.9.9.9:1500")));
        assert!(!g.covers(addr("127.9.9.9:2001")));
        assert!(!g.covers(addr("10.0.0.1:1500")));
    }

    #[test]
    fn parses_any_port() {
        assert_eq!(grant("udp://[::/0]:*").ports, PortRange::any());
    }

    #[test]
    fn parses_name() {
        assert_eq!(
            grant("udp://Pool.NTP.org:123").host,
            HostPattern::Name("pool.ntp.org".into())
        );
    }

    #[test]
    fn name_matches_nothing_until_resolved() {
        let p = policy(&["tcp-connect://localhost:7007"]);
        assert!(
            p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpConnect)
                .is_none()
        );
        let (resolved, names) = p.resolve_names().unwrap();
        assert!(names["localhost"].contains(&"127.0.0.1".parse().unwrap()));
        assert!(
            resolved
                .check(addr("127.0.0.1:7007"), SocketAddrUse::TcpConnect)
                .is_some()
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "tcp-connect://127.0.0.1:7007",
            "udp://[::1]:123",
            "tcp-accept://127.0.0.0/8:*",
            "udp-bind://[fd00::/8]:1-2",
            "udp://pool.ntp.org:123",
        ] {
            assert_eq!(grant(text).to_string(), text);
        }
    }

    #[test]
    fn rejects_missing_scheme() {
        let e = "127.0.0.1:80".parse::<Grant>().unwrap_err();
        assert!(e.to_string().contains("'://'"), "{e}");
        assert!(e.to_string().contains("valid form"), "{e}");
    }

    #[test]
    fn rejects_unknown_kind() {
        let e = "http://127.0.0.1:80".parse::<Grant>().unwrap_err();
        assert!(e.to_string().contains("unknown kind \"http\""), "{e}");
    }

    #[test]
    fn rejects_missing_port() {
        assert!("udp://[::1]".parse::<Grant>().is_err());
    }

    #[test]
    fn rejects_bad_port() {
        let e = "udp://127.0.0.1:70000".parse::<Grant>().unwrap_err();
        assert!(e.to_string().contains("\"70000\""), "{e}");
    }

    #[test]
    fn rejects_backwards_range() {
        assert!("udp://127.0.0.1:9-1".parse::<Grant>().is_err());
    }

    #[test]
    fn rejects_unbracketed_ipv6() {
        assert!("udp://::1:123".parse::<Grant>().is_err());
    }

    #[test]
    fn rejects_garbage_host() {
        assert!("udp://exa mple:1".parse::<Grant>().is_err());
        assert!("udp://:1".parse::<Grant>().is_err());
    }

    #[test]
    fn denies_everything_by_default() {
        let p = Policy::default();
        for use_ in [
            SocketAddrUse::TcpBind,
            SocketAddrUse::TcpListen,
            SocketAddrUse::TcpAccept,
            SocketAddrUse::TcpConnect,
            SocketAddrUse::UdpBind,
            SocketAddrUse::UdpSend,
            SocketAddrUse::UdpReceive,
        ] {
            assert!(p.check(addr("0.0.0.0:0"), use_).is_none());
            assert!(p.check(addr("127.0.0.1:7"), use_).is_none());
        }
        assert!(!p.uses_tcp() && !p.uses_udp());
    }

    #[test]
    fn connect_grant_allows_implicit_bind_only() {
        let p = policy(&["tcp-connect://127.0.0.1:7007"]);
        assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::TcpBind).is_some());
        assert!(p.check(addr("[::]:0"), SocketAddrUse::TcpBind).is_some());
        assert!(
            p.check(addr("0.0.0.0:7007"), SocketAddrUse::TcpBind)
                .is_none()
        );
        assert!(
            p.check(addr("127.0.0.1:0"), SocketAddrUse::TcpBind)
                .is_none()
        );
        assert!(
            p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpListen)
                .is_none()
        );
        assert!(
            p.check(addr("127.0.0.1:7008"), SocketAddrUse::TcpConnect)
                .is_none()
        );
    }

    #[test]
    fn listen_grant_allows_bind_and_listen_on_that_address_only() {
        let p = policy(&["tcp-listen://127.0.0.1:7007"]);
        assert!(
            p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpBind)
                .is_some()
        );
        assert!(
            p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpListen)
                .is_some()
        );
        assert!(
            p.check(addr("127.0.0.1:7008"), SocketAddrUse::TcpBind)
                .is_none()
        );
        assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::TcpBind).is_none());
        assert!(
            p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpConnect)
                .is_none()
        );
    }

    #[test]
    fn accept_needs_its_own_grant() {
        let p = policy(&["tcp-listen://127.0.0.1:7007"]);
        assert!(
            p.check(addr("127.0.0.1:5555"), SocketAddrUse::TcpAccept)
                .is_none()
        );
        let p = policy(&["tcp-listen://127.0.0.1:7007", "tcp-accept://127.0.0.0/8:*"]);
        assert!(
            p.check(addr("127.0.0.1:5555"), SocketAddrUse::TcpAccept)
                .is_some()
        );
        assert!(
            p.check(addr("[::1]:5555"), SocketAddrUse::TcpAccept)
                .is_none()
        );
    }

    #[test]
    fn udp_grant_allows_peer_and_implicit_bind() {
        let p = policy(&["udp://127.0.0.1:123"]);
        assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::UdpBind).is_some());
        assert!(
            p.check(addr("127.0.0.1:123"), SocketAddrUse::UdpSend)
                .is_some()
        );
        assert!(
            p.check(addr("127.0.0.1:123"), SocketAddrUse::UdpReceive)
                .is_some()
        );
        assert!(
            p.check(addr("127.0.0.1:124"), SocketAddrUse::UdpSend)
                .is_none()
        );
        assert!(
            p.check(addr("127.0.0.1:123"), SocketAddrUse::UdpBind)
                .is_none()
        );
        assert!(
            p.check(addr("127.0.0.1:123"), SocketAddrUse::TcpConnect)
                .is_none()
        );
    }

    #[test]
    fn udp_bind_grant_allows_bind_only() {
        let p = policy(&["udp-bind://127.0.0.1:7007"]);
        assert!(
            p.check(addr("127.0.0.1:7007"), SocketAddrUse::UdpBind)
                .is_some()
        );
        assert!(
            p.check(addr("127.0.0.1:5555"), SocketAddrUse::UdpSend)
                .is_none()
        );
        assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::UdpBind).is_none());
    }

    #[test]
    fn kinds_switch_transports_on() {
        assert!(policy(&["tcp-accept://127.0.0.1:*"]).uses_tcp());
        assert!(!policy(&["tcp-accept://127.0.0.1:*"]).uses_udp());
        assert!(policy(&["udp-bind://127.0.0.1:1"]).uses_udp());
    }
}
