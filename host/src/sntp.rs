//! Driving the SNTP components through their typed exports, with exact grants.

use crate::policy::{GrantKind, NetGrant, ResolvedPolicy};
use crate::runtime::{Driver, Host, Sandbox, unconstrained};
use anyhow::Result;
use ipnet::IpNet;
use std::net::SocketAddr;
use std::time::Duration;
use wasmtime::component::Component;

/// The SNTP client world (generated; documented in `wit/sntp.wit`).
#[allow(missing_docs)]
pub mod client {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/sntp-client-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: { "wasi": wasmtime_wasi::p2::bindings },
    });
}

/// The SNTP server world, sharing the SNTP types with the client's bindings.
#[allow(missing_docs)]
pub mod server {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/sntp-server-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "netkit:diag/sntp-types": super::client::netkit::diag::sntp_types,
        },
    });
}

pub use client::netkit::diag::sntp_types::{
    Family, Leap, NtsInfo, NtsOptions, NtsQueryResult, NtsSession, QueryOptions, Report,
    ServerConfig, ServerSummary, SntpError,
};

/// Grants for a query of exactly `server`: datagrams to and from it (and the
/// wildcard ephemeral bind that implies). Nothing else.
pub fn client_policy(server: SocketAddr) -> ResolvedPolicy {
    ResolvedPolicy::new(vec![NetGrant::exact(GrantKind::Udp, server)])
}

/// Grants for a server on exactly `addr`, answering clients in `allow_from` (everyone when empty).
pub fn server_policy(addr: SocketAddr, allow_from: &[IpNet]) -> ResolvedPolicy {
    ResolvedPolicy::server(GrantKind::UdpBind, addr, GrantKind::Udp, allow_from)
}

/// Query `server` with the SNTP client `component` under `sandbox`.
pub async fn query(
    host: &Host,
    component: &Component,
    sandbox: &Sandbox,
    server: SocketAddr,
    options: &QueryOptions,
) -> Result<Result<Report, SntpError>> {
    SntpClient::from_component(host, component)?
        .query_in(sandbox, server, options)
        .await
}

/// A reusable SNTP client for plugin hosts: the component is compiled and linked
/// once ([`wasmtime::component::InstancePre`]); each query gets a fresh instance in
/// its own store, granted only that server.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use netkit::runtime::Host;
/// use netkit::sntp::{Family, QueryOptions, SntpClient};
///
/// let host = Host::new()?;
/// let client = SntpClient::new(&host)?;
/// let options = QueryOptions { timeout_ms: 2000, tries: 3, samples: 1, burst: true, family: Family::Any };
/// let report = client.query("127.0.0.1:123".parse()?, &options).await?;
/// # Ok(()) }
/// ```
pub struct SntpClient(Driver<SntpExports>);

/// Where the SNTP client's exports live; looked up once, and only those
/// interfaces (the world's `wasi:cli/run` is never needed here).
struct SntpExports {
    /// `netkit:diag/sntp-client`.
    query: client::exports::netkit::diag::sntp_client::GuestIndices,
    /// `netkit:diag/nts-client`, when the component exports it.
    nts: Option<client::exports::netkit::diag::nts_client::GuestIndices>,
}

impl SntpClient {
    /// A client running netkit's embedded SNTP client component.
    pub fn new(host: &Host) -> Result<Self> {
        Self::from_component(host, &host.builtin(crate::components::Builtin::SntpClient)?)
    }

    /// A client running `component` (which must export `netkit:diag/sntp-client`).
    pub fn from_component(host: &Host, component: &Component) -> Result<Self> {
        Driver::load(host, component, |pre| {
            Ok(SntpExports {
                query: client::exports::netkit::diag::sntp_client::GuestIndices::new(pre)?,
                nts: client::exports::netkit::diag::nts_client::GuestIndices::new(pre).ok(),
            })
        })
        .map(Self)
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
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            Ok(self
                .0
                .exports()
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

impl SntpClient {
    fn nts_export(&self) -> Result<&client::exports::netkit::diag::nts_client::GuestIndices> {
        self.0.exports().nts.as_ref().ok_or_else(|| {
            anyhow::anyhow!("the component does not export netkit:diag/nts-client (NTS)")
        })
    }

    /// An NTS key exchange with `name` at `addr` in a fresh instance under
    /// `sandbox` (which should grant exactly `tcp-connect://addr`).
    pub async fn key_exchange_in(
        &self,
        sandbox: &Sandbox,
        name: &str,
        addr: SocketAddr,
        options: &NtsOptions,
    ) -> Result<Result<NtsSession, SntpError>> {
        let export = self.nts_export()?;
        let ip = addr.ip().to_string();
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            Ok(export
                .load(&mut store, &instance)?
                .call_key_exchange(&mut store, name, addr.port(), Some(&ip), options)
                .await?)
        })
        .await
    }

    /// An NTS-authenticated query with `session` in a fresh instance under
    /// `sandbox` (which should grant exactly the session's NTP server).
    pub async fn nts_query_in(
        &self,
        sandbox: &Sandbox,
        session: &NtsSession,
        options: &QueryOptions,
    ) -> Result<NtsQueryResult> {
        let export = self.nts_export()?;
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            Ok(export
                .load(&mut store, &instance)?
                .call_authenticated_query(&mut store, session, *options)
                .await?)
        })
        .await
    }
}

/// A running SNTP server component.
pub type ServerHandle = crate::runtime::ServerHandle<Result<ServerSummary, SntpError>>;

/// Start `config` in the SNTP server `component` under `sandbox`.
pub fn start_server(
    host: &Host,
    component: &Component,
    sandbox: &Sandbox,
    mut config: ServerConfig,
) -> ServerHandle {
    config.stop_on_stdin_eof = true;
    let component = component.clone();
    host.spawn_server(sandbox, move |host, mut store| async move {
        let instance =
            server::SntpServerComponent::instantiate_async(&mut store, &component, host.linker())
                .await?;
        Ok(instance
            .netkit_diag_sntp_server()
            .call_serve(&mut store, &config)
            .await?)
    })
}

/// One line describing an SNTP failure (the same text the component prints).
pub fn describe(e: &SntpError) -> String {
    sntp_proto::sntp_error_text!(SntpError, e)
}

/// Run `query` until the server stops refusing it, for at most `within`
/// (every 20 ms): a host that has just started a server component may query
/// it before the component has bound its port, and the kernel then answers
/// "connection refused". Any other outcome is returned at once.
pub async fn when_listening<F, Fut>(
    within: Duration,
    mut query: F,
) -> Result<Result<Report, SntpError>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<Report, SntpError>>>,
{
    let give_up = tokio::time::Instant::now() + within;
    loop {
        let outcome = query().await?;
        if !matches!(&outcome, Err(e) if refused(e)) || tokio::time::Instant::now() >= give_up {
            return Ok(outcome);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the server refused the query (ICMP port unreachable: nothing
/// listens on that port).
fn refused(e: &SntpError) -> bool {
    // netio's text for ErrorCode::ConnectionRefused (guest/netio/src/error.rs).
    matches!(e, SntpError::Unreachable(m) if m.contains("connection refused"))
}

/// The WIT name of the failure's case (`timeout`, `kiss-of-death`, ...).
pub fn error_kind(e: &SntpError) -> &'static str {
    sntp_proto::sntp_error_kind!(SntpError, e)
}

/// A report as the plain values the shared text takes.
pub fn report_line(r: &Report) -> sntp_proto::ReportLine<'_> {
    sntp_proto::report_line!(Leap, r)
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/sntp.wit");
