//! Driving the echo components through their typed exports, with exact grants.

use crate::policy::{Grant, GrantKind, Policy, PortRange};
use crate::runtime::bindings::{echo_client, echo_server};
use crate::runtime::{Runtime, Sandbox};
use anyhow::Result;
use ipnet::IpNet;
use std::net::SocketAddr;
use wasmtime::component::Component;

pub use echo_server::netkit::diag::echo_types::{
    ClientReport, ClientRequest, EchoError, Mismatch, Payload, ServerConfig, ServerSummary,
    Transport,
};

/// Grants for a server on exactly `addr`: bind and listen (TCP) or bind (UDP) there,
/// and talk to clients in `allow_from` (everyone when empty).
pub fn server_policy(addr: SocketAddr, transport: Transport, allow_from: &[IpNet]) -> Policy {
    let everyone: [IpNet; 2] = ["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
    let peers = if allow_from.is_empty() {
        &everyone[..]
    } else {
        allow_from
    };
    let (bind, peer) = match transport {
        Transport::Tcp => (GrantKind::TcpListen, GrantKind::TcpAccept),
        Transport::Udp => (GrantKind::UdpBind, GrantKind::Udp),
    };
    let mut grants = vec![Grant::exact(bind, addr)];
    grants.extend(peers.iter().map(|n| Grant::net(peer, *n, PortRange::any())));
    Policy::new(grants)
}

/// Grants for a client of exactly `addr`.
pub fn client_policy(addr: SocketAddr) -> Policy {
    Policy::new(vec![Grant::exact(GrantKind::TcpConnect, addr)])
}

/// A running echo server component.
pub type ServerHandle = crate::runtime::ServerHandle<Result<ServerSummary, EchoError>>;

/// Start `config` in the echo server `component` under `sandbox`.
pub fn start_server(
    rt: &Runtime,
    component: &Component,
    sandbox: &Sandbox,
    mut config: ServerConfig,
) -> ServerHandle {
    config.stop_on_stdin_eof = true;
    let component = component.clone();
    rt.spawn_server(sandbox, move |rt, mut store| async move {
        let instance = echo_server::EchoServerComponent::instantiate_async(
            &mut store,
            &component,
            rt.linker(),
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
    rt: &Runtime,
    component: &Component,
    sandbox: &Sandbox,
    request: &ClientRequest,
) -> Result<Result<ClientReport, EchoError>> {
    let (mut store, _) = rt.store(sandbox);
    crate::runtime::unconstrained(async {
        let instance =
            echo_client::EchoClientComponent::instantiate_async(&mut store, component, rt.linker())
                .await?;
        Ok(instance
            .netkit_diag_echo_client()
            .call_run(&mut store, request)
            .await?)
    })
    .await
}

/// One line describing an echo failure.
pub fn describe(e: &EchoError) -> String {
    match e {
        EchoError::InvalidRequest(s)
        | EchoError::Denied(s)
        | EchoError::Refused(s)
        | EchoError::Reset(s)
        | EchoError::Timeout(s)
        | EchoError::AddressInUse(s)
        | EchoError::Network(s) => s.clone(),
        EchoError::ShortEcho(m) => format!(
            "short echo from {}: peer closed after {} of {} bytes",
            m.server, m.at, m.expected
        ),
        EchoError::WrongEcho(m) => format!(
            "wrong echo from {}: byte {} of {} differs from what was sent",
            m.server, m.at, m.expected
        ),
    }
}

/// Throughput of a report in MB/s.
pub fn megabytes_per_second(r: &ClientReport) -> f64 {
    echo_proto::megabytes_per_second(r.total_bytes, r.elapsed_ns)
}
