//! `netkit:diag/probe-types`, generated once for the TCP and UDP probes (they
//! name this crate in their `wit_bindgen::generate!` `with:`), with what both
//! share: the attempt loop (resolve, pace, deadlines), the mapping of network
//! failures to attempt statuses, and their command line's output.

wit_bindgen::generate!({
    world: "probe-types-only",
    path: "../../wit",
});

use netio::wasip2::clocks::monotonic_clock;
use netio::{Cause, NetError};
pub use netkit::diag::probe_types::*;
use probe_proto::{AttemptView, Expectation};
use std::net::{IpAddr, SocketAddr};

/// Which address family a name may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Whatever comes first.
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

/// The status of an attempt that failed with `e`.
pub fn status_of(e: &NetError) -> AttemptStatus {
    match e.cause() {
        Cause::Denied => AttemptStatus::Denied,
        Cause::Refused => AttemptStatus::Refused,
        Cause::Reset => AttemptStatus::Reset,
        Cause::Timeout => AttemptStatus::Timeout,
        Cause::Unreachable => AttemptStatus::Unreachable,
        Cause::AddressInUse | Cause::Other => AttemptStatus::Error,
    }
}

/// An attempt that ended with `status` and `detail`, nothing measured.
pub fn failed(seq: u32, status: AttemptStatus, detail: String) -> Attempt {
    Attempt {
        seq,
        status,
        rtt_ns: None,
        reply_ns: None,
        received: Vec::new(),
        detail,
    }
}

/// The first address of `host` in `family`.
pub fn resolve(host: &str, family: Family) -> Result<IpAddr, ProbeError> {
    let all = wstd::runtime::block_on(netio::resolve(host)).map_err(ProbeError::NameNotFound)?;
    all.into_iter()
        .find(|ip| match family {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        })
        .ok_or_else(|| {
            ProbeError::NameNotFound(format!(
                "{host:?} has no {} address",
                if family == Family::V4 { "IPv4" } else { "IPv6" }
            ))
        })
}

/// One attempt's work: given the address, its number, the expectation and the
/// instant (monotonic, ns) it must end by.
pub type OneAttempt<'a> = dyn FnMut(SocketAddr, u32, Option<&Expectation>, u64) -> Attempt + 'a;

/// The whole run: check the options, resolve, then `count` attempts, one every
/// `interval`, each handed to `on_attempt` as it ends.
pub fn run(
    host: &str,
    port: u16,
    options: &ProbeOptions,
    family: Family,
    one: &mut OneAttempt<'_>,
    on_attempt: &mut dyn FnMut(&str, &Attempt),
) -> Result<ProbeReport, ProbeError> {
    if options.count == 0 {
        return Err(ProbeError::InvalidRequest(
            "count must be at least 1".into(),
        ));
    }
    if options.timeout_ms == 0 {
        return Err(ProbeError::InvalidRequest(
            "timeout must be more than 0".into(),
        ));
    }
    let expectation = Expectation::new(options.expect.as_deref(), options.expect_bytes.clone())
        .map_err(ProbeError::InvalidRequest)?;
    let addr = SocketAddr::new(resolve(host, family)?, port);
    let target = addr.to_string();
    let mut attempts = Vec::new();
    let mut next = monotonic_clock::now();
    for seq in 1..=options.count {
        let now = monotonic_clock::now();
        if now < next {
            monotonic_clock::subscribe_instant(next).block();
        }
        let start = monotonic_clock::now();
        next = start.saturating_add(options.interval_ms.saturating_mul(1_000_000));
        let deadline = start.saturating_add(options.timeout_ms.saturating_mul(1_000_000));
        let a = one(addr, seq, expectation.as_ref(), deadline);
        on_attempt(&target, &a);
        attempts.push(a);
    }
    Ok(ProbeReport { target, attempts })
}

/// Monotonic nanoseconds since `start`.
pub fn since(start: u64) -> u64 {
    monotonic_clock::now().saturating_sub(start)
}

