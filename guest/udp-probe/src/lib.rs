//! The netkit UDP probe component: `wasi:cli/run` for the command line and
//! `netkit:diag/udp-probe` for plugin hosts. One attempt: a fresh socket (so a
//! late reply to an earlier attempt never counts), one datagram out, the first
//! reply back, timed and checked.

use netio::UdpStream;
use probe_proto::{Expectation, Verdict};
use probe_types::{Attempt, AttemptStatus, Family, ProbeError, ProbeOptions, ProbeReport};
use std::net::SocketAddr;

wit_bindgen::generate!({
    world: "udp-probe-component",
    path: "../../wit",
    with: { "netkit:diag/probe-types@0.1.0": probe_types },
    generate_all,
});

struct Component;

fn attempt(
    addr: SocketAddr,
    seq: u32,
    send: &[u8],
    expect: Option<&Expectation>,
    deadline: u64,
) -> Attempt {
    let start = netio::wasip2::clocks::monotonic_clock::now();
    let socket = match UdpStream::connect(addr) {
        Ok(s) => s,
        Err(e) => return probe_types::failed(seq, probe_types::status_of(&e), e.to_string()),
    };
    if let Err(e) = socket.send(send.to_vec()) {
        return probe_types::failed(seq, probe_types::status_of(&e), e.to_string());
    }
    match socket.receive(deadline) {
        Ok(Some(d)) => {
            let rtt = probe_types::since(start);
            let mut a = Attempt {
                seq,
                status: AttemptStatus::Ok,
                rtt_ns: Some(rtt),
                reply_ns: None,
                received: d.data,
                detail: String::new(),
            };
            if let Some(e) = expect {
                if e.check(&a.received) == Verdict::Match {
                    a.reply_ns = Some(rtt);
                } else {
                    a.status = AttemptStatus::Mismatch;
                    a.detail = format!(
                        "reply does not match {}: \"{}\"",
                        e.describe(),
                        probe_proto::printable(&a.received, 120)
                    );
                }
            }
            a
        }
        Ok(None) => probe_types::failed(
            seq,
            AttemptStatus::Timeout,
            "no reply before the timeout".into(),
        ),
        Err(e) => probe_types::failed(seq, probe_types::status_of(&e), e.to_string()),
    }
}

fn probe(
    host: &str,
    port: u16,
    options: &ProbeOptions,
    family: Family,
    on_attempt: &mut dyn FnMut(&str, &Attempt),
) -> Result<ProbeReport, ProbeError> {
    let Some(send) = options.send.clone() else {
        return Err(ProbeError::InvalidRequest(
            "a UDP probe needs something to send: --send TEXT or --send-hex HEX".into(),
        ));
    };
    probe_types::run(
        host,
        port,
        options,
        family,
        &mut |addr, seq, expect, deadline| attempt(addr, seq, &send, expect, deadline),
        on_attempt,
    )
}

probe_types::probe_component!(
    exports::netkit::diag::udp_probe::Guest,
    "udp-probe",
    "replied",
    "Does this UDP service answer, and how fast? One datagram per attempt; the reply is shown.",
    probe
);

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/probe.wit");
