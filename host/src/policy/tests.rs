//! One test per rule: parsing, display, resolution, matching.

use std::net::SocketAddr;

use super::*;

fn grant(s: &str) -> Grant {
    s.parse().unwrap()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Resolves `localhost` only, to 127.0.0.1 and ::1.
struct Table;

impl Resolver for Table {
    fn lookup(&self, name: &str) -> Result<Vec<std::net::IpAddr>, String> {
        match name {
            "localhost" => Ok(vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
            other => Err(format!("{other}: not in the table")),
        }
    }
}

fn policy(grants: &[&str]) -> ResolvedPolicy {
    Policy::new(grants.iter().map(|g| grant(g)).collect())
        .resolve(&Table)
        .unwrap()
}

fn covers(g: &str, a: &str) -> bool {
    policy(&[g]).grants()[0].covers(addr(a))
}

#[test]
fn parses_exact_ipv4() {
    let g = grant("tcp-connect://127.0.0.1:7007");
    assert_eq!(g.kind, GrantKind::TcpConnect);
    assert_eq!(g.ports, PortRange::single(7007));
    assert!(covers("tcp-connect://127.0.0.1:7007", "127.0.0.1:7007"));
    assert!(!covers("tcp-connect://127.0.0.1:7007", "127.0.0.2:7007"));
}

#[test]
fn parses_bracketed_ipv6() {
    assert!(covers("udp://[::1]:123", "[::1]:123"));
    assert!(!covers("udp://[::1]:123", "127.0.0.1:123"));
}

#[test]
fn parses_cidr_and_port_range() {
    let g = "tcp-accept://127.0.0.0/8:1000-2000";
    assert!(covers(g, "127.9.9.9:1500"));
    assert!(!covers(g, "127.9.9.9:2001"));
    assert!(!covers(g, "10.0.0.1:1500"));
}

#[test]
fn parses_any_port() {
    assert_eq!(grant("udp://[::/0]:*").ports, PortRange::any());
}

#[test]
fn parses_name() {
    assert_eq!(
        grant("udp://Pool.NTP.org:123").host,
        HostPattern::Name("pool.ntp.org".into())
    );
}

#[test]
fn resolves_names_through_the_resolver_passed_in() {
    let p = policy(&["tcp-connect://localhost:7007"]);
    assert!(p.names()["localhost"].contains(&"127.0.0.1".parse().unwrap()));
    assert_eq!(p.grants().len(), 2);
    assert!(
        p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpConnect)
            .is_some()
    );
    assert!(
        p.check(addr("[::1]:7007"), SocketAddrUse::TcpConnect)
            .is_some()
    );
    // A resolved name is shown with what it resolved to.
    assert_eq!(
        p.grants()[0].to_string(),
        "tcp-connect://localhost:7007 (127.0.0.1)"
    );
}

#[test]
fn unresolvable_name_is_an_error_naming_the_grant() {
    let e = Policy::new(vec![grant("udp://nowhere.test:1")])
        .resolve(&Table)
        .unwrap_err();
    assert!(e.to_string().contains("udp://nowhere.test:1"), "{e}");
}

#[test]
fn summary_lists_grants_or_says_nothing() {
    assert_eq!(ResolvedPolicy::default().summary(), "nothing (no network)");
    assert_eq!(
        policy(&["udp://127.0.0.1:1", "tcp-connect://[::1]:2"]).summary(),
        "udp://127.0.0.1:1, tcp-connect://[::1]:2"
    );
}

#[test]
fn display_round_trips() {
    for text in [
        "tcp-connect://127.0.0.1:7007",
        "udp://[::1]:123",
        "tcp-accept://127.0.0.0/8:*",
        "udp-bind://[fd00::/8]:1-2",
        "udp://pool.ntp.org:123",
    ] {
        assert_eq!(grant(text).to_string(), text);
    }
}

#[test]
fn rejects_missing_scheme() {
    let e = "127.0.0.1:80".parse::<Grant>().unwrap_err();
    assert!(e.to_string().contains("'://'"), "{e}");
    assert!(e.to_string().contains("valid form"), "{e}");
}

#[test]
fn rejects_unknown_kind() {
    let e = "http://127.0.0.1:80".parse::<Grant>().unwrap_err();
    assert!(e.to_string().contains("unknown kind \"http\""), "{e}");
}

#[test]
fn rejects_missing_port() {
    assert!("udp://[::1]".parse::<Grant>().is_err());
}

#[test]
fn rejects_bad_port() {
    let e = "udp://127.0.0.1:70000".parse::<Grant>().unwrap_err();
    assert!(e.to_string().contains("\"70000\""), "{e}");
}

#[test]
fn rejects_backwards_range() {
    assert!("udp://127.0.0.1:9-1".parse::<Grant>().is_err());
}

#[test]
fn rejects_unbracketed_ipv6() {
    assert!("udp://::1:123".parse::<Grant>().is_err());
}

#[test]
fn rejects_hosts_that_look_like_numbers() {
    for host in ["127.0.0.010", "2130706433", "0x7f.1"] {
        let e = format!("tcp-connect://{host}:7007")
            .parse::<Grant>()
            .unwrap_err();
        assert!(e.to_string().contains("dotted decimal"), "{e}");
    }
}

#[test]
fn rejects_garbage_host() {
    assert!("udp://exa mple:1".parse::<Grant>().is_err());
    assert!("udp://:1".parse::<Grant>().is_err());
}

#[test]
fn denies_everything_by_default() {
    let p = ResolvedPolicy::default();
    for use_ in [
        SocketAddrUse::TcpBind,
        SocketAddrUse::TcpListen,
        SocketAddrUse::TcpAccept,
        SocketAddrUse::TcpConnect,
        SocketAddrUse::UdpBind,
        SocketAddrUse::UdpSend,
        SocketAddrUse::UdpReceive,
    ] {
        assert!(p.check(addr("0.0.0.0:0"), use_).is_none());
        assert!(p.check(addr("127.0.0.1:7"), use_).is_none());
    }
    assert!(!p.uses_tcp() && !p.uses_udp());
}

#[test]
fn connect_grant_allows_implicit_bind_only() {
    let p = policy(&["tcp-connect://127.0.0.1:7007"]);
    assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::TcpBind).is_some());
    assert!(p.check(addr("[::]:0"), SocketAddrUse::TcpBind).is_some());
    assert!(
        p.check(addr("0.0.0.0:7007"), SocketAddrUse::TcpBind)
            .is_none()
    );
    assert!(
        p.check(addr("127.0.0.1:0"), SocketAddrUse::TcpBind)
            .is_none()
    );
    assert!(
        p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpListen)
            .is_none()
    );
    assert!(
        p.check(addr("127.0.0.1:7008"), SocketAddrUse::TcpConnect)
            .is_none()
    );
}

