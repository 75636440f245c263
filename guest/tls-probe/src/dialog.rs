//! `netkit:diag/tcp-dialog`: connect, then run blackbox_exporter's tcp
//! `query_response` steps (tls-proto's `dialog`), TLS first or by STARTTLS.

use crate::exports::netkit::diag::tcp_dialog::{
    DialogError, DialogFailure, DialogOptions, DialogReport, Guest, Label,
};
use crate::{Component, NoAddress, address, convert, now, server_name, tls_options};
use netio::TcpStream;
use tls_proto::NetioTransport;
use tls_proto::dialog::{Failure, Plan, Step};

fn failure(f: Failure) -> DialogFailure {
    match f {
        Failure::Regex => DialogFailure::Regex,
        Failure::Bytes => DialogFailure::Bytes,
        Failure::Closed => DialogFailure::Closed,
        Failure::Timeout => DialogFailure::Timeout,
        Failure::Io => DialogFailure::Io,
        Failure::Handshake => DialogFailure::Handshake,
        Failure::Verify => DialogFailure::Verify,
    }
}

fn labels(l: Vec<(String, String)>) -> Vec<Label> {
    l.into_iter()
        .map(|(name, value)| Label { name, value })
        .collect()
}

pub(crate) fn run(
    host: &str,
    port: u16,
    connect_to: Option<&str>,
    o: DialogOptions,
) -> Result<DialogReport, DialogError> {
    if o.timeout_ms == 0 {
        return Err(DialogError::InvalidRequest(
            "timeout must be more than 0".into(),
        ));
    }
    let steps = o
        .steps
        .into_iter()
        .map(|s| Step {
            expect: s.expect,
            expect_bytes: s.expect_bytes,
            labels: s.labels.into_iter().map(|l| (l.name, l.value)).collect(),
            send: s.send,
            starttls: s.starttls,
        })
        .collect();
    let plan = Plan::new(steps).map_err(DialogError::InvalidRequest)?;
    let start = now();
    let deadline = start.saturating_add(o.timeout_ms.saturating_mul(1_000_000));
    let addr = address(host, port, connect_to, false, false).map_err(|e| match e {
        NoAddress::Invalid(why) => DialogError::InvalidRequest(why),
        NoAddress::NotFound(why) => DialogError::NameNotFound(why),
    })?;
    let tcp = match TcpStream::connect_until(addr, deadline) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(DialogError::Timeout(
                "no TCP connection before the timeout".into(),
            ));
        }
        Err(e) => return Err(DialogError::Connect(e.to_string())),
    };
    let connect_ns = now() - start;
    let name = server_name(host, o.tls_options.server_name.as_ref());
    let tls = tls_options(&o.tls_options, &name);
    let out = tls_proto::dialog::run(
        NetioTransport(tcp),
        &plan,
        o.tls,
        &tls,
        o.tls_options.insecure,
        deadline,
    );
    Ok(DialogReport {
        target: addr.to_string(),
        connect_ns,
        handshake: out.handshake.as_ref().map(convert::handshake),
        steps_done: out.steps_done,
        expect_info: out.expect_info.into_iter().map(labels).collect(),
        failure: out.failure.map(|(f, words)| (failure(f), words)),
        transcript: out.transcript,
        now: convert::wall_now(),
    })
}

impl Guest for Component {
    fn run(
        host: String,
        port: u16,
        connect_to: Option<String>,
        options: DialogOptions,
    ) -> Result<DialogReport, DialogError> {
        run(&host, port, connect_to.as_deref(), options)
    }
}
