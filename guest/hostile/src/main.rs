//! A deliberately hostile `wasi:cli/run` component for netkit's sandbox tests.
//!
//! `hostile.wasm ACTION [TARGET]` tries one thing and reports it on stdout as
//! `ESCAPED ...` (it worked: exit 0) or `BLOCKED ...: why` (exit 3).
//! Actions: tcp-connect ADDR, tcp-listen ADDR, udp-send ADDR, udp-bind ADDR,
//! lookup NAME, read-file PATH, env NAME, list-env, spin, grow,
//! hold-sockets N (open UDP sockets until N or a refusal), hold-accepts ADDR
//! (listen and keep up to 100 accepted connections), deny-flood ADDR
//! (100,000 connects), long-lookups (100 lookups of 8 MiB names), flood-stdout,
//! fake-json (prints a forged netkit --json object), random N (get-random-bytes
//! of N bytes in a loop), allowed-then-denied ADDR (100,000 allowed sends, then
//! 50 denied), trap (abort: a wasm trap); through netkit's ICMP capability:
//! icmp-big IP (the largest payload and larger ones), icmp-flood IP (10,000
//! requests in flight, sockets until refused), icmp-wrap IP (sequence numbers
//! across 65535), icmp-denied IP (10,000 opens of a denied destination).

mod icmp;

use std::hint::black_box;
use std::io::Write;
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

fn attempt(action: &str, target: &str) -> Result<String, String> {
    if let Some(r) = icmp::attempt(action, target) {
        return r;
    }
    let e = |e: std::io::Error| e.to_string();
    match action {
        "tcp-connect" => {
            let addr = target
                .parse()
                .map_err(|_| format!("bad address {target}"))?;
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(e)?;
            s.write_all(b"escaped").map_err(e)?;
            Ok(format!("connected to {addr}"))
        }
        "tcp-listen" => {
            let l = TcpListener::bind(target).map_err(e)?;
            Ok(format!("listening on {}", l.local_addr().map_err(e)?))
        }
        "udp-send" => {
            let any = if target.starts_with('[') {
                "[::]:0"
            } else {
                "0.0.0.0:0"
            };
            let s = UdpSocket::bind(any).map_err(e)?;
            s.send_to(b"escaped", target).map_err(e)?;
            Ok(format!("sent to {target}"))
        }
        "udp-bind" => {
            let s = UdpSocket::bind(target).map_err(e)?;
            Ok(format!("bound {}", s.local_addr().map_err(e)?))
        }
        "lookup" => {
            let addrs: Vec<_> = (target, 0).to_socket_addrs().map_err(e)?.collect();
            Ok(format!("resolved {target} to {addrs:?}"))
        }
        "read-file" => std::fs::read_to_string(target)
            .map(|t| format!("read {} bytes", t.len()))
            .map_err(e),
        "env" => std::env::var(target)
            .map(|v| format!("{target}={v}"))
            .map_err(|e| e.to_string()),
        "list-env" => {
            let n = std::env::vars().count();
            if n == 0 {
                Err("no environment variables".into())
            } else {
                Ok(format!("{n} variables"))
            }
        }
        "spin" => {
            let mut x = 0u64;
            loop {
                x = black_box(x.wrapping_add(1));
            }
        }
        "grow" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(black_box(vec![1u8; 1 << 20]));
            }
        }
        "hold-sockets" => {
            let want: usize = target.parse().map_err(|_| "hold-sockets N".to_string())?;
            let mut held = Vec::new();
            while held.len() < want {
                match UdpSocket::bind("0.0.0.0:0") {
                    Ok(s) => held.push(s),
                    Err(err) => return Err(format!("held {} sockets, then: {err}", held.len())),
                }
            }
            Ok(format!("held {} sockets", held.len()))
        }
        "hold-accepts" => {
            let l = TcpListener::bind(target).map_err(e)?;
            println!("listening");
            let mut held = Vec::new();
            while held.len() < 100 {
                match l.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(err) => return Err(format!("accepted {}, then: {err}", held.len())),
                }
            }
            Ok(format!("accepted {} connections", held.len()))
        }
        "deny-flood" => {
            let addr: std::net::SocketAddr = target
                .parse()
                .map_err(|_| format!("bad address {target}"))?;
            for _ in 0..100_000 {
                if TcpStream::connect(addr).is_ok() {
                    return Ok(format!("connected to {addr}"));
                }
            }
            Err("100000 connects refused".into())
        }
        "long-lookups" => {
            let name = format!("127.0.0.1{}", ".".repeat(8 << 20));
            for _ in 0..100 {
                if (name.as_str(), 0).to_socket_addrs().is_ok() {
                    return Ok("a long name resolved".into());
                }
            }
            Err("100 long lookups refused".into())
        }
        "flood-stdout" => {
            let chunk = vec![b'x'; 64 * 1024];
            let mut out = std::io::stdout();
            loop {
                out.write_all(&chunk).map_err(e)?;
            }
        }
        "fake-json" => {
            // What netkit run --json prints, forged: must never be taken for it.
            println!(
                r#"{{"ok":true,"exit":{{"kind":"code","code":0,"message":"forged"}},"grants":["tcp-connect://10.0.0.1:443"],"audit":[],"attempts":0,"denied":0}}"#
            );
            Ok("printed a forged object".into())
        }
        "random" => {
            // Ask the host for N random bytes per call, for as long as it lets us.
            let n: u64 = target.parse().map_err(|_| "random N".to_string())?;
            loop {
                black_box(wasip2::random::random::get_random_bytes(n));
            }
        }
        "allowed-then-denied" => {
            // 100,000 allowed sends to ADDR, then 50 denied ones to ADDR's port + 1.
            let addr: std::net::SocketAddr = target
                .parse()
                .map_err(|_| format!("bad address {target}"))?;
            let s = UdpSocket::bind("0.0.0.0:0").map_err(e)?;
            for _ in 0..100_000 {
                s.send_to(b"x", addr).map_err(e)?;
            }
            let mut other = addr;
            other.set_port(addr.port().wrapping_add(1));
            let denied = (0..50).filter(|_| s.send_to(b"x", other).is_err()).count();
            Ok(format!("100000 sends allowed, {denied} denied"))
        }
        "trap" => {
            // A wasm trap that is not a panic message: unreachable.
            std::process::abort()
        }
        other => Err(format!("unknown action {other}")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let action = args.get(1).map(String::as_str).unwrap_or("");
    let target = args.get(2).map(String::as_str).unwrap_or("");
    match attempt(action, target) {
        Ok(what) => {
            println!("ESCAPED {action} {target}: {what}");
        }
        Err(why) => {
            println!("BLOCKED {action} {target}: {why}");
            std::process::exit(3);
        }
    }
}
