//! The netkit SNTP server component: answers SNTP/NTPv3–4 client requests from the
//! WASI wall clock. `wasi:cli/run` for the command line, `netkit:diag/sntp-server`
//! for plugin hosts.

use clap::Parser;
use exports::netkit::diag::sntp_server::Guest as SntpServer;
use exports::wasi::cli::run::Guest as Run;
use netio::wasip2::clocks::{monotonic_clock, wall_clock};
use netio::{Datagram, Received, UdpSocket};
use sntp_proto::{NtpShort, NtpTimestamp, RateLimiter, ServerParams, kiss_of_death, respond};
use sntp_types::{ServerConfig, ServerSummary, SntpError};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

wit_bindgen::generate!({
    world: "sntp-server-component",
    path: "../../wit",
    with: { "netkit:diag/sntp-types@0.1.0": sntp_types },
    generate_all,
});

/// Clients remembered by the rate limiter at most.
const RATE_LIMIT_CLIENTS: usize = 65_536;

struct Component;

impl SntpServer for Component {
    fn serve(config: ServerConfig) -> Result<ServerSummary, SntpError> {
        serve(&config)
    }
}

fn wall_now() -> NtpTimestamp {
    let t = wall_clock::now();
    NtpTimestamp::from_unix(t.seconds, t.nanoseconds)
}

fn reference_id(text: &str, stratum: u8) -> Result<[u8; 4], SntpError> {
    if stratum >= 2
        && let Ok(ip) = text.parse::<Ipv4Addr>()
    {
        return Ok(ip.octets());
    }
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SntpError::InvalidRequest(format!(
            "reference id {text:?} must be 1-4 ASCII characters (e.g. LOCL), or an IPv4 address for stratum 2 and up"
        )));
    }
    let mut id = [0u8; 4];
    id[..text.len()].copy_from_slice(text.as_bytes());
    Ok(id)
}

fn serve(config: &ServerConfig) -> Result<ServerSummary, SntpError> {
    if !(1..=15).contains(&config.stratum) {
        return Err(SntpError::InvalidRequest(format!(
            "stratum {} is not 1..=15",
            config.stratum
        )));
    }
    let ip: IpAddr = config.host.parse().map_err(|_| {
        SntpError::InvalidRequest(format!(
            "host {:?} is not an IP address (use e.g. 127.0.0.1 or ::1)",
            config.host
        ))
    })?;
    let params = ServerParams {
        stratum: config.stratum,
        reference_id: reference_id(&config.reference_id, config.stratum)?,
        precision: -20,
        root_dispersion: NtpShort::from_nanos(1_000_000),
        reference_ts: wall_now(),
    };
    let socket = UdpSocket::bind(SocketAddr::new(ip, config.port)).map_err(sntp_types::from_net)?;
    let local = socket.local_addr();
    eprintln!(
        "sntp-server: serving on udp {local}, stratum {}",
        config.stratum
    );
    let stop = netio::StopOnEof::new(config.stop_on_stdin_eof);
    let mut limiter = (config.rate_limit_ms > 0)
        .then(|| RateLimiter::new(config.rate_limit_ms * 1_000_000, RATE_LIMIT_CLIENTS));
    let mut summary = ServerSummary {
        local_address: local.to_string(),
        answered: 0,
        kissed: 0,
        ignored: 0,
    };
    loop {
        let datagrams = match socket
            .receive(None, stop.as_ref().map(netio::StopOnEof::pollable))
            .map_err(sntp_types::from_net)?
        {
            Received::Datagrams(d) => d,
            Received::Deadline => continue,
            Received::Extra if stop.as_ref().is_some_and(netio::StopOnEof::reached) => break,
            Received::Extra => continue,
        };
        for Datagram {
            data: request,
            from,
        } in datagrams
        {
            let t2 = wall_now();
            let allowed = limiter
                .as_mut()
                .is_none_or(|l| l.allow(from.ip(), monotonic_clock::now()));
            let (reply, what) = if allowed {
                (respond(&request, t2, wall_now(), &params), "time")
            } else {
                (kiss_of_death(&request, *b"RATE"), "RATE kiss-o'-death")
            };
            let Some(reply) = reply else {
                summary.ignored += 1;
                if config.log_requests {
                    eprintln!(
                        "sntp-server: ignored {} bytes from {from}: not a client request",
                        request.len()
                    );
                }
                continue;
            };
            if let Err(e) = socket.send_to(reply.to_vec(), from) {
                eprintln!("sntp-server: {e}");
                continue;
            }
            if allowed {
                summary.answered += 1
            } else {
                summary.kissed += 1
            }
            if config.log_requests {
                eprintln!("sntp-server: {from}: sent {what}");
            }
            if config
                .stop_after
                .is_some_and(|n| summary.answered + summary.kissed >= n)
            {
                return Ok(summary);
            }
        }
    }
    Ok(summary)
}

/// An SNTP server (RFC 4330) answering from this machine's clock, for tests and offline demos.
#[derive(Parser, Debug)]
#[command(name = "sntp-server.wasm", version)]
struct Args {
    #[command(flatten)]
    f: cli_args::flags::SntpServerFlags,
    #[command(flatten)]
    g: cli_args::flags::GuestServerFlags,
}

impl Run for Component {
    fn run() -> Result<(), ()> {
        let Args { f: a, g } = Args::try_parse().unwrap_or_else(|e| e.exit());
        let config = ServerConfig {
            reference_id: a.reference_id(),
            host: a.host,
            port: a.port,
            stratum: a.stratum,
            rate_limit_ms: a.rate_limit.as_millis() as u64,
            stop_on_stdin_eof: g.stop_on_eof,
            stop_after: g.stop_after,
            log_requests: !a.quiet,
        };
        match serve(&config) {
            Ok(s) => {
                eprintln!(
                    "sntp-server: stopped on {}: {} answered, {} rate-limited, {} ignored",
                    s.local_address, s.answered, s.kissed, s.ignored
                );
                Ok(())
            }
            Err(e) => {
                eprintln!("sntp-server: {}", sntp_types::describe(&e));
                Err(())
            }
        }
    }
}

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/sntp.wit");
