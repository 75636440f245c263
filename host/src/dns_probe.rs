//! Driving the DNS probe component through its typed export, with exact grants:
//! datagrams to and from the server, and a TCP connection to it for truncated
//! answers or `--tcp`. The default server comes from /etc/resolv.conf, read
//! here by the host, never by the guest.

use crate::components::Builtin;
use crate::policy::{GrantKind, NetGrant, ResolvedPolicy};
use crate::runtime::{Driver, Host, Sandbox, unconstrained};
use anyhow::{Context, Result, bail};
use std::net::{IpAddr, SocketAddr};
use wasmtime::component::Component;

/// The DNS probe world (generated; documented in `wit/dns.wit`).
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/dns-probe-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: { "wasi": wasmtime_wasi::p2::bindings },
    });
}

pub use bindings::netkit::diag::dns_types::{DnsAnswer, DnsError, DnsQuery, DnsRecord};

/// Grants for asking exactly `server`: `udp://` it and `tcp-connect://` it.
pub fn client_policy(server: SocketAddr) -> ResolvedPolicy {
    ResolvedPolicy::new(vec![
        NetGrant::exact(GrantKind::Udp, server),
        NetGrant::exact(GrantKind::TcpConnect, server),
    ])
}

/// The first `nameserver` in resolv.conf-formatted `text`.
pub fn first_nameserver(text: &str) -> Option<IpAddr> {
    text.lines()
        .map(|l| l.split(['#', ';']).next().unwrap_or("").trim())
        .filter_map(|l| l.strip_prefix("nameserver"))
        .filter_map(|rest| {
            let addr = rest.trim();
            // A scoped IPv6 address (fe80::1%eth0) keeps its address part.
            addr.split('%').next()?.parse::<IpAddr>().ok()
        })
        .next()
}

/// The system's DNS server: the first `nameserver` of /etc/resolv.conf.
pub fn system_server() -> Result<IpAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf")
        .context("cannot read /etc/resolv.conf to find a DNS server (give one with --server IP)")?;
    match first_nameserver(&text) {
        Some(ip) => Ok(ip),
        None => bail!("/etc/resolv.conf names no nameserver (give one with --server IP)"),
    }
}

/// A reusable DNS client for plugin hosts: compiled and linked once; each query
/// gets a fresh instance granted only its server.
pub struct DnsClient(Driver<bindings::exports::netkit::diag::dns_probe::GuestIndices>);

impl DnsClient {
    /// A client running netkit's embedded DNS probe.
    pub fn new(host: &Host) -> Result<Self> {
        Self::from_component(host, &host.builtin(Builtin::DnsProbe)?)
    }

    /// A client running `component` (which must export `netkit:diag/dns-probe`).
    pub fn from_component(host: &Host, component: &Component) -> Result<Self> {
        Driver::load(
            host,
            component,
            bindings::exports::netkit::diag::dns_probe::GuestIndices::new,
        )
        .map(Self)
    }

    /// Send `query` in a fresh instance granted only its server.
    pub async fn query(&self, query: &DnsQuery) -> Result<Result<DnsAnswer, DnsError>> {
        let ip: IpAddr = query
            .server
            .parse()
            .with_context(|| format!("DNS server {:?} is not an IP address", query.server))?;
        let sandbox = Sandbox::new("dns", client_policy(SocketAddr::new(ip, query.port)));
        self.query_in(&sandbox, query).await
    }

    /// Send `query` in a fresh instance under `sandbox`.
    pub async fn query_in(
        &self,
        sandbox: &Sandbox,
        query: &DnsQuery,
    ) -> Result<Result<DnsAnswer, DnsError>> {
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            Ok(self
                .0
                .exports()
                .load(&mut store, &instance)?
                .call_query(&mut store, query)
                .await?)
        })
        .await
    }
}

/// The dig-style text of an answer.
pub fn answer_text(a: &DnsAnswer) -> String {
    dns_proto::dns_answer_text!(a)
}

/// One line describing a failure.
pub fn describe(e: &DnsError) -> String {
    dns_proto::dns_error_text!(DnsError, e)
}

/// The WIT name of the failure's case.
pub fn error_kind(e: &DnsError) -> &'static str {
    dns_proto::dns_error_kind!(DnsError, e)
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/dns.wit");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_nameserver_wins() {
        let conf =
            "# generated\nsearch example.test\nnameserver 10.0.0.53 # main\nnameserver 10.0.0.54\n";
        assert_eq!(first_nameserver(conf), Some("10.0.0.53".parse().unwrap()));
        assert_eq!(
            first_nameserver("nameserver fe80::1%eth0\n"),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(first_nameserver("; nameserver 1.1.1.1\nsearch x\n"), None);
        assert_eq!(
            first_nameserver("nameserver not-an-ip\nnameserver ::1\n"),
            Some("::1".parse().unwrap())
        );
    }
}
