//! Driving the ping component through its typed export, granted ICMP echo to
//! exactly one address (`icmp://IP`). A session gives events as they happen;
//! the host waits for each in short steps, so that an interrupt can end the
//! run and still get the guest's final statistics.

use crate::components::Builtin;
use crate::policy::{GrantKind, NetGrant, PortRange, ResolvedPolicy};
use crate::runtime::{Driver, Host, Sandbox, State, unconstrained};
use anyhow::Result;
use std::net::IpAddr;
use wasmtime::Store;
use wasmtime::component::{Component, ResourceAny};

/// The ping world (generated; documented in `wit/ping.wit`).
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/ping-component",
        exports: { default: async },
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "netkit:icmp/echo": crate::net::icmp_bindings::netkit::icmp::echo,
        },
    });
}

pub use bindings::netkit::diag::ping_types::{
    IpFamily, PingError, PingEvent, PingIcmpError, PingOptions, PingReply, PingReport,
    PingStatistics, PingStep,
};

/// The grant for pinging exactly `ip`.
pub fn client_policy(ip: IpAddr) -> ResolvedPolicy {
    ResolvedPolicy::new(vec![NetGrant::net(
        GrantKind::Icmp,
        ip.into(),
        PortRange::any(),
    )])
}

/// A reusable pinger for plugin hosts: compiled and linked once; each run gets
/// a fresh instance.
pub struct Pinger(Driver<bindings::exports::netkit::diag::ping::GuestIndices>);

/// A run in progress in its own instance.
pub struct PingSession {
    store: Store<State>,
    guest: bindings::exports::netkit::diag::ping::Guest,
    session: ResourceAny,
}

impl Pinger {
    /// A pinger running netkit's embedded ping component.
    pub fn new(host: &Host) -> Result<Self> {
        Self::from_component(host, &host.builtin(Builtin::Ping)?)
    }

    /// A pinger running `component` (which must export `netkit:diag/ping`).
    pub fn from_component(host: &Host, component: &Component) -> Result<Self> {
        Driver::load(
            host,
            component,
            bindings::exports::netkit::diag::ping::GuestIndices::new,
        )
        .map(Self)
    }

    /// A whole run in a fresh instance granted only `target` (an IP).
    pub async fn ping(
        &self,
        target: IpAddr,
        options: &PingOptions,
    ) -> Result<Result<PingReport, PingError>> {
        let sandbox = Sandbox::new("ping", client_policy(target));
        self.ping_in(&sandbox, &target.to_string(), options).await
    }

    /// A whole run under `sandbox`.
    pub async fn ping_in(
        &self,
        sandbox: &Sandbox,
        target: &str,
        options: &PingOptions,
    ) -> Result<Result<PingReport, PingError>> {
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            Ok(self
                .0
                .exports()
                .load(&mut store, &instance)?
                .call_ping(&mut store, target, *options)
                .await?)
        })
        .await
    }

    /// Start a run under `sandbox`; its events come from [`PingSession::next`].
    pub async fn start(
        &self,
        sandbox: &Sandbox,
        target: &str,
        options: &PingOptions,
    ) -> Result<Result<PingSession, PingError>> {
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            let guest = self.0.exports().load(&mut store, &instance)?;
            let started = guest
                .session()
                .call_start(&mut store, target, *options)
                .await?;
            Ok(started.map(|session| PingSession {
                store,
                guest,
                session,
            }))
        })
        .await
    }
}

impl PingSession {
    /// The address being pinged.
    pub async fn address(&mut self) -> Result<String> {
        let s = self.session;
        Ok(unconstrained(self.guest.session().call_address(&mut self.store, s)).await?)
    }

    /// The next event, waiting `wait_ms` at most.
    pub async fn next(&mut self, wait_ms: u64) -> Result<PingStep> {
        let s = self.session;
        Ok(unconstrained(self.guest.session().call_next(&mut self.store, s, wait_ms)).await?)
    }

    /// End the run now.
    pub async fn stop(&mut self) -> Result<()> {
        let s = self.session;
        Ok(unconstrained(self.guest.session().call_stop(&mut self.store, s)).await?)
    }

    /// The statistics so far.
    pub async fn statistics(&mut self) -> Result<PingStatistics> {
        let s = self.session;
        Ok(unconstrained(self.guest.session().call_statistics(&mut self.store, s)).await?)
    }
}

/// The ping-proto view of a WIT event (for the shared text and JSON).
pub fn shown(e: &PingEvent) -> ping_proto::Shown {
    match e {
        PingEvent::Reply(r) => ping_proto::Shown::Reply(ping_proto::Reply {
            sequence: r.sequence,
            size: r.size,
            source: r.source.clone(),
            hop_limit: r.hop_limit,
            rtt_ns: r.rtt_ns,
            duplicate: r.duplicate,
            out_of_order: r.out_of_order,
        }),
        PingEvent::Lost(seq) => ping_proto::Shown::Lost(*seq),
        PingEvent::IcmpError(e) => ping_proto::Shown::Error(ping_proto::IcmpError {
            sequence: e.sequence,
            kind: ping_proto::text::icmp_kind_of(&e.kind),
            from: e.from.clone(),
            icmp_type: e.type_,
            code: e.code,
            detail: e.detail.clone(),
        }),
    }
}

/// The ping-proto view of WIT statistics.
pub fn statistics(s: &PingStatistics) -> ping_proto::Statistics {
    ping_proto::Statistics {
        transmitted: s.transmitted,
        received: s.received,
        duplicates: s.duplicates,
        errors: s.errors,
        time_ns: s.time_ms.saturating_mul(1_000_000),
        rtt_min_ns: s.rtt_min_ns,
        rtt_avg_ns: s.rtt_avg_ns,
        rtt_max_ns: s.rtt_max_ns,
        rtt_mdev_ns: s.rtt_mdev_ns,
    }
}

/// The WIT name of an error's case and its text.
pub fn describe(e: &PingError) -> (&'static str, String) {
    match e {
        PingError::InvalidRequest(t) => ("invalid-request", t.clone()),
        PingError::NameNotFound(t) => ("name-not-found", t.clone()),
        PingError::Denied(t) => ("denied", t.clone()),
        PingError::NotPermitted(t) => ("not-permitted", t.clone()),
        PingError::Failed(t) => ("failed", t.clone()),
    }
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/ping.wit");
const _: &[u8] = include_bytes!("../../wit/deps/netkit-icmp.wit");
