//! The netkit TCP probe component: `wasi:cli/run` for the command line and
//! `netkit:diag/tcp-probe` for plugin hosts. One attempt: connect (timed), then
//! optionally send and read until the reply meets the expectation.

use netio::{Read, TcpStream};
use probe_proto::{Expectation, MAX_REPLY, Verdict};
use probe_types::{Attempt, AttemptStatus, Family, ProbeError, ProbeOptions, ProbeReport};
use std::net::SocketAddr;

wit_bindgen::generate!({
    world: "tcp-probe-component",
    path: "../../wit",
    with: { "netkit:diag/probe-types@0.1.0": probe_types },
    generate_all,
});

struct Component;

fn attempt(
    addr: SocketAddr,
    seq: u32,
    send: Option<&[u8]>,
    expect: Option<&Expectation>,
    deadline: u64,
) -> Attempt {
    let start = netio::wasip2::clocks::monotonic_clock::now();
    let stream = match TcpStream::connect_until(addr, deadline) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return probe_types::failed(
                seq,
                AttemptStatus::Timeout,
                "no connection before the timeout".into(),
            );
        }
        Err(e) => return probe_types::failed(seq, probe_types::status_of(&e), e.to_string()),
    };
    let rtt = probe_types::since(start);
    let mut a = Attempt {
        seq,
        status: AttemptStatus::Ok,
        rtt_ns: Some(rtt),
        reply_ns: None,
        received: Vec::new(),
        detail: String::new(),
    };
    let fail = |mut a: Attempt, status, detail: String| {
        a.status = status;
        a.detail = detail;
        a
    };
    if let Some(bytes) = send {
        match stream.write_until(bytes, deadline) {
            Ok(true) => {}
            Ok(false) => {
                return fail(
                    a,
                    AttemptStatus::Timeout,
                    "could not send before the timeout".into(),
                );
            }
            Err(e) => return fail(a, probe_types::status_of(&e), e.to_string()),
        }
    }
    let Some(expect) = expect else {
        stream.shutdown_send();
        return a;
    };
    loop {
        if expect.check(&a.received) == Verdict::Match {
            a.reply_ns = Some(probe_types::since(start));
            stream.shutdown_send();
            return a;
        }
        if a.received.len() >= MAX_REPLY {
            let why = format!(
                "no match for {} in the first {MAX_REPLY} bytes",
                expect.describe()
            );
            return fail(a, AttemptStatus::Mismatch, why);
        }
        let room = (MAX_REPLY - a.received.len()) as u64;
        match stream.read_until(room, deadline) {
            Ok(Some(Read::Data(d))) => a.received.extend_from_slice(&d),
            Ok(Some(Read::Closed)) => {
                let why = format!(
                    "closed without a match for {}; read \"{}\"",
                    expect.describe(),
                    probe_proto::printable(&a.received, 120)
                );
                return fail(a, AttemptStatus::Mismatch, why);
            }
            Ok(Some(Read::Empty)) => {}
            Ok(None) => {
                let why = format!(
                    "no match for {} before the timeout; read \"{}\"",
                    expect.describe(),
                    probe_proto::printable(&a.received, 120)
                );
                let status = if a.received.is_empty() {
                    AttemptStatus::Timeout
                } else {
                    AttemptStatus::Mismatch
                };
                return fail(a, status, why);
            }
            Err(e) => return fail(a, probe_types::status_of(&e), e.to_string()),
        }
    }
}

fn probe(
    host: &str,
    port: u16,
    options: &ProbeOptions,
    family: Family,
    on_attempt: &mut dyn FnMut(&str, &Attempt),
) -> Result<ProbeReport, ProbeError> {
    let send = options.send.clone();
    probe_types::run(
        host,
        port,
        options,
        family,
        &mut |addr, seq, expect, deadline| attempt(addr, seq, send.as_deref(), expect, deadline),
        on_attempt,
    )
}

probe_types::probe_component!(
    exports::netkit::diag::tcp_probe::Guest,
    "tcp-probe",
    "connected",
    "Is this TCP port reachable, and how fast? Like tcping: one line per attempt, then statistics.",
    probe
);

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/probe.wit");
