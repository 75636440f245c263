//! The `tcp:` block of a module: blackbox_exporter's `TCPProbe` keys. A
//! dialog netkit's tcp prober can hold today (at most one `send`, then at
//! most one `expect`) runs as blackbox runs it; `tls: true` with no dialog is
//! a TLS handshake and its chain (netkit's tls kind); anything else is
//! refused by name with the reason.

use super::block::{Block, Severity};
use super::common;
use crate::watch::config::{Kind, ProbeConfig};

/// One `query_response` step as written.
#[derive(Debug, Default)]
struct Step {
    expect: Option<String>,
    expect_bytes: Option<Vec<u8>>,
    send: Option<Vec<u8>>,
    starttls: bool,
    labels: bool,
}

fn steps(b: &Block) -> Vec<Step> {
    b.blocks("query_response")
        .iter()
        .map(|s| {
            let expect = s.str_at("expect").filter(|(e, _)| !e.is_empty());
            if let Some((e, at)) = &expect
                && let Err(msg) = http_proto::expect::regex("expect", e)
            {
                s.bad("expect", *at, msg);
            }
            let expect_bytes = s.bytes("expect_bytes").filter(|e| !e.is_empty());
            if expect.is_some() && expect_bytes.is_some() {
                s.error(
                    s.at,
                    format!("{}: expect and expect_bytes are mutually exclusive", s.path),
                );
            }
            let labels = s.blocks("labels");
            for l in &labels {
                l.str("name");
                l.str("value");
            }
            Step {
                expect: expect.map(|(e, _)| e),
                expect_bytes,
                send: s.bytes("send").filter(|x| !x.is_empty()),
                starttls: s.bool("starttls").unwrap_or(false),
                labels: !labels.is_empty(),
            }
        })
        .collect()
}

/// What netkit's tcp prober can do with a dialog: at most one send, then at
/// most one expectation; `Err` says what it cannot.
fn one_exchange(steps: &[Step]) -> Result<(Option<Vec<u8>>, Option<Step>), String> {
    if steps.iter().any(|s| s.starttls) {
        return Err(
            "starttls is not supported yet: netkit's tcp prober has no TLS mid-dialog".into(),
        );
    }
    if steps.iter().any(|s| s.labels) {
        return Err("labels (probe_expect_info) are not supported yet".into());
    }
    if steps.iter().any(|s| {
        s.send
            .as_ref()
            .is_some_and(|x| x.windows(2).any(|w| w == b"${"))
    }) {
        return Err("${N} in send (a group of the last match) is not supported yet".into());
    }
    // Flatten into the order blackbox runs them: a step's expect, then its send.
    let mut ops: Vec<(bool, &Step)> = Vec::new();
    for s in steps {
        if s.expect.is_some() || s.expect_bytes.is_some() {
            ops.push((false, s));
        }
        if s.send.is_some() {
            ops.push((true, s));
        }
    }
    match ops.as_slice() {
        [] => Ok((None, None)),
        [(false, e)] => Ok((None, Some(copy_expect(e)))),
        [(true, s)] => Ok((s.send.clone(), None)),
        [(true, s), (false, e)] => Ok((s.send.clone(), Some(copy_expect(e)))),
        _ => Err(format!(
            "a dialog of {} exchanges (expect/send in the order {}): netkit's tcp prober sends once and then expects once; longer dialogs are not supported yet",
            ops.len(),
            ops.iter()
                .map(|(send, _)| if *send { "send" } else { "expect" })
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn copy_expect(s: &Step) -> Step {
    Step {
        expect: s.expect.clone(),
        expect_bytes: s.expect_bytes.clone(),
        ..Step::default()
    }
}

/// Read `b` into `m` (a tcp module).
pub fn read(b: &Block, m: &mut ProbeConfig) {
    common::ip_protocol(b, m);
    common::netkit_keys(b, m);
    let steps = steps(b);
    let tls = b.bool("tls").unwrap_or(false);
    let raw_tls = common::tls_config(b, m);
    let dialog_at = b.key_at("query_response").unwrap_or(b.at);
    if tls {
        if !steps.is_empty() {
            b.say(
                Severity::Unsupported,
                dialog_at,
                "query_response",
                "a dialog over tls: true is not supported yet: netkit's tcp prober speaks plain TCP (tls: true alone, a handshake and its chain, is)",
            );
            return;
        }
        m.kind = Kind::Tls;
        match crate::watch::web_probe::tls_settings(raw_tls.as_ref(), &b.ctx().base) {
            Ok(t) => m.tls = Some(t),
            Err(e) => b.error(b.at, format!("{}.tls_config: {e}", b.path)),
        }
        return;
    }
    match one_exchange(&steps) {
        Ok((send, expect)) => {
            m.send = send;
            if let Some(e) = expect {
                m.expect = e.expect;
                m.expect_bytes = e.expect_bytes;
            }
        }
        Err(why) => b.say(Severity::Unsupported, dialog_at, "query_response", &why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(expect: Option<&str>, send: Option<&str>) -> Step {
        Step {
            expect: expect.map(str::to_string),
            send: send.map(|s| s.as_bytes().to_vec()),
            ..Step::default()
        }
    }

    #[test]
    fn dialogs_netkit_can_hold() {
        let (s, e) = one_exchange(&[step(Some("^SSH-2.0-"), None)]).unwrap();
        assert!(s.is_none() && e.unwrap().expect.as_deref() == Some("^SSH-2.0-"));
        let (s, e) = one_exchange(&[step(None, Some("PING\n")), step(Some("PONG"), None)]).unwrap();
        assert_eq!(s.as_deref(), Some(&b"PING\n"[..]));
        assert!(e.is_some());
        let e = one_exchange(&[
            step(Some("^220"), Some("EHLO x\r\n")),
            step(Some("^250"), None),
        ])
        .unwrap_err();
        assert!(e.contains("expect, send, expect"), "{e}");
        let e = one_exchange(&[step(Some("x"), Some("PONG ${1}"))]).unwrap_err();
        assert!(e.contains("${N}"), "{e}");
        let mut t = step(None, None);
        t.starttls = true;
        assert!(one_exchange(&[t]).unwrap_err().contains("starttls"));
    }
}
