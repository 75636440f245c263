//! Driving the HTTP probe component through its typed export, granted exactly
//! `tcp-connect://IP:PORT` for the URL and for each origin redirects may lead
//! to. netkit resolves every name before the run and hands the addresses to
//! the component (like curl's `--resolve`): it looks nothing up itself. A
//! redirect elsewhere ends the probe and is audited as denied.

use crate::components::Builtin;
use crate::policy::{GrantKind, NetGrant, ResolvedPolicy};
use crate::runtime::{Driver, Host, Sandbox, unconstrained};
use anyhow::Result;
use std::net::SocketAddr;
use wasmtime::component::Component;

/// The HTTP probe world (generated; documented in `wit/http.wit`), sharing the
/// TLS types with the TLS probe's bindings.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/http-probe-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "netkit:diag/tls-types": crate::tls::bindings::netkit::diag::tls_types,
        },
    });
}

pub use bindings::exports::netkit::diag::http_probe::{
    Header, HttpError, HttpRequest, HttpResponse, ResolveOverride,
};

/// Grants for `targets` (the URL's address, then each granted redirect origin's): `tcp-connect://` each.
pub fn client_policy(targets: &[SocketAddr]) -> ResolvedPolicy {
    ResolvedPolicy::new(
        targets
            .iter()
            .map(|a| NetGrant::exact(GrantKind::TcpConnect, *a))
            .collect(),
    )
}

/// A reusable HTTP prober for plugin hosts: compiled and linked once; each
/// probe gets a fresh instance.
pub struct HttpProber(Driver<bindings::exports::netkit::diag::http_probe::GuestIndices>);

impl HttpProber {
    /// A prober running netkit's embedded HTTP probe.
    pub fn new(host: &Host) -> Result<Self> {
        Self::from_component(host, &host.builtin(Builtin::HttpProbe)?)
    }

    /// A prober running `component` (which must export `netkit:diag/http-probe`).
    pub fn from_component(host: &Host, component: &Component) -> Result<Self> {
        Driver::load(
            host,
            component,
            bindings::exports::netkit::diag::http_probe::GuestIndices::new,
        )
        .map(Self)
    }

    /// Run `request` under `sandbox` (whose grants must cover its targets). A
    /// redirect the component refused to follow is recorded in the sandbox's
    /// audit as denied.
    pub async fn probe_in(
        &self,
        sandbox: &Sandbox,
        request: &HttpRequest,
    ) -> Result<Result<HttpResponse, HttpError>> {
        let result = unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            anyhow::Ok(
                self.0
                    .exports()
                    .load(&mut store, &instance)?
                    .call_probe(&mut store, request)
                    .await?,
            )
        })
        .await?;
        if let Err(HttpError::RedirectNotGranted(url)) = &result {
            sandbox.audit().record("redirect", url.clone(), None);
        }
        Ok(result)
    }
}

/// The response as http-proto's report (for its text and JSON).
pub fn report(r: &HttpResponse) -> http_proto::text::HttpReport {
    use crate::tls::VerifyError;
    http_proto::report_from_wit!(VerifyError, r)
}

/// The largest body limit a sandbox of `memory` bytes can hold: the body is
/// kept in guest memory as sent and again decoded, so half of it (issue 31:
/// a limit above the budget ended in a wasm backtrace).
pub fn max_body_within(memory: usize) -> u64 {
    memory as u64 / 2
}

/// `limit` against a sandbox of `memory` bytes: the error says the most it may be.
pub fn check_max_body(limit: u64, memory: usize) -> Result<(), String> {
    let most = max_body_within(memory);
    if limit > most {
        return Err(format!(
            "{limit} bytes is more than the {} MiB the probe's sandbox can hold (its memory budget is {} MiB; the body is kept as sent and decoded)",
            most >> 20,
            memory >> 20
        ));
    }
    Ok(())
}

/// The WIT case name and message of a failure.
pub fn error(e: &HttpError) -> (&'static str, String) {
    http_proto::http_error!(HttpError, e)
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/http.wit");
