//! One query: resolve, then samples of (send, wait, validate) over one connected UDP socket.

use crate::netkit::diag::sntp_types::{Family, Leap, QueryOptions, Report, SntpError};
use netio::wasip2::clocks::{monotonic_clock, wall_clock};
use netio::wasip2::random::random::get_random_u64;
use netio::{Cause, NetError, Received, Udp};
use sntp_proto::{
    LeapIndicator, NtpTimestamp, Reply, ReplyError, Sample, client_request, validate_reply,
};
use std::net::{IpAddr, SocketAddr};

/// Our clock now, as an NTP timestamp and as Unix seconds.
fn now() -> (NtpTimestamp, u64) {
    let t = wall_clock::now();
    (NtpTimestamp::from_unix(t.seconds, t.nanoseconds), t.seconds)
}

/// Query `server` on `port` as `options` say.
pub fn query(server: &str, port: u16, options: &QueryOptions) -> Result<Report, SntpError> {
    if options.samples == 0 || options.tries == 0 || options.timeout_ms == 0 {
        return Err(SntpError::InvalidRequest(
            "samples, tries and timeout must be at least 1".into(),
        ));
    }
    let addr = SocketAddr::new(resolve(server, options.family)?, port);
    let socket = Udp::connect(addr).map_err(net_error)?;
    let mut best: Option<Sample> = None;
    let mut good = 0u32;
    let mut last_error = None;
    for i in 0..options.samples {
        if i > 0 && !options.burst {
            // RFC 4330 §10: be gentle; samples at least one second apart.
            monotonic_clock::subscribe_duration(1_000_000_000).block();
        }
        match sample(&socket, addr, options) {
            Ok(s) => {
                good += 1;
                if best.as_ref().is_none_or(|b| s.delay_ns < b.delay_ns) {
                    best = Some(s);
                }
            }
            // The server asked us to go away, or cannot tell the time: stop asking.
            Err(
                e @ (SntpError::KissOfDeath(_)
                | SntpError::Unsynchronized(_)
                | SntpError::Denied(_)),
            ) => return Err(e),
            Err(e) => last_error = Some(e),
        }
    }
    match best {
        Some(s) => Ok(report(addr, &s, good)),
        None => {
            Err(last_error.unwrap_or_else(|| SntpError::Timeout(format!("no reply from {addr}"))))
        }
    }
}

/// One sample: up to `tries` requests spread over the timeout; the first valid reply wins.
/// Replies from elsewhere or to no request of ours are ignored, and a late reply to an
/// earlier try counts (with that try's send time).
fn sample(socket: &Udp, addr: SocketAddr, options: &QueryOptions) -> Result<Sample, SntpError> {
    let start = monotonic_clock::now();
    let timeout_ns = options.timeout_ms.saturating_mul(1_000_000);
    let deadline = start.saturating_add(timeout_ns);
    let spacing = timeout_ns / u64::from(options.tries);
    let mut sent: Vec<(NtpTimestamp, NtpTimestamp)> = Vec::new();
    let mut next_send = start;
    let mut mono = start;
    loop {
        if mono >= deadline {
            return Err(SntpError::Timeout(format!(
                "no valid reply from {addr} within {} ms ({} requests sent)",
                options.timeout_ms,
                sent.len()
            )));
        }
        if sent.len() < options.tries as usize && mono >= next_send {
            let nonce = NtpTimestamp(get_random_u64());
            let (t1, _) = now();
            socket
                .send(client_request(nonce).to_vec(), None)
                .map_err(net_error)?;
            sent.push((nonce, t1));
            next_send = mono.saturating_add(spacing);
        }
        let wake = if sent.len() < options.tries as usize {
            next_send.min(deadline)
        } else {
            deadline
        };
        if let Received::Datagrams(datagrams) =
            socket.receive(Some(wake), None).map_err(net_error)?
        {
            let (t4, now_secs) = now();
            for (bytes, from) in datagrams {
                if from != addr {
                    continue;
                }
                for &(nonce, t1) in &sent {
                    match validate_reply(Reply {
                        bytes: &bytes,
                        nonce,
                        t1,
                        t4,
                        now_unix_secs: now_secs,
                    }) {
                        Ok(s) => return Ok(s),
                        Err(ReplyError::OriginMismatch) => continue,
                        Err(e) => return Err(reply_error(addr, e)),
                    }
                }
            }
        }
        // No valid reply yet (the clock is read only now: the first pass used `start`).
        mono = monotonic_clock::now();
    }
}

fn resolve(server: &str, family: Family) -> Result<IpAddr, SntpError> {
    let all = wstd::runtime::block_on(netio::resolve(server)).map_err(SntpError::NameNotFound)?;
    all.iter()
        .copied()
        .find(|ip| match family {
            Family::Any => true,
            Family::Ipv4 => ip.is_ipv4(),
            Family::Ipv6 => ip.is_ipv6(),
        })
        .ok_or_else(|| {
            SntpError::NameNotFound(format!(
                "{server:?} has no {} address",
                match family {
                    Family::Ipv4 => "IPv4",
                    Family::Ipv6 => "IPv6",
                    Family::Any => "",
                }
            ))
        })
}

fn reply_error(addr: SocketAddr, e: ReplyError) -> SntpError {
    match e {
        ReplyError::KissOfDeath(code) => SntpError::KissOfDeath(code),
        ReplyError::Unsynchronized => {
            SntpError::Unsynchronized(format!("{addr} says its clock is not synchronised"))
        }
        other => SntpError::BadReply(format!("from {addr}: {other}")),
    }
}

fn net_error(e: NetError) -> SntpError {
    let text = e.to_string();
    match e.cause() {
        Cause::Denied => SntpError::Denied(text),
        Cause::Refused | Cause::Reset => SntpError::Unreachable(text),
        Cause::Timeout => SntpError::Timeout(text),
        Cause::AddressInUse | Cause::Other => match e.code {
            Some(netio::ErrorCode::RemoteUnreachable) => SntpError::Unreachable(text),
            _ => SntpError::Network(text),
        },
    }
}

fn report(addr: SocketAddr, s: &Sample, samples: u32) -> Report {
    let p = &s.packet;
    Report {
        server: addr.to_string(),
        stratum: p.stratum,
        leap: match p.leap {
            LeapIndicator::NoWarning => Leap::NoWarning,
            LeapIndicator::Insert => Leap::Insert,
            LeapIndicator::Delete => Leap::Delete,
            LeapIndicator::Unsynchronized => Leap::Unsynchronized,
        },
        version: p.version,
        precision: p.precision,
        root_delay_ns: p.root_delay.as_nanos(),
        root_dispersion_ns: p.root_dispersion.as_nanos(),
        reference_id: s.reference.to_string(),
        transmit_seconds: s.server_time.0,
        transmit_nanos: s.server_time.1,
        offset_ns: s.offset_ns,
        delay_ns: s.delay_ns,
        samples,
    }
}
