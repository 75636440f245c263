//! Driving the TCP and UDP probe components through their typed exports, with
//! exact grants: a fresh instance per probe, compiled and linked once.

use crate::components::Builtin;
use crate::policy::{GrantKind, NetGrant, ResolvedPolicy};
use crate::runtime::{Driver, Host, Sandbox, unconstrained};
use anyhow::Result;
use std::net::SocketAddr;
use wasmtime::component::Component;

/// The TCP probe world (generated; documented in `wit/probe.wit`).
#[allow(missing_docs)]
pub mod tcp {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/tcp-probe-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: { "wasi": wasmtime_wasi::p2::bindings },
    });
}

/// The UDP probe world, sharing the probe types with the TCP one's bindings.
#[allow(missing_docs)]
pub mod udp {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/udp-probe-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "netkit:diag/probe-types": super::tcp::netkit::diag::probe_types,
        },
    });
}

pub use tcp::netkit::diag::probe_types::{
    Attempt, AttemptStatus, ProbeError, ProbeOptions, ProbeReport,
};

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tcp-probe.wasm`: connect, optionally send and expect.
    Tcp,
    /// `udp-probe.wasm`: a datagram and its reply.
    Udp,
}

impl Kind {
    /// The built-in component.
    pub fn builtin(self) -> Builtin {
        match self {
            Kind::Tcp => Builtin::TcpProbe,
            Kind::Udp => Builtin::UdpProbe,
        }
    }

    /// What an ok attempt did, for its line.
    pub fn verb(self) -> &'static str {
        match self {
            Kind::Tcp => "connected",
            Kind::Udp => "replied",
        }
    }

    /// The command's name.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Udp => "udp",
        }
    }
}

/// Grants for probing exactly `target`: `tcp-connect://` or `udp://` it. Nothing else.
pub fn client_policy(kind: Kind, target: SocketAddr) -> ResolvedPolicy {
    let grant = match kind {
        Kind::Tcp => GrantKind::TcpConnect,
        Kind::Udp => GrantKind::Udp,
    };
    ResolvedPolicy::new(vec![NetGrant::exact(grant, target)])
}

enum Export {
    Tcp(tcp::exports::netkit::diag::tcp_probe::GuestIndices),
    Udp(udp::exports::netkit::diag::udp_probe::GuestIndices),
}

/// A reusable prober for plugin hosts: the component is compiled and linked
/// once; each probe gets a fresh instance in its own store, granted only its target.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use netkit::probe::{Kind, ProbeOptions, Prober};
/// use netkit::runtime::Host;
///
/// let prober = Prober::new(&Host::new()?, Kind::Tcp)?;
/// let options = ProbeOptions { count: 1, interval_ms: 0, timeout_ms: 2000, send: None, expect: None, expect_bytes: None };
/// let report = prober.probe("127.0.0.1:22".parse()?, &options).await??;
/// println!("{:?}", report.attempts[0].rtt_ns);
/// # Ok(()) }
/// ```
pub struct Prober {
    kind: Kind,
    driver: Driver<Export>,
}

impl Prober {
    /// A prober running netkit's embedded component of `kind`.
    pub fn new(host: &Host, kind: Kind) -> Result<Self> {
        Self::from_component(host, kind, &host.builtin(kind.builtin())?)
    }

    /// A prober running `component` (which must export the `kind` probe interface).
    pub fn from_component(host: &Host, kind: Kind, component: &Component) -> Result<Self> {
        let driver = Driver::load(host, component, |pre| {
            Ok(match kind {
                Kind::Tcp => Export::Tcp(tcp::exports::netkit::diag::tcp_probe::GuestIndices::new(
                    pre,
                )?),
                Kind::Udp => Export::Udp(udp::exports::netkit::diag::udp_probe::GuestIndices::new(
                    pre,
                )?),
            })
        })?;
        Ok(Self { kind, driver })
    }

    /// Probe `target` in a fresh instance granted only that target.
    ///
    /// The outer error is a host failure (instantiation); the inner one is the
    /// guest's typed answer (a bad request, a name that does not resolve).
    pub async fn probe(
        &self,
        target: SocketAddr,
        options: &ProbeOptions,
    ) -> Result<Result<ProbeReport, ProbeError>> {
        let sandbox = Sandbox::new(self.kind.label(), client_policy(self.kind, target));
        self.probe_in(&sandbox, target, options).await
    }

    /// Probe `target` in a fresh instance under `sandbox`.
    pub async fn probe_in(
        &self,
        sandbox: &Sandbox,
        target: SocketAddr,
        options: &ProbeOptions,
    ) -> Result<Result<ProbeReport, ProbeError>> {
        let host_ip = target.ip().to_string();
        unconstrained(async {
            let (mut store, instance) = self.driver.instantiate(sandbox).await?;
            Ok(match self.driver.exports() {
                Export::Tcp(i) => {
                    i.load(&mut store, &instance)?
                        .call_probe(&mut store, &host_ip, target.port(), options)
                        .await?
                }
                Export::Udp(i) => {
                    i.load(&mut store, &instance)?
                        .call_probe(&mut store, &host_ip, target.port(), options)
                        .await?
                }
            })
        })
        .await
    }
}

/// The shared view of an attempt (its line and JSON).
pub fn view(a: &Attempt) -> probe_proto::AttemptView<'_> {
    probe_proto::attempt_view!(AttemptStatus, a)
}

/// One line describing a probe that could not run.
pub fn describe(e: &ProbeError) -> String {
    probe_proto::probe_error_text!(ProbeError, e)
}

/// The WIT name of the failure.
pub fn error_kind(e: &ProbeError) -> &'static str {
    probe_proto::probe_error_kind!(ProbeError, e)
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/probe.wit");
