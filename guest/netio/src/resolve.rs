//! Host names to IP addresses through `wasi:sockets/ip-name-lookup`.

use std::net::IpAddr;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::ip_name_lookup::resolve_addresses;
use wasip2::sockets::network::{ErrorCode, IpAddress};
use wstd::io::AsyncPollable;

/// Resolve `host`: an IP literal (brackets allowed for IPv6) is returned as is
/// without any lookup; a name goes to the host's resolver.
pub async fn resolve(host: &str) -> Result<Vec<IpAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let fail = |code: ErrorCode| match code {
        ErrorCode::AccessDenied => format!(
            "look up {host:?}: permission denied (the host does not allow looking up this name; \
             pass an IP address, grant the name (netkit run --allow udp://NAME:PORT), \
             or allow lookups (wasmtime run -S allow-ip-name-lookup))"
        ),
        ErrorCode::NameUnresolvable => format!("look up {host:?}: name not found"),
        ErrorCode::PermanentResolverFailure => format!(
            "look up {host:?}: the resolver refused (permanent-resolver-failure); if the host \
             does not allow name lookups, pass an IP address or allow them, e.g. \
             wasmtime run -S allow-ip-name-lookup"
        ),
        code => format!("look up {host:?}: {}", code.name()),
    };
    let stream = resolve_addresses(&instance_network(), bare).map_err(fail)?;
    let ready = AsyncPollable::new(stream.subscribe());
    let mut out = Vec::new();
    loop {
        match stream.resolve_next_address() {
            Ok(Some(IpAddress::Ipv4((a, b, c, d)))) => out.push(IpAddr::from([a, b, c, d])),
            Ok(Some(IpAddress::Ipv6((a, b, c, d, e, f, g, h)))) => {
                out.push(IpAddr::from([a, b, c, d, e, f, g, h]))
            }
            Ok(None) => break,
            Err(ErrorCode::WouldBlock) => ready.wait_for().await,
            Err(code) => return Err(fail(code)),
        }
    }
    if out.is_empty() {
        return Err(fail(ErrorCode::NameUnresolvable));
    }
    Ok(out)
}
