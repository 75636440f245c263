//! A component reaching outside its grant is refused, audited, and nothing
//! arrives at the address it tried: a real listener there must see no connection.

use netkit::components::Builtin;
use netkit::echo::{self, ClientRequest, EchoError, Payload, ServerConfig, Transport};
use netkit::runtime::{Host, Sandbox};
use netkit_tests::free_port;
use std::net::{SocketAddr, TcpListener, TcpStream};

fn request(addr: SocketAddr) -> ClientRequest {
    ClientRequest {
        host: addr.ip().to_string(),
        port: addr.port(),
        transport: Transport::Tcp,
        payload: Payload::Message("must not arrive".into()),
        count: 1,
        concurrency: 1,
        timeout_ms: 2_000,
    }
}

/// A listener that must never see a connection.
fn tripwire(addr: SocketAddr) -> TcpListener {
    let l = TcpListener::bind(addr).expect("bind tripwire");
    l.set_nonblocking(true).unwrap();
    l
}

fn assert_untouched(l: &TcpListener) {
    match l.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the forbidden address saw a connection: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn client_connecting_to_another_port_is_denied_and_nothing_arrives() {
    let rt = Host::new().unwrap();
    let component = rt.compile(Builtin::EchoClient.bytes()).unwrap();
    let granted: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let forbidden: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let wire = tripwire(forbidden);
    let sandbox = Sandbox::new("echo-client", echo::client_policy(granted, Transport::Tcp));
    let outcome = echo::run_client(&rt, &component, &sandbox, &request(forbidden))
        .await
        .unwrap();
    match outcome {
        Err(EchoError::Denied(msg)) => assert!(msg.contains(&forbidden.to_string()), "{msg}"),
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_untouched(&wire);
    let events = sandbox.audit().events();
    assert!(
        events.iter().any(|e| !e.allowed()
            && e.operation == "tcp-connect"
            && e.address == forbidden.to_string()),
        "denial not audited: {events:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_cannot_switch_to_ipv6_loopback() {
    let rt = Host::new().unwrap();
    let component = rt.compile(Builtin::EchoClient.bytes()).unwrap();
    let port = free_port();
    let granted: SocketAddr = ([127, 0, 0, 1], port).into();
    let forbidden: SocketAddr = "[::1]:0"
        .parse::<SocketAddr>()
        .map(|mut a| {
            a.set_port(port);
            a
        })
        .unwrap();
    let wire = tripwire(forbidden);
    let sandbox = Sandbox::new("echo-client", echo::client_policy(granted, Transport::Tcp));
    let outcome = echo::run_client(&rt, &component, &sandbox, &request(forbidden))
        .await
        .unwrap();
    assert!(matches!(outcome, Err(EchoError::Denied(_))), "{outcome:?}");
    assert_untouched(&wire);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_binding_another_port_is_denied_and_nothing_listens() {
    let rt = Host::new().unwrap();
    let component = rt.compile(Builtin::EchoServer.bytes()).unwrap();
    let granted: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let forbidden_port = free_port();
    let sandbox = Sandbox::new(
        "echo-server",
        echo::server_policy(granted, Transport::Tcp, &[]),
    );
    let config = tcp_server_on(forbidden_port);
    let mut server = echo::start_server(&rt, &component, &sandbox, config);
    let outcome = server.wait().await.unwrap();
    match outcome {
        Err(EchoError::Denied(msg)) => assert!(
            msg.contains(&format!("127.0.0.1:{forbidden_port}")),
            "{msg}"
        ),
        other => panic!("expected a denial, got {other:?}"),
    }
    assert!(
        TcpStream::connect(("127.0.0.1", forbidden_port)).is_err(),
        "something listens on the forbidden port"
    );
    assert!(sandbox.audit().denied() >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn udp_server_grant_does_not_allow_tcp() {
    let rt = Host::new().unwrap();
    let component = rt.compile(Builtin::EchoServer.bytes()).unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let sandbox = Sandbox::new(
        "echo-server",
        echo::server_policy(addr, Transport::Udp, &[]),
    );
    let config = tcp_server_on(addr.port());
    let mut server = echo::start_server(&rt, &component, &sandbox, config);
    let outcome = server.wait().await.unwrap();
    assert!(matches!(outcome, Err(EchoError::Denied(_))), "{outcome:?}");
}

/// A TCP echo server on 127.0.0.1:`port` that stops after one client.
fn tcp_server_on(port: u16) -> ServerConfig {
    ServerConfig {
        host: "127.0.0.1".into(),
        port,
        transport: Transport::Tcp,
        max_connections: 8,
        idle_timeout_ms: 0,
        stop_on_stdin_eof: true,
        drain_timeout_ms: 0,
        max_datagram_rate: 0,
        stop_after: Some(1),
        log_connections: false,
    }
}
