//! A policy whose hosts are all addresses: the only kind a sandbox accepts.

use super::grant::{GrantKind, PortRange, write_net};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use wasmtime_wasi::sockets::SocketAddrUse;

/// Granted names and the addresses each resolved to (lower-case names).
pub type NameTable = BTreeMap<String, Vec<IpAddr>>;

/// One resolved permission: a kind, a network and a port range; `name` is the
/// host name it was resolved from, if any (shown, never matched).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetGrant {
    /// What is allowed.
    pub kind: GrantKind,
    /// With which addresses.
    pub net: IpNet,
    /// On which ports.
    pub ports: PortRange,
    /// The granted name this address came from.
    pub name: Option<String>,
}

impl NetGrant {
    /// A grant for exactly one socket address.
    pub fn exact(kind: GrantKind, addr: SocketAddr) -> Self {
        Self::net(kind, IpNet::from(addr.ip()), PortRange::single(addr.port()))
    }

    /// A grant for a network and port range.
    pub fn net(kind: GrantKind, net: IpNet, ports: PortRange) -> Self {
        Self {
            kind,
            net,
            ports,
            name: None,
        }
    }

    /// Whether `addr` falls inside this grant's network and ports.
    pub fn covers(&self, addr: SocketAddr) -> bool {
        self.ports.contains(addr.port()) && self.net.contains(&addr.ip())
    }
}

/// `udp://127.0.0.1:123`, or `udp://localhost:123 (127.0.0.1)` for a resolved name.
impl fmt::Display for NetGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind.scheme())?;
        let ports = self.kind.has_ports();
        if let Some(name) = &self.name {
            f.write_str(name)?;
            if ports {
                write!(f, ":{}", self.ports)?;
            }
            f.write_str(" (")?;
        }
        write_net(f, &self.net)?;
        match &self.name {
            Some(_) => f.write_str(")"),
            None if ports => write!(f, ":{}", self.ports),
            None => Ok(()),
        }
    }
}

/// Grants with every name resolved, and the names a guest may look up.
/// Anything no grant covers is denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedPolicy {
    grants: Vec<NetGrant>,
    names: NameTable,
}

impl ResolvedPolicy {
    /// A policy of exactly these grants and no names (none: everything is denied).
    pub fn new(grants: Vec<NetGrant>) -> Self {
        Self {
            grants,
            names: NameTable::new(),
        }
    }

    /// A server's grants: `bind` exactly `addr`, and `peer` with clients in
    /// `allow_from` on any port (everyone, IPv4 and IPv6, when empty).
    pub fn server(
        bind: GrantKind,
        addr: SocketAddr,
        peer: GrantKind,
        allow_from: &[IpNet],
    ) -> Self {
        let everyone = [
            IpNet::new_assert(IpAddr::from([0u8; 4]), 0),
            IpNet::new_assert(IpAddr::from([0u16; 8]), 0),
        ];
        let peers = if allow_from.is_empty() {
            &everyone[..]
        } else {
            allow_from
        };
        let mut grants = vec![NetGrant::exact(bind, addr)];
        grants.extend(
            peers
                .iter()
                .map(|n| NetGrant::net(peer, *n, PortRange::any())),
        );
        Self::new(grants)
    }

    /// The same grants, those for exactly `ip` shown as coming from `name`
    /// (how a target given by name on the command line is shown).
    pub fn naming(mut self, name: Option<&str>, ip: IpAddr) -> Self {
        if let Some(name) = name {
            for g in &mut self.grants {
                if g.net == IpNet::from(ip) {
                    g.name = Some(name.to_string());
                }
            }
        }
        self
    }

    pub(super) fn with_names(grants: Vec<NetGrant>, names: NameTable) -> Self {
        Self { grants, names }
    }

    /// The grants, in the order given.
    pub fn grants(&self) -> &[NetGrant] {
        &self.grants
    }

    /// The names the guest may look up, with the addresses it gets.
    pub fn names(&self) -> &NameTable {
        &self.names
    }

    /// The grants as one line, e.g. `tcp-connect://127.0.0.1:7007, udp://[::1]:123`
    /// (`nothing (no network)` when there are none): how every command shows them.
    pub fn summary(&self) -> String {
        if self.grants.is_empty() {
            return "nothing (no network)".into();
        }
        let list: Vec<String> = self.grants.iter().map(|g| g.to_string()).collect();
        list.join(", ")
    }

    /// The grant that allows `use_` of `addr`, or `None`: denied.
    ///
    /// Implicit binds (the wildcard address with port 0, which wasmtime-wasi checks
    /// before a connect or a first send) are allowed when a grant of the matching
    /// client kind exists, since they reach no peer.
    pub fn check(&self, addr: SocketAddr, use_: SocketAddrUse) -> Option<&NetGrant> {
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

    /// The `icmp://` grant that allows echo requests to `ip`, or `None`: denied.
    pub fn check_icmp(&self, ip: IpAddr) -> Option<&NetGrant> {
        self.grants
            .iter()
            .find(|g| g.kind == GrantKind::Icmp && g.net.contains(&ip))
    }

    /// Whether any grant concerns TCP; if none does, TCP stays switched off.
    pub fn uses_tcp(&self) -> bool {
        self.grants.iter().any(|g| g.kind.is_tcp())
    }

    /// Whether any grant concerns UDP; if none does, UDP stays switched off.
    pub fn uses_udp(&self) -> bool {
        self.grants.iter().any(|g| g.kind.is_udp())
    }
}
