//! Targets as users write them (IP, `[IPv6]` or host name) to one address,
//! resolved by netkit for every command and for `netkit watch` (the component
//! only ever sees the IP).

use crate::dns::SystemResolver;
use crate::policy::Resolver;
use anyhow::{Result, bail};
use std::net::{IpAddr, SocketAddr};

/// Which address family a name may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The first address of either family.
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    /// From the `-4` and `-6` flags.
    pub fn of(flags: cli_args::flags::FamilyFlags) -> Self {
        match (flags.ipv4, flags.ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        }
    }

    fn admits(self, ip: IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// A target: its address, and the name it was given as (if it was a name).
pub struct Target {
    /// Where to connect or bind.
    pub addr: SocketAddr,
    /// The host name as given, when it was not an IP literal.
    pub name: Option<String>,
}

/// Resolve `host` (IP, `[IPv6]` or name) with `port`.
pub fn target(host: &str, port: u16, family: Family) -> Result<Target> {
    let bare = crate::policy::unbracket(host);
    if let Some(ip) = crate::policy::ip_literal(host) {
        if !family.admits(ip) {
            bail!("host {host:?} is not an {} address", family_name(family));
        }
        return Ok(Target {
            addr: SocketAddr::new(ip, port),
            name: None,
        });
    }
    // Never hand a number-like "name" to the resolver: it would read 127.0.0.010
    // as octal.
    let name = crate::policy::host_name(bare).map_err(|e| anyhow::anyhow!(e.message(host)))?;
    let all = SystemResolver
        .lookup(&name)
        .map_err(|e| anyhow::anyhow!("cannot resolve host {host:?}: {e}"))?;
    let Some(ip) = all.into_iter().find(|ip| family.admits(*ip)) else {
        bail!("host {host:?} has no {} address", family_name(family));
    };
    Ok(Target {
        addr: SocketAddr::new(ip, port),
        name: Some(name),
    })
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
        Family::Any => "IP",
    }
}