#[test]
fn listen_grant_allows_bind_and_listen_on_that_address_only() {
    let p = policy(&["tcp-listen://127.0.0.1:7007"]);
    assert!(
        p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpBind)
            .is_some()
    );
    assert!(
        p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpListen)
            .is_some()
    );
    assert!(
        p.check(addr("127.0.0.1:7008"), SocketAddrUse::TcpBind)
            .is_none()
    );
    assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::TcpBind).is_none());
    assert!(
        p.check(addr("127.0.0.1:7007"), SocketAddrUse::TcpConnect)
            .is_none()
    );
}

#[test]
fn accept_needs_its_own_grant() {
    let p = policy(&["tcp-listen://127.0.0.1:7007"]);
    assert!(
        p.check(addr("127.0.0.1:5555"), SocketAddrUse::TcpAccept)
            .is_none()
    );
    let p = policy(&["tcp-listen://127.0.0.1:7007", "tcp-accept://127.0.0.0/8:*"]);
    assert!(
        p.check(addr("127.0.0.1:5555"), SocketAddrUse::TcpAccept)
            .is_some()
    );
    assert!(
        p.check(addr("[::1]:5555"), SocketAddrUse::TcpAccept)
            .is_none()
    );
}

#[test]
fn udp_grant_allows_peer_and_implicit_bind() {
    let p = policy(&["udp://127.0.0.1:123"]);
    assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::UdpBind).is_some());
    assert!(
        p.check(addr("127.0.0.1:123"), SocketAddrUse::UdpSend)
            .is_some()
    );
    assert!(
        p.check(addr("127.0.0.1:123"), SocketAddrUse::UdpReceive)
            .is_some()
    );
    assert!(
        p.check(addr("127.0.0.1:124"), SocketAddrUse::UdpSend)
            .is_none()
    );
    assert!(
        p.check(addr("127.0.0.1:123"), SocketAddrUse::UdpBind)
            .is_none()
    );
    assert!(
        p.check(addr("127.0.0.1:123"), SocketAddrUse::TcpConnect)
            .is_none()
    );
}