/// The shared view of an attempt (text and JSON).
pub fn view(a: &Attempt) -> AttemptView<'_> {
    probe_proto::attempt_view!(AttemptStatus, a)
}

/// One line describing a failure to run.
pub fn describe(e: &ProbeError) -> String {
    probe_proto::probe_error_text!(ProbeError, e)
}

/// The WIT name of the failure.
pub fn error_kind(e: &ProbeError) -> &'static str {
    probe_proto::probe_error_kind!(ProbeError, e)
}

/// The probe's own command line (the component under `wasmtime run`): the
/// flags into options, the run with a line per attempt, the summary, the exit
/// (`Err(())` is `wasi:cli/run`'s failure: exit 1, everything already printed).
#[allow(clippy::result_unit_err)]
pub fn cli_main(
    program: &str,
    what: &str,
    flags: cli_args::flags::ProbeFlags,
    probe: impl FnOnce(
        &str,
        u16,
        &ProbeOptions,
        Family,
        &mut dyn FnMut(&str, &Attempt),
    ) -> Result<ProbeReport, ProbeError>,
) -> Result<(), ()> {
    let fail = |m: String| cli_args::fail(program, flags.json, "invalid-request", &m);
    let (host, port) = match probe_proto::split_target(&flags.target) {
        Ok(hp) => hp,
        Err(e) => return fail(e),
    };
    let (send, expect_bytes) = match (flags.payload(), flags.expect_bytes()) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let options = ProbeOptions {
        count: flags.count,
        interval_ms: flags.interval.as_millis() as u64,
        timeout_ms: cli_args::ms_at_least_1(flags.timeout),
        send,
        expect: flags.expect.clone(),
        expect_bytes,
    };
    let family = match (flags.family.ipv4, flags.family.ipv6) {
        (true, _) => Family::V4,
        (_, true) => Family::V6,
        _ => Family::Any,
    };
    let json = flags.json;
    let mut print = |target: &str, a: &Attempt| {
        if !json {
            println!("{}", probe_proto::attempt_text(target, what, &view(a)));
        }
    };
    match probe(&host, port, &options, family, &mut print) {
        Ok(report) => {
            let views: Vec<_> = report.attempts.iter().map(view).collect();
            let summary = probe_proto::summary_of(&views);
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": summary.all_ok(), "report": probe_proto::report_json(&report.target, &views)})
                );
            } else {
                println!("{}", probe_proto::summary_line(&report.target, &summary));
            }
            if summary.all_ok() { Ok(()) } else { Err(()) }
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "error": {"kind": error_kind(&e), "message": describe(&e)}})
                );
            } else {
                eprintln!("{program}: {}", describe(&e));
            }
            Err(())
        }
    }
}

/// A probe component's exports around its `probe` function: the typed
/// interface (`$Export`, the component's generated `Guest` trait) and its own
/// command line (`wasi:cli/run`), both over the same function. Expands in the
/// component crate, which defines `Component` and its generated `exports`.
#[macro_export]
macro_rules! probe_component {
    ($Export:path, $program:literal, $verb:literal, $about:literal, $probe:path) => {
        impl $Export for Component {
            fn probe(
                host: String,
                port: u16,
                options: $crate::ProbeOptions,
            ) -> Result<$crate::ProbeReport, $crate::ProbeError> {
                $probe(&host, port, &options, $crate::Family::Any, &mut |_, _| {})
            }
        }

        #[doc = $about]
        #[derive(clap::Parser, Debug)]
        #[command(name = concat!($program, ".wasm"), version)]
        struct Args {
            #[command(flatten)]
            f: cli_args::flags::ProbeFlags,
        }

        impl exports::wasi::cli::run::Guest for Component {
            fn run() -> Result<(), ()> {
                let Args { f } = <Args as clap::Parser>::try_parse().unwrap_or_else(|e| e.exit());
                $crate::cli_main($program, $verb, f, $probe)
            }
        }
    };
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/probe.wit");
