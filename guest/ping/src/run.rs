//! One ping run over the ICMP capability: ping-proto says what to do, this
//! sends, waits and hands events back.

use netio::icmp::{self, EchoEvent, EchoRequest, EchoSocket, ErrorCode};
use netio::wasip2::clocks::monotonic_clock;
use ping_proto::{Action, Event, IcmpKind, Session, Shown};
use std::collections::VecDeque;
use std::net::IpAddr;

/// Which address family a name may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// Why a run could not start.
#[derive(Debug)]
pub enum StartError {
    Invalid(String),
    Name(String),
    Denied(String),
    NotPermitted(String),
    Failed(String),
}

/// What [`Run::next`] found.
pub enum Step {
    Event(Shown),
    Idle,
    Done,
}

/// A run in progress.
pub struct Run {
    session: Session,
    socket: EchoSocket,
    address: IpAddr,
    payload: Vec<u8>,
    queued: VecDeque<Shown>,
}

/// The first address of `host` in `family` (an IP is itself).
fn resolve(host: &str, family: Family) -> Result<IpAddr, StartError> {
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(ip);
    }
    let all = wstd::runtime::block_on(netio::resolve(host)).map_err(StartError::Name)?;
    all.into_iter()
        .find(|ip| match family {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        })
        .ok_or_else(|| StartError::Name(format!("{host}: no address of the family asked for")))
}

fn event_of(e: EchoEvent) -> Event {
    let icmp = |kind: IcmpKind, m: icmp::IcmpMessage| Event::Icmp {
        seq: e.sequence,
        kind,
        from: icmp::std_ip(m.from).to_string(),
        icmp_type: m.type_,
        code: m.code,
    };
    match e.outcome {
        Ok(r) => Event::Reply {
            seq: e.sequence,
            size: r.size,
            source: icmp::std_ip(r.source).to_string(),
            hop_limit: r.hop_limit,
            rtt_ns: r.rtt_ns,
            duplicate: r.duplicate,
        },
        Err(ErrorCode::DestinationUnreachable(m)) => icmp(IcmpKind::Unreachable, m),
        Err(ErrorCode::TimeExceeded(m)) => icmp(IcmpKind::TimeExceeded, m),
        Err(ErrorCode::OtherIcmp(m)) => icmp(IcmpKind::Other, m),
        // A timeout, or anything else the host says about one request: no reply came.
        Err(_) => Event::Timeout(e.sequence),
    }
}

impl Run {
    /// Open the socket and check the options.
    pub fn start(
        host: &str,
        options: ping_proto::Options,
        family: Family,
    ) -> Result<Self, StartError> {
        let address = resolve(host, family)?;
        options
            .check(address.is_ipv6())
            .map_err(StartError::Invalid)?;
        let socket = icmp::open(address).map_err(|e| match e {
            ErrorCode::AccessDenied => {
                StartError::Denied(format!("ICMP echo to {address} is not granted"))
            }
            ErrorCode::NotPermitted(t) => StartError::NotPermitted(t),
            ErrorCode::InvalidArgument(t) => StartError::Invalid(t),
            e => StartError::Failed(icmp::describe(&e)),
        })?;
        let payload = ping_proto::payload(options.payload_size);
        Ok(Self {
            session: Session::new(options, address.is_ipv6()),
            socket,
            address,
            payload,
            queued: VecDeque::new(),
        })
    }

    /// The address pinged.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The statistics so far.
    pub fn statistics(&self) -> ping_proto::Statistics {
        self.session.statistics()
    }

    /// End the run now.
    pub fn stop(&mut self) {
        self.session.stop(monotonic_clock::now());
    }

    /// The next event, waiting for it until `limit` (monotonic ns) at most.
    pub fn next(&mut self, limit: Option<u64>) -> Step {
        loop {
            if let Some(s) = self.queued.pop_front() {
                return Step::Event(s);
            }
            let now = monotonic_clock::now();
            for e in self.socket.receive(64) {
                if let Some(s) = self.session.event(event_of(e), now) {
                    self.queued.push_back(s);
                }
            }
            if !self.queued.is_empty() {
                continue;
            }
            match self.session.poll(now) {
                Action::Done => return Step::Done,
                Action::Wait(_) if limit.is_some_and(|l| now >= l) => return Step::Idle,
                Action::Send(seq) => {
                    let o = self.session.options();
                    let request = EchoRequest {
                        sequence: seq,
                        payload: self.payload.clone(),
                        hop_limit: o.hop_limit,
                        dont_fragment: o.dont_fragment,
                        timeout_ns: o.timeout_ns,
                    };
                    match self.socket.send(&request) {
                        Ok(()) => self.session.sent(seq, monotonic_clock::now()),
                        Err(e) => {
                            eprintln!("ping: sending icmp_seq={seq}: {}", icmp::describe(&e));
                            self.session.send_failed(now);
                        }
                    }
                }
                Action::Wait(until) => {
                    let until = match (until, limit) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    icmp::wait_events(&self.socket, until);
                }
            }
        }
    }
}

/// The command line: iputils' output, or one JSON object.
pub fn cli(f: &cli_args::flags::PingFlags) -> Result<(), ()> {
    let family = match (f.family.ipv4, f.family.ipv6) {
        (true, _) => Family::V4,
        (_, true) => Family::V6,
        _ => Family::Any,
    };
    let mut run = match Run::start(&f.host, f.options(), family) {
        Ok(r) => r,
        Err(e) => {
            let (kind, text) = match e {
                StartError::Invalid(t) => ("invalid-request", t),
                StartError::Name(t) => ("name-not-found", t),
                StartError::Denied(t) => ("denied", t),
                StartError::NotPermitted(t) => ("not-permitted", t),
                StartError::Failed(t) => ("failed", t),
            };
            return cli_args::fail("ping", f.json, kind, &text);
        }
    };
    let address = run.address().to_string();
    let v6 = run.address().is_ipv6();
    if !f.json {
        println!(
            "{}",
            ping_proto::text::header(&f.host, &address, v6, f.size)
        );
    }
    let mut events = Vec::new();
    while let Step::Event(s) = run.next(None) {
        if !f.json
            && !f.quiet
            && let Some(line) = ping_proto::text::line(&f.host, &s)
        {
            println!("{line}");
        }
        if f.json {
            events.push(s);
        }
    }
    let stats = run.statistics();
    if f.json {
        let report = ping_proto::text::report_json(&f.host, &address, f.size, &events, &stats);
        println!(
            "{}",
            serde_json::json!({ "ok": stats.received > 0, "report": report })
        );
    } else {
        print!("{}", ping_proto::text::statistics(&f.host, &stats));
    }
    if stats.exit_code(f.count, f.deadline.is_some()) == 0 {
        Ok(())
    } else {
        Err(())
    }
}