#[test]
fn udp_bind_grant_allows_bind_only() {
    let p = policy(&["udp-bind://127.0.0.1:7007"]);
    assert!(
        p.check(addr("127.0.0.1:7007"), SocketAddrUse::UdpBind)
            .is_some()
    );
    assert!(
        p.check(addr("127.0.0.1:5555"), SocketAddrUse::UdpSend)
            .is_none()
    );
    assert!(p.check(addr("0.0.0.0:0"), SocketAddrUse::UdpBind).is_none());
}

#[test]
fn kinds_switch_transports_on() {
    assert!(policy(&["tcp-accept://127.0.0.1:*"]).uses_tcp());
    assert!(!policy(&["tcp-accept://127.0.0.1:*"]).uses_udp());
    assert!(policy(&["udp-bind://127.0.0.1:1"]).uses_udp());
}

/// A fixed xorshift stream over a grant-ish alphabet: the same inputs every run.
fn random_texts(n: usize) -> Vec<String> {
    const ALPHABET: &[u8] = b"udptcp-connectlistenacceptbind:/[]0123456789.*abcfx-_ \n%";
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|i| {
            (0..(i % 40))
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
                })
                .collect()
        })
        .collect()
}

#[test]
fn random_grants_never_panic_and_round_trip_through_display() {
    let mut parsed = 0;
    let kinds = ["tcp-connect://", "udp://", "tcp-accept://", "udp-bind://"];
    for (i, t) in random_texts(20_000).into_iter().enumerate() {
        // Half of them start with a real kind, so that the host and port parsers run.
        let text = if i % 2 == 0 {
            format!("{}{t}", kinds[i % 4])
        } else {
            t
        };
        if let Ok(g) = text.parse::<Grant>() {
            parsed += 1;
            let shown = g.to_string();
            assert_eq!(shown.parse::<Grant>(), Ok(g), "{text:?} -> {shown:?}");
        }
    }
    assert!(
        parsed > 0,
        "no random text parsed: the property was never checked"
    );
}

#[test]
fn random_host_names_never_panic() {
    for t in random_texts(20_000) {
        if let Ok(name) = host_name(&t) {
            assert_eq!(host_name(&name), Ok(name.clone()), "{t:?}");
            assert!(
                name.parse::<std::net::IpAddr>().is_err(),
                "{t:?} is an address"
            );
        }
    }
}

#[test]
fn icmp_grants_name_a_host_and_no_port() {
    for text in [
        "icmp://127.0.0.1",
        "icmp://[::1]",
        "icmp://127.0.0.0/8",
        "icmp://[fd00::/8]",
        "icmp://localhost",
    ] {
        let g = grant(text);
        assert_eq!(g.kind, GrantKind::Icmp);
        assert_eq!(g.to_string(), text, "shown as written");
    }
    for (bad, why) in [
        ("icmp://127.0.0.1:80", "take no port"),
        ("icmp://[::1]:7", "take no port"),
        ("icmp://", "empty"),
        ("icmp://::1", "take no port"),
    ] {
        let e = bad.parse::<Grant>().unwrap_err().to_string();
        assert!(e.contains(why) && e.contains("icmp://HOST"), "{bad}: {e}");
    }
    let p = policy(&["icmp://localhost", "icmp://127.0.0.8/30"]);
    assert!(p.check_icmp("127.0.0.1".parse().unwrap()).is_some());
    assert!(p.check_icmp("::1".parse().unwrap()).is_some());
    assert!(p.check_icmp("127.0.0.10".parse().unwrap()).is_some());
    assert!(p.check_icmp("127.0.0.12".parse().unwrap()).is_none());
    // An icmp grant allows no socket, and a socket grant no echo.
    assert!(
        p.check(addr("127.0.0.1:0"), SocketAddrUse::UdpSend)
            .is_none()
    );
    assert!(!p.uses_udp() && !p.uses_tcp());
    assert!(
        policy(&["udp://127.0.0.1:1"])
            .check_icmp("127.0.0.1".parse().unwrap())
            .is_none()
    );
    assert_eq!(
        p.grants()[0].to_string(),
        "icmp://localhost (127.0.0.1)",
        "a resolved name is shown with its address and no port"
    );
}
