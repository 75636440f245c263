//! Driving the echo components through their typed exports, with exact grants.

use crate::policy::{GrantKind, NetGrant, ResolvedPolicy};
use crate::runtime::{Host, Sandbox};
use anyhow::Result;
use ipnet::IpNet;
use std::net::SocketAddr;
use wasmtime::component::Component;

/// The echo server world (generated; documented in `wit/echo.wit`).
#[allow(missing_docs)]
pub mod echo_server {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/echo-server-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: { "wasi": wasmtime_wasi::p2::bindings },
    });
}

/// The echo client world, sharing the echo types with the server's bindings.
#[allow(missing_docs)]
pub mod echo_client {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/echo-client-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "netkit:diag/echo-types": super::echo_server::netkit::diag::echo_types,
        },
    });
}

pub use echo_server::netkit::diag::echo_types::{
    ClientReport, ClientRequest, EchoError, Mismatch, Payload, ServerConfig, ServerSummary,
    Transport,
};

/// Grants for a server on exactly `addr`: bind and listen (TCP) or bind (UDP) there,
/// and talk to clients in `allow_from` (everyone when empty).
pub fn server_policy(
    addr: SocketAddr,
    transport: Transport,
    allow_from: &[IpNet],
) -> ResolvedPolicy {
    match transport {
        Transport::Tcp => {
            ResolvedPolicy::server(GrantKind::TcpListen, addr, GrantKind::TcpAccept, allow_from)
        }
        Transport::Udp => {
            ResolvedPolicy::server(GrantKind::UdpBind, addr, GrantKind::Udp, allow_from)
        }
    }
}

/// The transport a `--udp` flag asks for.
pub fn transport(udp: bool) -> Transport {
    if udp { Transport::Udp } else { Transport::Tcp }
}

/// Grants for a client of exactly `addr`: a connection (TCP) or datagrams (UDP).
pub fn client_policy(addr: SocketAddr, transport: Transport) -> ResolvedPolicy {
    let kind = match transport {
        Transport::Tcp => GrantKind::TcpConnect,
        Transport::Udp => GrantKind::Udp,
    };
    ResolvedPolicy::new(vec![NetGrant::exact(kind, addr)])
}

/// A running echo server component.
pub type ServerHandle = crate::runtime::ServerHandle<Result<ServerSummary, EchoError>>;

/// Start `config` in the echo server `component` under `sandbox`.
pub fn start_server(
    host: &Host,
    component: &Component,
    sandbox: &Sandbox,
    mut config: ServerConfig,
) -> ServerHandle {
    config.stop_on_stdin_eof = true;
    let component = component.clone();
    host.spawn_server(sandbox, move |host, mut store| async move {
        let instance = echo_server::EchoServerComponent::instantiate_async(
            &mut store,
            &component,
            host.linker(),
        )
        .await?;
        Ok(instance
            .netkit_diag_echo_server()
            .call_serve(&mut store, &config)
            .await?)
    })
}

/// Run `request` in the echo client `component` under `sandbox`.
pub async fn run_client(
    host: &Host,
    component: &Component,
    sandbox: &Sandbox,
    request: &ClientRequest,
) -> Result<Result<ClientReport, EchoError>> {
    let (mut store, _) = host.store(sandbox);
    crate::runtime::unconstrained(async {
        let instance = echo_client::EchoClientComponent::instantiate_async(
            &mut store,
            component,
            host.linker(),
        )
        .await?;
        Ok(instance
            .netkit_diag_echo_client()
            .call_run(&mut store, request)
            .await?)
    })
    .await
}

/// One line describing an echo failure (the same text the component prints).
pub fn describe(e: &EchoError) -> String {
    echo_proto::echo_error_text!(EchoError, e)
}

/// The WIT name of the failure's case (`timeout`, `short-echo`, ...).
pub fn error_kind(e: &EchoError) -> &'static str {
    echo_proto::echo_error_kind!(EchoError, e)
}

/// The result line for a report (the same text the component prints).
pub fn summary_line(r: &ClientReport, payload: &Payload) -> String {
    let message = match payload {
        Payload::Message(m) => Some(m.as_str()),
        Payload::Generated(_) => None,
    };
    echo_proto::summary_line(message, &echo_proto::run_summary!(r))
}

/// Throughput of a report in MB/s.
pub fn megabytes_per_second(r: &ClientReport) -> f64 {
    echo_proto::megabytes_per_second(r.total_bytes, r.elapsed_ns)
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/echo.wit");
