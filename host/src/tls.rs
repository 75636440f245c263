//! Driving the TLS probe component through its typed export, granted exactly
//! `tcp-connect://IP:PORT`. Trust roots are read here (the system bundle or
//! `--ca`) and handed to the component as data: it reads no file.

use crate::components::Builtin;
use crate::policy::{GrantKind, NetGrant, ResolvedPolicy};
use crate::runtime::{Driver, Host, Sandbox, unconstrained};
use anyhow::Result;
use std::net::SocketAddr;
use std::path::Path;
use wasmtime::component::Component;

/// The TLS probe world (generated; documented in `wit/tls.wit`).
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "netkit:diag/tls-probe-component",
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: { "wasi": wasmtime_wasi::p2::bindings },
    });
}

pub use bindings::exports::netkit::diag::tcp_dialog::{
    DialogError, DialogFailure, DialogOptions, DialogReport, Label, Step,
};
pub use bindings::exports::netkit::diag::tls_probe::{
    Starttls, TlsProbeError, TlsProbeOptions, TlsReport,
};
pub use bindings::netkit::diag::tls_types::{
    ClientCertificate, Handshake, TlsOptions, TlsVersion, VerifyError,
};

/// The system's trust roots, as Debian's ca-certificates installs them.
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Trust roots (DER) from `ca`, or from the system bundle.
pub fn roots(ca: Option<&Path>) -> Result<Vec<Vec<u8>>> {
    let path = ca.unwrap_or(Path::new(SYSTEM_BUNDLE));
    let pem = cli_args::files::read(path, cli_args::files::Kind::Pem).map_err(|e| {
        if ca.is_some() {
            anyhow::anyhow!("the CA bundle: {e}")
        } else {
            anyhow::anyhow!(
                "the system's trust roots: {e} (install ca-certificates, or give --ca FILE)"
            )
        }
    })?;
    tls_proto::pem::certificates(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A client certificate (mTLS) from its PEM files, read and checked by the
/// host (the component reads no file); none when neither is given.
pub fn client_certificate(
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<Option<tls_proto::pem::ClientCertificate>> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(c), Some(k)) => (c, k),
        _ => anyhow::bail!("a client certificate needs both its certificate and its key file"),
    };
    let read = |p: &Path| {
        cli_args::files::read(p, cli_args::files::Kind::Pem).map_err(|e| anyhow::anyhow!("{e}"))
    };
    let c = tls_proto::pem::ClientCertificate::from_pem(&read(cert)?, &read(key)?)
        .map_err(|e| anyhow::anyhow!("{} / {}: {e}", cert.display(), key.display()))?;
    Ok(Some(c))
}

/// The WIT record of a client certificate.
pub fn client_certificate_wit(c: &tls_proto::pem::ClientCertificate) -> ClientCertificate {
    ClientCertificate {
        chain: c.chain.clone(),
        key_pem: c.key_pem.clone(),
    }
}

/// Grants for a TLS connection to exactly `target`: `tcp-connect://` it. Nothing else.
pub fn client_policy(target: SocketAddr) -> ResolvedPolicy {
    ResolvedPolicy::new(vec![NetGrant::exact(GrantKind::TcpConnect, target)])
}

/// A reusable TLS prober for plugin hosts: compiled and linked once; each
/// probe gets a fresh instance granted only its target.
pub struct TlsProber(
    Driver<(
        bindings::exports::netkit::diag::tls_probe::GuestIndices,
        bindings::exports::netkit::diag::tcp_dialog::GuestIndices,
    )>,
);

impl TlsProber {
    /// A prober running netkit's embedded TLS probe.
    pub fn new(host: &Host) -> Result<Self> {
        Self::from_component(host, &host.builtin(Builtin::TlsProbe)?)
    }

    /// A prober running `component` (which must export `netkit:diag/tls-probe`).
    pub fn from_component(host: &Host, component: &Component) -> Result<Self> {
        Driver::load(host, component, |pre| {
            Ok((
                bindings::exports::netkit::diag::tls_probe::GuestIndices::new(pre)?,
                bindings::exports::netkit::diag::tcp_dialog::GuestIndices::new(pre)?,
            ))
        })
        .map(Self)
    }

    /// Probe `addr`, naming it `name` (SNI and verification), in a fresh instance granted only `addr`.
    pub async fn probe(
        &self,
        name: &str,
        addr: SocketAddr,
        options: &TlsProbeOptions,
    ) -> Result<Result<TlsReport, TlsProbeError>> {
        let sandbox = Sandbox::new("tls", client_policy(addr));
        self.probe_in(&sandbox, name, addr, options).await
    }

    /// Probe `addr` under `sandbox`.
    pub async fn probe_in(
        &self,
        sandbox: &Sandbox,
        name: &str,
        addr: SocketAddr,
        options: &TlsProbeOptions,
    ) -> Result<Result<TlsReport, TlsProbeError>> {
        let ip = addr.ip().to_string();
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            Ok(self
                .0
                .exports()
                .0
                .load(&mut store, &instance)?
                .call_probe(&mut store, name, addr.port(), Some(&ip), options)
                .await?)
        })
        .await
    }
}

impl TlsProber {
    /// Run a tcp dialog (blackbox's `query_response`) with `addr`, naming it
    /// `name` (SNI and verification for any TLS), under `sandbox`.
    pub async fn dialog_in(
        &self,
        sandbox: &Sandbox,
        name: &str,
        addr: SocketAddr,
        options: &DialogOptions,
    ) -> Result<Result<DialogReport, DialogError>> {
        let ip = addr.ip().to_string();
        unconstrained(async {
            let (mut store, instance) = self.0.instantiate(sandbox).await?;
            Ok(self
                .0
                .exports()
                .1
                .load(&mut store, &instance)?
                .call_run(&mut store, name, addr.port(), Some(&ip), options)
                .await?)
        })
        .await
    }
}

/// The report as tls-proto's (for its text and JSON).
pub fn report(r: &TlsReport) -> tls_proto::text::TlsReport {
    tls_proto::report_from_wit!(VerifyError, r)
}

/// What a handshake established, as tls-proto's.
pub fn handshake(h: &Handshake) -> tls_proto::Handshake {
    tls_proto::handshake_from_wit!(VerifyError, h)
}

/// The WIT case name and message of a failure.
pub fn error(e: &TlsProbeError) -> (&'static str, String) {
    tls_proto::tls_probe_error!(TlsProbeError, e)
}

/// The CLI's version flag as the WIT's.
pub fn version(v: cli_args::flags::TlsVersionArg) -> TlsVersion {
    match v {
        cli_args::flags::TlsVersionArg::Tls12 => TlsVersion::Tls12,
        cli_args::flags::TlsVersionArg::Tls13 => TlsVersion::Tls13,
    }
}

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../wit/tls.wit");
