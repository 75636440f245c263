//! The netkit ping component: `wasi:cli/run` (iputils `ping`'s flags, lines,
//! statistics) and `netkit:diag/ping` for plugin hosts (a session giving
//! events as they happen, or a whole run). The schedule and the bookkeeping
//! are `ping-proto`'s; ICMP is the host's `netkit:icmp/echo` capability.

mod run;

use exports::netkit::diag::ping::{Guest, GuestSession};
use netkit::diag::ping_types::{
    IpFamily, PingError, PingEvent, PingIcmpError, PingOptions, PingReply, PingReport,
    PingStatistics, PingStep,
};
use ping_proto::Shown;
use std::cell::RefCell;

wit_bindgen::generate!({
    world: "ping-component",
    path: "../../wit",
    with: {
        "netkit:icmp/echo@0.1.0": netio::icmp::echo,
        "wasi:io/poll@0.2.12": netio::wasip2::io::poll,
        "wasi:sockets/network@0.2.12": netio::wasip2::sockets::network,
    },
    generate_all,
});

struct Component;

/// A run in progress, as the typed export hands it out.
pub struct Session(RefCell<run::Run>);

fn options_of(o: &PingOptions) -> ping_proto::Options {
    let ms = |v: u64| v.saturating_mul(1_000_000);
    ping_proto::Options {
        count: o.count,
        interval_ns: ms(o.interval_ms),
        timeout_ns: ms(o.timeout_ms),
        deadline_ns: o.deadline_ms.map(ms),
        payload_size: o.payload_size,
        hop_limit: o.hop_limit,
        dont_fragment: o.dont_fragment,
    }
}

fn family_of(f: IpFamily) -> run::Family {
    match f {
        IpFamily::Any => run::Family::Any,
        IpFamily::Ipv4 => run::Family::V4,
        IpFamily::Ipv6 => run::Family::V6,
    }
}

fn error_to_wit(e: run::StartError) -> PingError {
    match e {
        run::StartError::Invalid(t) => PingError::InvalidRequest(t),
        run::StartError::Name(t) => PingError::NameNotFound(t),
        run::StartError::Denied(t) => PingError::Denied(t),
        run::StartError::NotPermitted(t) => PingError::NotPermitted(t),
        run::StartError::Failed(t) => PingError::Failed(t),
    }
}

fn event_to_wit(s: Shown) -> PingEvent {
    match s {
        Shown::Reply(r) => PingEvent::Reply(PingReply {
            sequence: r.sequence,
            size: r.size,
            source: r.source,
            hop_limit: r.hop_limit,
            rtt_ns: r.rtt_ns,
            duplicate: r.duplicate,
            out_of_order: r.out_of_order,
        }),
        Shown::Lost(seq) => PingEvent::Lost(seq),
        Shown::Error(e) => PingEvent::IcmpError(PingIcmpError {
            sequence: e.sequence,
            kind: ping_proto::text::icmp_kind_name(e.kind).into(),
            from: e.from,
            type_: e.icmp_type,
            code: e.code,
            detail: e.detail,
        }),
    }
}

fn stats_to_wit(s: ping_proto::Statistics) -> PingStatistics {
    PingStatistics {
        transmitted: s.transmitted,
        received: s.received,
        duplicates: s.duplicates,
        errors: s.errors,
        time_ms: s.time_ns / 1_000_000,
        rtt_min_ns: s.rtt_min_ns,
        rtt_avg_ns: s.rtt_avg_ns,
        rtt_max_ns: s.rtt_max_ns,
        rtt_mdev_ns: s.rtt_mdev_ns,
    }
}

impl GuestSession for Session {
    fn start(
        host: String,
        options: PingOptions,
    ) -> Result<exports::netkit::diag::ping::Session, PingError> {
        let run = run::Run::start(&host, options_of(&options), family_of(options.family))
            .map_err(error_to_wit)?;
        Ok(exports::netkit::diag::ping::Session::new(Session(
            RefCell::new(run),
        )))
    }

    fn address(&self) -> String {
        self.0.borrow().address().to_string()
    }

    fn next(&self, wait_ms: u64) -> PingStep {
        let until = netio::wasip2::clocks::monotonic_clock::now()
            .saturating_add(wait_ms.saturating_mul(1_000_000));
        match self.0.borrow_mut().next(Some(until)) {
            run::Step::Event(e) => PingStep::Event(event_to_wit(e)),
            run::Step::Idle => PingStep::Idle,
            run::Step::Done => PingStep::Done,
        }
    }

    fn stop(&self) {
        self.0.borrow_mut().stop();
    }

    fn statistics(&self) -> PingStatistics {
        stats_to_wit(self.0.borrow().statistics())
    }
}

impl Guest for Component {
    type Session = Session;

    fn ping(host: String, options: PingOptions) -> Result<PingReport, PingError> {
        let mut run = run::Run::start(&host, options_of(&options), family_of(options.family))
            .map_err(error_to_wit)?;
        let mut events = Vec::new();
        while let run::Step::Event(e) = run.next(None) {
            events.push(event_to_wit(e));
        }
        Ok(PingReport {
            target: host,
            address: run.address().to_string(),
            payload_size: options.payload_size,
            events,
            statistics: stats_to_wit(run.statistics()),
        })
    }
}

/// Send ICMP echo requests like iputils ping (through netkit's ICMP capability).
#[derive(clap::Parser, Debug)]
#[command(name = "ping.wasm", version)]
struct Args {
    #[command(flatten)]
    f: cli_args::flags::PingFlags,
}

impl exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let Args { f } = <Args as clap::Parser>::try_parse().unwrap_or_else(|e| e.exit());
        run::cli(&f)
    }
}

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/ping.wit");
const _: &[u8] = include_bytes!("../../../wit/deps/netkit-icmp.wit");
