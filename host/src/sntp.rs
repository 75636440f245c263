//! Driving the SNTP components through their typed exports, with exact grants.

use crate::policy::{Grant, GrantKind, Policy, PortRange};
use crate::runtime::sntp_bindings::{client, server};
use crate::runtime::{Runtime, Sandbox, State, unconstrained};
use anyhow::Result;
use ipnet::IpNet;
use std::net::SocketAddr;
use wasmtime::component::Component;

pub use client::netkit::diag::sntp_types::{
    Family, Leap, QueryOptions, Report, ServerConfig, ServerSummary, SntpError,
};

/// Grants for a query of exactly `server`: datagrams to and from it (and the
/// wildcard ephemeral bind that implies). Nothing else.
pub fn client_policy(server: SocketAddr) -> Policy {
    Policy::new(vec![Grant::exact(GrantKind::Udp, server)])
}

/// Grants for a server on exactly `addr`, answering clients in `allow_from` (everyone when empty).
pub fn server_policy(addr: SocketAddr, allow_from: &[IpNet]) -> Policy {
    let everyone: [IpNet; 2] = ["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
    let peers = if allow_from.is_empty() {
        &everyone[..]
    } else {
        allow_from
    };
    let mut grants = vec![Grant::exact(GrantKind::UdpBind, addr)];
    grants.extend(
        peers
            .iter()
            .map(|n| Grant::net(GrantKind::Udp, *n, PortRange::any())),
    );
    Policy::new(grants)
}

/// Query `server` with the SNTP client `component` under `sandbox`.
pub async fn query(
    rt: &Runtime,
    component: &Component,
    sandbox: &Sandbox,
    server: SocketAddr,
    options: &QueryOptions,
) -> Result<Result<Report, SntpError>> {
    SntpClient::from_component(rt, component)?
        .query_in(sandbox, server, options)
        .await
}

/// A reusable SNTP client for plugin hosts: the component is compiled and linked
/// once ([`wasmtime::component::InstancePre`]); each query gets a fresh instance in
/// its own store, granted only that server.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use netkit::runtime::Runtime;
/// use netkit::sntp::{Family, QueryOptions, SntpClient};
///
/// let rt = Runtime::new()?;
/// let client = SntpClient::new(&rt)?;
/// let options = QueryOptions { timeout_ms: 2000, tries: 3, samples: 1, burst: true, family: Family::Any };
/// let report = client.query("127.0.0.1:123".parse()?, &options).await?;
/// # Ok(()) }
/// ```
pub struct SntpClient {
    rt: Runtime,
    pre: wasmtime::component::InstancePre<State>,
    /// Where the `netkit:diag/sntp-client` export lives; looked up once, and
    /// only that interface (the world's `wasi:cli/run` is never needed here).
    query: client::exports::netkit::diag::sntp_client::GuestIndices,
}

impl SntpClient {
    /// A client running netkit's embedded SNTP client component.
    pub fn new(rt: &Runtime) -> Result<Self> {
        Self::from_component(
            rt,
            &rt.compile(crate::components::Builtin::SntpClient.bytes())?,
        )
    }

    /// A client running `component` (which must export `netkit:diag/sntp-client`).
    pub fn from_component(rt: &Runtime, component: &Component) -> Result<Self> {
        let pre = rt
            .linker()
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)?;
        let query = client::exports::netkit::diag::sntp_client::GuestIndices::new(&pre)
            .map_err(anyhow::Error::from)?;
        Ok(Self {
            rt: rt.clone(),
            pre,
            query,
        })
    }

    /// Query `server` in a fresh instance granted only `udp://server`.
    ///
    /// The outer error is a host failure (instantiation); the inner one is the
    /// guest's typed answer (timeout, kiss-o'-death, denied, ...).
    pub async fn query(
        &self,
        server: SocketAddr,
        options: &QueryOptions,
    ) -> Result<Result<Report, SntpError>> {
        self.query_in(
            &Sandbox::new("sntp", client_policy(server)),
            server,
            options,
        )
        .await
    }

    /// Query `server` in a fresh instance under `sandbox` (which may grant more,
    /// or less, than `server`).
    pub async fn query_in(
        &self,
        sandbox: &Sandbox,
        server: SocketAddr,
        options: &QueryOptions,
    ) -> Result<Result<Report, SntpError>> {
        let (mut store, _) = self.rt.store(sandbox);
        unconstrained(async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            Ok(self
                .query
                .load(&mut store, &instance)?
                .call_query(
                    &mut store,
                    &server.ip().to_string(),
                    server.port(),
                    *options,
                )
                .await?)
        })
        .await
    }
}

/// A running SNTP server component.
pub type ServerHandle = crate::runtime::ServerHandle<Result<ServerSummary, SntpError>>;

/// Start `config` in the SNTP server `component` under `sandbox`.
pub fn start_server(
    rt: &Runtime,
    component: &Component,
    sandbox: &Sandbox,
    mut config: ServerConfig,
) -> ServerHandle {
    config.stop_on_stdin_eof = true;
    let component = component.clone();
    rt.spawn_server(sandbox, move |rt, mut store| async move {
        let instance =
            server::SntpServerComponent::instantiate_async(&mut store, &component, rt.linker())
                .await?;
        Ok(instance
            .netkit_diag_sntp_server()
            .call_serve(&mut store, &config)
            .await?)
    })
}

/// One line describing an SNTP failure.
pub fn describe(e: &SntpError) -> String {
    match e {
        SntpError::KissOfDeath(code) => format!("server sent kiss-o'-death {code}; stop asking it"),
        SntpError::InvalidRequest(s)
        | SntpError::Timeout(s)
        | SntpError::Unsynchronized(s)
        | SntpError::BadReply(s)
        | SntpError::Denied(s)
        | SntpError::Unreachable(s)
        | SntpError::NameNotFound(s)
        | SntpError::Network(s) => s.clone(),
    }
}

/// The short name of a leap indicator, as ntpdig prints it.
pub fn leap_name(l: Leap) -> &'static str {
    match l {
        Leap::NoWarning => "no-leap",
        Leap::Insert => "add-leap",
        Leap::Delete => "del-leap",
        Leap::Unsynchronized => "unsync",
    }
}

/// Error bound of a report (see [`sntp_proto::error_bound_ns`]).
pub fn error_ns(r: &Report) -> u64 {
    sntp_proto::error_bound_ns(r.delay_ns, r.root_delay_ns, r.root_dispersion_ns)
}

/// The ntpdig-style line for a report.
pub fn text(r: &Report) -> String {
    let time = sntp_proto::arrival_time(r.transmit_seconds, r.transmit_nanos, r.delay_ns);
    let host = r
        .server
        .parse::<SocketAddr>()
        .map_or_else(|_| r.server.clone(), |a| a.ip().to_string());
    sntp_proto::summary_line(
        time,
        r.offset_ns,
        error_ns(r),
        &host,
        r.stratum,
        leap_name(r.leap),
    )
}
