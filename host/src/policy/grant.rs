//! A grant as written: `KIND://HOST:PORT`, parsed once, shown back the same way.

use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

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
    /// `icmp://`: send ICMP echo requests to the address (no port).
    Icmp,
}

impl GrantKind {
    pub(super) const ALL: [GrantKind; 6] = [
        GrantKind::TcpConnect,
        GrantKind::TcpListen,
        GrantKind::TcpAccept,
        GrantKind::Udp,
        GrantKind::UdpBind,
        GrantKind::Icmp,
    ];

    /// The scheme, as written before `://`.
    pub fn scheme(self) -> &'static str {
        match self {
            GrantKind::TcpConnect => "tcp-connect",
            GrantKind::TcpListen => "tcp-listen",
            GrantKind::TcpAccept => "tcp-accept",
            GrantKind::Udp => "udp",
            GrantKind::UdpBind => "udp-bind",
            GrantKind::Icmp => "icmp",
        }
    }

    /// Whether grants of this kind name a port (all but `icmp://`).
    pub fn has_ports(self) -> bool {
        self != GrantKind::Icmp
    }

    /// Whether this kind concerns UDP.
    pub fn is_udp(self) -> bool {
        matches!(self, GrantKind::Udp | GrantKind::UdpBind)
    }

    /// Whether this kind concerns TCP.
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
    /// A name; [`super::Policy::resolve`] turns it into addresses.
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

    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
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
             tcp-connect, tcp-listen, tcp-accept, udp, udp-bind, or icmp://HOST with no port; \
             e.g. udp://127.0.0.1:123, tcp-connect://[::1]:7007, tcp-accept://127.0.0.0/8:*, \
             icmp://127.0.0.1)",
            self.input, self.reason
        )
    }
}

impl std::error::Error for GrantError {}

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
        if !kind.has_ports() {
            return icmp_host(rest).map_err(|r| err(&r)).map(|host| Grant {
                kind,
                host,
                ports: PortRange::any(),
            });
        }
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
    if bracketed {
        return Err(format!(
            "host {text:?}: only IPv6 addresses and networks go in brackets"
        ));
    }
    match super::hostname::host_name(inner) {
        Ok(name) => Ok(HostPattern::Name(name)),
        Err(e @ super::hostname::NameError::NumberLike) => Err(e.message(text)),
        Err(_) => Err(format!(
            "host {text:?} is neither an IP, a CIDR nor a host name"
        )),
    }
}

/// The host of an `icmp://` grant: ICMP has no ports, so none may be written.
fn icmp_host(text: &str) -> Result<HostPattern, String> {
    if text.is_empty() {
        return Err("the host is empty".into());
    }
    let bracketed_v6 = text.starts_with('[') && text.ends_with(']');
    if !bracketed_v6 && text.contains(':') {
        return Err(format!(
            "icmp:// grants take no port: write icmp://HOST (e.g. icmp://127.0.0.1, icmp://[::1]), not {text:?}"
        ));
    }
    parse_host(text)
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
            HostPattern::Net(net) => write_net(f, net)?,
            HostPattern::Name(name) => f.write_str(name)?,
        }
        if !self.kind.has_ports() {
            return Ok(());
        }
        write!(f, ":{}", self.ports)
    }
}

/// A network as a grant writes it: a bare IP for one address, brackets for IPv6.
pub(super) fn write_net(f: &mut fmt::Formatter<'_>, net: &IpNet) -> fmt::Result {
    match net {
        IpNet::V4(n) if n.prefix_len() == 32 => write!(f, "{}", n.addr()),
        IpNet::V6(n) if n.prefix_len() == 128 => write!(f, "[{}]", n.addr()),
        IpNet::V4(n) => write!(f, "{n}"),
        IpNet::V6(n) => write!(f, "[{n}]"),
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            p if p == PortRange::any() => f.write_str("*"),
            p if p.first == p.last => write!(f, "{}", p.first),
            p => write!(f, "{}-{}", p.first, p.last),
        }
    }
}
