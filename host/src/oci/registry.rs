//! Talking to a registry with oci-client: pulling a component artifact (manifest,
//! config, layer, each checked against its digest and its size before it is kept)
//! and pushing one. HTTPS unless the registry is named insecure.

use super::layout::{self, Descriptor, WasmArtifact, WasmConfig};
use super::reference::OciRef;
use super::store::sha256;
use anyhow::{Result, anyhow, bail};
use oci_client::Client;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The largest component netkit pulls unless `NETKIT_OCI_MAX_SIZE` says otherwise.
pub const DEFAULT_MAX_SIZE: u64 = 64 << 20;

/// How registries are reached.
#[derive(Debug, Clone, Default)]
pub struct Registries {
    /// `HOST[:PORT]` (or `HOST`, any port) spoken to over plain HTTP.
    pub insecure: Vec<String>,
}

impl Registries {
    /// With plain HTTP for `insecure` (each `HOST[:PORT]`).
    pub fn new(insecure: Vec<String>) -> Self {
        Self { insecure }
    }

    /// Whether `r`'s registry is spoken to over plain HTTP.
    pub fn is_insecure(&self, r: &OciRef) -> bool {
        self.insecure
            .iter()
            .any(|i| i == &r.registry || i == r.host())
    }

    fn client(&self, r: &OciRef) -> Result<Client> {
        install_ring();
        // try_from, not new: new falls back to a default client (HTTPS, no
        // timeouts) when the configured one cannot be built.
        Client::try_from(ClientConfig {
            protocol: if self.is_insecure(r) {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(30)),
            platform_resolver: None,
            user_agent: concat!("netkit/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        })
        .map_err(|e| anyhow!("cannot set up the registry client: {e}"))
    }

    /// The client for the manifest GET. Over plain HTTP it needs no trust roots:
    /// it loads none (reading the system's takes a few milliseconds).
    fn manifest_client(&self, r: &OciRef) -> Result<reqwest::Client> {
        install_ring();
        let mut b = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(30))
            .user_agent(concat!("netkit/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5));
        if self.is_insecure(r) {
            b = b.tls_certs_only(Vec::new());
        }
        b.build()
            .map_err(|e| anyhow!("cannot set up the registry client: {e}"))
    }
}

/// reqwest's rustls needs a process-wide crypto provider: ring, as everywhere
/// in netkit (a second call, or one after another part installed it, is a no-op).
fn install_ring() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The largest component to pull: `NETKIT_OCI_MAX_SIZE` (e.g. `16MiB`), else 64 MiB.
pub fn max_size() -> Result<u64> {
    match std::env::var("NETKIT_OCI_MAX_SIZE") {
        Err(_) => Ok(DEFAULT_MAX_SIZE),
        Ok(t) => cli_args::units::bytes(&t)
            .map_err(|e| anyhow!("NETKIT_OCI_MAX_SIZE={t:?}: {e} (e.g. 64MiB)")),
    }
}

/// One line for an oci-client error: what failed and what to do.
fn explain(
    r: &OciRef,
    registries: &Registries,
    e: oci_client::errors::OciDistributionError,
) -> anyhow::Error {
    use oci_client::errors::OciDistributionError as E;
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    let lower = chain.to_lowercase();
    if let E::RegistryError { envelope, .. } = &e {
        let codes: Vec<String> = envelope
            .errors
            .iter()
            .map(|x| format!("{:?}", x.code))
            .collect();
        let codes = codes.join(", ");
        if codes.contains("ManifestUnknown") || codes.contains("NameUnknown") {
            return anyhow!("{r}: not in the registry ({codes}): check the repository and tag");
        }
        if codes.contains("BlobUnknown") {
            return anyhow!("{r}: the registry has no blob the manifest names ({codes})");
        }
        if codes.contains("Unauthorized") || codes.contains("Denied") {
            return anyhow!(
                "{r}: the registry refused access ({codes}): set NETKIT_REGISTRY_USERNAME and NETKIT_REGISTRY_PASSWORD, or log in so ~/.docker/config.json has its auths entry"
            );
        }
        return anyhow!("{r}: the registry answered an error ({codes})");
    }
    if let E::ServerError { code, .. } = &e
        && *code == 404
    {
        return anyhow!("{r}: not in the registry (HTTP 404): check the repository and tag");
    }
    if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("invalid peer")
    {
        return anyhow!(
            "cannot verify registry {}'s certificate{} (netkit trusts the system's roots; SSL_CERT_FILE names another bundle)",
            r.registry,
            chain
                .rsplit(": ")
                .next()
                .map(|last| format!(": {last}"))
                .unwrap_or_default()
        );
    }
    if lower.contains("connection refused")
        || lower.contains("error sending request")
        || lower.contains("dns error")
        || lower.contains("timed out")
    {
        let why = if lower.contains("connection refused") {
            "connection refused"
        } else if lower.contains("timed out") {
            "timed out"
        } else if lower.contains("dns error") {
            "its name does not resolve"
        } else {
            "the request failed"
        };
        let hint = if registries.is_insecure(r) {
            "is it running there?".to_string()
        } else {
            format!(
                "is it running, and does it speak HTTPS? (for plain HTTP: --insecure-registry {})",
                r.registry
            )
        };
        return anyhow!("cannot reach registry {}: {why} ({hint})", r.registry);
    }
    anyhow!("{r}: the registry exchange failed{chain}")
}

/// One line for a registry's HTTP error answer (its OCI error codes if it sent any).
fn status_error(r: &OciRef, status: u16, body: &[u8]) -> anyhow::Error {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(default)]
        errors: Vec<Code>,
    }
    #[derive(serde::Deserialize)]
    struct Code {
        code: String,
    }
    let codes = serde_json::from_slice::<Envelope>(body)
        .map(|e| {
            e.errors
                .into_iter()
                .map(|c| c.code)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let said = if codes.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}, {codes}")
    };
    match status {
        404 => anyhow!("{r}: not in the registry ({said}): check the repository and tag"),
        401 | 403 => anyhow!(
            "{r}: the registry refused access ({said}): set NETKIT_REGISTRY_USERNAME and NETKIT_REGISTRY_PASSWORD, or log in so ~/.docker/config.json has its auths entry"
        ),
        _ => anyhow!("{r}: the registry answered {said}"),
    }
}

/// An `AsyncWrite` into memory that fails past `cap` bytes: a blob larger than its
/// manifest says (or than netkit pulls) is cut off, not buffered.
struct Capped {
    buf: Vec<u8>,
    cap: usize,
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.buf.len() + data.len() > self.cap {
            return Poll::Ready(Err(std::io::Error::other(format!(
                "the registry sent more than the {} bytes the manifest gives",
                self.cap
            ))));
        }
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A connection to one reference's registry.
pub struct Session<'a> {
    reference: &'a OciRef,
    registries: &'a Registries,
    client: Client,
    /// For the manifest, read with a size limit.
    http: reqwest::Client,
    auth: RegistryAuth,
}

impl<'a> Session<'a> {
    /// A client for `r`'s registry with its credentials.
    pub fn new(r: &'a OciRef, registries: &'a Registries) -> Result<Self> {
        Ok(Self {
            reference: r,
            registries,
            client: registries.client(r)?,
            http: registries.manifest_client(r)?,
            auth: super::auth::for_registry(&r.registry)?,
        })
    }

    /// The manifest `r` names now: its bytes, digest (computed here, and equal to
    /// the pin of a digest reference) and what it leads to. Read by netkit itself
    /// (oci-client's reader has no size limit), at most [`layout::MAX_MANIFEST`]
    /// bytes: a registry sending more is cut off, not buffered.
    pub async fn manifest(&self, max_layer: u64) -> Result<(Vec<u8>, String, WasmArtifact)> {
        let r = self.reference;
        let image = r.client_ref();
        // The token dance (a registry's WWW-Authenticate challenge) is oci-client's.
        let token = self
            .client
            .auth(&image, &self.auth, oci_client::RegistryOperation::Pull)
            .await
            .map_err(|e| explain(r, self.registries, e))?;
        let scheme = if self.registries.is_insecure(r) {
            "http"
        } else {
            "https"
        };
        let pin = match &r.pin {
            super::reference::Pin::Tag(t) => t.as_str(),
            super::reference::Pin::Digest(d) => d.as_str(),
        };
        let url = format!(
            "{scheme}://{}/v2/{}/manifests/{pin}",
            r.registry, r.repository
        );
        let mut request = self.http.get(&url).header(
            "Accept",
            [
                layout::MANIFEST_MEDIA_TYPE,
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
            ]
            .join(", "),
        );
        request = match (&token, &self.auth) {
            (Some(t), _) => request.bearer_auth(t),
            (None, RegistryAuth::Basic(u, p)) => request.basic_auth(u, Some(p)),
            (None, RegistryAuth::Bearer(t)) => request.bearer_auth(t),
            (None, RegistryAuth::Anonymous) => request,
        };
        let mut response = request
            .send()
            .await
            .map_err(|e| explain(r, self.registries, e.into()))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| explain(r, self.registries, e.into()))?
        {
            if (bytes.len() + chunk.len()) as u64 > layout::MAX_MANIFEST {
                bail!(
                    "{r}: the registry sent a manifest over the 1 MiB netkit reads: refused, nothing was run"
                );
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(status_error(r, status.as_u16(), &bytes));
        }
        let digest = sha256(&bytes);
        if let Some(pin) = r.digest()
            && pin != digest
        {
            bail!(
                "{r}: the registry sent a manifest whose digest is {digest}: refused, nothing was run"
            );
        }
        let artifact =
            layout::check_manifest(&bytes, max_layer).map_err(|e| anyhow!("{r}: {e}"))?;
        Ok((bytes, digest, artifact))
    }

    /// The blob `d` names, exactly `d.size` bytes hashing to `d.digest`.
    pub async fn blob(&self, d: &Descriptor) -> Result<Vec<u8>> {
        let r = self.reference;
        let cap = usize::try_from(d.size).unwrap_or(usize::MAX);
        let mut out = Capped {
            buf: Vec::new(),
            cap,
        };
        let result = self
            .client
            .pull_blob(&r.client_ref(), d.digest.as_str(), &mut out)
            .await;
        match result {
            Ok(()) => {}
            Err(oci_client::errors::OciDistributionError::DigestError(_)) => {}
            Err(e) => {
                let text = format!("{e}");
                if text.contains("more than the") {
                    bail!(
                        "{r}: blob {} is larger than its manifest says ({} bytes): refused, nothing was run",
                        d.digest,
                        d.size
                    );
                }
                return Err(explain(r, self.registries, e));
            }
        }
        let got = sha256(&out.buf);
        if got != d.digest {
            bail!(
                "{r}: digest mismatch: the manifest names blob {} but the registry sent bytes hashing to {got}: refused, nothing was run",
                d.digest
            );
        }
        if out.buf.len() as u64 != d.size {
            bail!(
                "{r}: blob {} is {} bytes, its manifest says {}: refused",
                d.digest,
                out.buf.len(),
                d.size
            );
        }
        Ok(out.buf)
    }

    /// Push `component` with `config` and `annotations` under `r`'s tag; the manifest's digest.
    pub async fn push(
        &self,
        component: &[u8],
        config: &WasmConfig,
        annotations: BTreeMap<String, String>,
    ) -> Result<String> {
        let r = self.reference;
        let image = r.client_ref();
        self.client
            .store_auth_if_needed(&r.registry, &self.auth)
            .await;
        let config_bytes = serde_json::to_vec(config)?;
        let config_desc = Descriptor {
            media_type: layout::CONFIG_MEDIA_TYPE.into(),
            digest: sha256(&config_bytes),
            size: config_bytes.len() as u64,
            annotations: None,
        };
        let layer_desc = Descriptor {
            media_type: layout::LAYER_MEDIA_TYPE.into(),
            digest: sha256(component),
            size: component.len() as u64,
            annotations: None,
        };
        for (bytes, d) in [(&config_bytes[..], &config_desc), (component, &layer_desc)] {
            self.client
                .push_blob(&image, bytes.to_vec(), &d.digest)
                .await
                .map_err(|e| explain(r, self.registries, e))?;
        }
        let manifest = layout::manifest_for(config_desc, layer_desc, annotations);
        let body = serde_json::to_vec(&manifest)?;
        let digest = sha256(&body);
        self.client
            .push_manifest_raw(
                &image,
                body,
                http::HeaderValue::from_static(layout::MANIFEST_MEDIA_TYPE),
            )
            .await
            .map_err(|e| explain(r, self.registries, e))?;
        Ok(digest)
    }
}
