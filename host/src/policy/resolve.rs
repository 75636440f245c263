//! Grants as written, and turning their names into addresses through a resolver
//! passed in (the system's in netkit, a table in tests): policy itself does no I/O.

use super::grant::{Grant, HostPattern};
use super::resolved::{NameTable, NetGrant, ResolvedPolicy};
use std::fmt;
use std::net::IpAddr;

/// Turns a host name into addresses.
pub trait Resolver {
    /// The addresses of `name`, or why there are none.
    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String>;
}

/// A name in a grant could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    /// The grant, as written.
    pub grant: String,
    /// The resolver's reason.
    pub reason: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot resolve the name in grant {}: {} (check the name, or grant an IP address)",
            self.grant, self.reason
        )
    }
}

impl std::error::Error for ResolveError {}

/// Grants as the user wrote them; names still unresolved. Only its
/// [`Policy::resolve`]d form can go into a sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    grants: Vec<Grant>,
}

impl Policy {
    /// A policy of exactly these grants.
    pub fn new(grants: Vec<Grant>) -> Self {
        Self { grants }
    }

    /// The grants, in the order given.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Replace every name grant by one grant per address `resolver` gives for it;
    /// the names with their addresses become the only names the guest may look up
    /// itself (see `crate::dns`).
    pub fn resolve(&self, resolver: &dyn Resolver) -> Result<ResolvedPolicy, ResolveError> {
        let mut out: Vec<NetGrant> = Vec::new();
        let mut names = NameTable::new();
        for g in &self.grants {
            let resolved = match &g.host {
                HostPattern::Net(net) => vec![NetGrant::net(g.kind, *net, g.ports)],
                HostPattern::Name(name) => {
                    let addrs = resolver.lookup(name).map_err(|reason| ResolveError {
                        grant: g.to_string(),
                        reason,
                    })?;
                    let entry = names.entry(name.clone()).or_default();
                    addrs
                        .into_iter()
                        .map(|ip| {
                            if !entry.contains(&ip) {
                                entry.push(ip);
                            }
                            NetGrant {
                                name: Some(name.clone()),
                                ..NetGrant::net(g.kind, ip.into(), g.ports)
                            }
                        })
                        .collect()
                }
            };
            for r in resolved {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        Ok(ResolvedPolicy::with_names(out, names))
    }
}
