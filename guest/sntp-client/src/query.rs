//! One query: resolve, then perform what the sans-IO exchange asks for over
//! one connected UDP socket. The policy (tries, spacing, best sample, when to
//! stop) is all in `sntp_proto::exchange`; NTS wraps it (`nts.rs`) and is
//! driven by the same loop.

use netio::UdpStream;
use netio::wasip2::clocks::{monotonic_clock, wall_clock};
use netio::wasip2::random::random::get_random_u64;
use sntp_proto::{Action, Exchange, ExchangeConfig, ExchangeError, NtpTimestamp};
use sntp_types::{Family, QueryOptions, Report, SntpError};
use std::net::{IpAddr, SocketAddr};

/// Our clock now, as an NTP timestamp and as Unix seconds.
fn now() -> (NtpTimestamp, u64) {
    let t = wall_clock::now();
    (NtpTimestamp::from_unix(t.seconds, t.nanoseconds), t.seconds)
}

/// An exchange the loop below can drive: sntp-proto's, or NTS's around it.
pub trait Drive {
    /// The success.
    type Done;
    /// The failure.
    type Error;
    /// What to do at monotonic `now`.
    fn next(&mut self, now: u64) -> Action<Self::Done, Self::Error>;
    /// The datagram to send now.
    fn request(&mut self, nonce: NtpTimestamp, t1: NtpTimestamp, now: u64) -> Vec<u8>;
    /// A datagram arrived.
    fn receive(&mut self, bytes: &[u8], from_server: bool, t4: NtpTimestamp, secs: u64, now: u64);
}

impl Drive for Exchange {
    type Done = sntp_proto::Outcome;
    type Error = ExchangeError;
    fn next(&mut self, now: u64) -> Action {
        Exchange::next(self, now)
    }
    fn request(&mut self, nonce: NtpTimestamp, t1: NtpTimestamp, now: u64) -> Vec<u8> {
        Exchange::request(self, nonce, t1, now).to_vec()
    }
    fn receive(&mut self, bytes: &[u8], from_server: bool, t4: NtpTimestamp, secs: u64, now: u64) {
        Exchange::receive(self, bytes, from_server, t4, secs, now)
    }
}

/// The exchange's configuration from the typed options.
pub fn config(options: &QueryOptions) -> Result<Exchange, SntpError> {
    Exchange::new(ExchangeConfig {
        timeout_ns: options.timeout_ms.saturating_mul(1_000_000),
        tries: options.tries,
        samples: options.samples,
        burst: options.burst,
    })
    .map_err(SntpError::InvalidRequest)
}

/// Query `server` on `port` as `options` say.
pub fn query(server: &str, port: u16, options: &QueryOptions) -> Result<Report, SntpError> {
    let mut exchange = config(options)?;
    let addr = SocketAddr::new(resolve(server, options.family)?, port);
    match drive(&mut exchange, addr)? {
        Ok(outcome) => Ok(report(addr, &outcome)),
        Err(e) => Err(exchange_error(addr, e)),
    }
}

/// Run `exchange` against `addr` over one connected UDP socket to its end;
/// the outer error is the network's.
pub fn drive<X: Drive>(
    exchange: &mut X,
    addr: SocketAddr,
) -> Result<Result<X::Done, X::Error>, SntpError> {
    let socket = UdpStream::connect(addr).map_err(sntp_types::from_net)?;
    let mut mono = monotonic_clock::now();
    loop {
        match exchange.next(mono) {
            Action::Send => {
                let nonce = NtpTimestamp(get_random_u64());
                let request = exchange.request(nonce, now().0, mono);
                socket.send(request).map_err(sntp_types::from_net)?;
                // No clock read: the next step is a wait whose deadline lies ahead.
                continue;
            }
            Action::WaitUntil(deadline) => {
                if let Some(d) = socket.receive(deadline).map_err(sntp_types::from_net)? {
                    let (t4, secs) = now();
                    // Read the monotonic clock only when needed: the wait's deadline is it.
                    mono = monotonic_clock::now();
                    exchange.receive(&d.data, d.from == addr, t4, secs, mono);
                    continue;
                }
            }
            Action::Done(done) => return Ok(done),
        }
        mono = monotonic_clock::now();
    }
}

/// The first address of `server` (an IP or a name) in `family`.
pub fn resolve(server: &str, family: Family) -> Result<IpAddr, SntpError> {
    if let Ok(ip) = server
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(ip);
    }
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

/// The typed error for an exchange's failure at `addr`.
pub fn exchange_error(addr: SocketAddr, e: ExchangeError) -> SntpError {
    let text = e.message(&addr.to_string());
    match e {
        ExchangeError::Timeout { .. } => SntpError::Timeout(text),
        ExchangeError::KissOfDeath(code) => SntpError::KissOfDeath(code),
        ExchangeError::Unsynchronized => SntpError::Unsynchronized(text),
        ExchangeError::BadReply(_) => SntpError::BadReply(text),
    }
}

/// The report of a successful exchange with `addr`.
pub fn report(addr: SocketAddr, o: &sntp_proto::Outcome) -> Report {
    let s = &o.best;
    let p = &s.packet;
    Report {
        server: addr.to_string(),
        stratum: p.stratum,
        leap: sntp_types::leap_from(p.leap),
        version: p.version,
        precision: p.precision,
        root_delay_ns: p.root_delay.as_nanos(),
        root_dispersion_ns: p.root_dispersion.as_nanos(),
        reference_id: s.reference.to_string(),
        transmit_seconds: s.server_time.0,
        transmit_nanos: s.server_time.1,
        offset_ns: s.offset_ns,
        delay_ns: s.delay_ns,
        samples: o.good,
    }
}
