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
use std::time::Duration;

/// The largest component netkit pulls unless `NETKIT_OCI_MAX_SIZE` says otherwise.
pub const DEFAULT_MAX_SIZE: u64 = 64 << 20;

/// How long one pull (token, manifest and blobs together) may take unless
/// `NETKIT_OCI_TIMEOUT` says otherwise: under watch's 60 s request timeout, so a
/// `/-/reload` waiting on a pull still answers.
pub const DEFAULT_PULL_TIMEOUT: Duration = Duration::from_secs(30);

/// The time one pull may take: `NETKIT_OCI_TIMEOUT` (e.g. `2m`), else 30 s.
pub fn pull_timeout() -> Result<Duration> {
    match std::env::var("NETKIT_OCI_TIMEOUT") {
        Err(_) => Ok(DEFAULT_PULL_TIMEOUT),
        Ok(t) => cli_args::units::positive_duration(&t, "s")
            .map_err(|e| anyhow!("NETKIT_OCI_TIMEOUT={t:?}: {e} (e.g. 60s)")),
    }
}

/// How registries are reached.
#[derive(Debug, Clone, Default)]
pub struct Registries {
    /// `HOST[:PORT]` (or `HOST`, any port) spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// `HOST[:PORT]` a registry may lead netkit to over HTTPS besides its own
    /// origin (a token service, a blob store): `NETKIT_REGISTRY_ALLOW_HOSTS`.
    pub also: Vec<String>,
}

impl Registries {
    /// With plain HTTP for `insecure` (each `HOST[:PORT]`); the hosts a
    /// registry may lead to from `NETKIT_REGISTRY_ALLOW_HOSTS` (comma-separated).
    pub fn new(insecure: Vec<String>) -> Self {
        let also = std::env::var("NETKIT_REGISTRY_ALLOW_HOSTS")
            .map(|v| {
                v.split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Self { insecure, also }
    }

    /// `r`'s registry as a base URL (`https://HOST[:PORT]/`).
    fn base(&self, r: &OciRef) -> Result<url::Url> {
        let scheme = if self.is_insecure(r) { "http" } else { "https" };
        url::Url::parse(&format!("{scheme}://{}/", r.registry))
            .map_err(|e| anyhow!("registry {:?} is not a host: {e}", r.registry))
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

    /// The client for pulls (token, manifest, blobs): redirects only within
    /// the registry's own origin or to an allowed HTTPS host
    /// ([`Leads::check`]); every request within `timeout`. Over plain HTTP it
    /// needs no trust roots: it loads none (reading the system's takes a few
    /// milliseconds).
    fn pull_client(&self, r: &OciRef, timeout: Duration) -> Result<reqwest::Client> {
        install_ring();
        let leads = Leads {
            base: self.base(r)?,
            also: self.also.clone(),
        };
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("more than 5 redirects");
            }
            match leads.check(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        });
        let mut b = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .read_timeout(Duration::from_secs(30).min(timeout))
            .timeout(timeout)
            .user_agent(concat!("netkit/", env!("CARGO_PKG_VERSION")))
            .redirect(policy);
        if self.is_insecure(r) {
            b = b.tls_certs_only(Vec::new());
        }
        b.build()
            .map_err(|e| anyhow!("cannot set up the registry client: {e}"))
    }
}

/// Where a registry may lead netkit (a token realm, a redirect): its own
/// origin (scheme, host, port), or HTTPS to a host the user allowed. Never
/// from HTTPS down to HTTP, never elsewhere (issue 31: a realm of
/// `http://127.0.0.1:OTHER/` received the credentials in clear).
#[derive(Debug, Clone)]
struct Leads {
    base: url::Url,
    also: Vec<String>,
}

impl Leads {
    fn check(&self, to: &url::Url) -> Result<(), String> {
        if to.origin() == self.base.origin() {
            return Ok(());
        }
        let host = to.host_str().unwrap_or("").to_ascii_lowercase();
        let with_port = match to.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        if to.scheme() == "https" && self.also.iter().any(|a| *a == host || *a == with_port) {
            return Ok(());
        }
        Err(format!(
            "registry {} led to {}://{}{}: not followed (a registry may lead netkit only within its own origin {}; allow another HTTPS host with NETKIT_REGISTRY_ALLOW_HOSTS={with_port})",
            self.base.host_str().unwrap_or(""),
            to.scheme(),
            with_port,
            to.path(),
            self.base.origin().ascii_serialization(),
        ))
    }
}

/// The parameters of a `WWW-Authenticate` challenge: its scheme
/// (lower case) and `key="value"` pairs (keys lower case).
fn challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    (scheme.to_ascii_lowercase(), params)
}

/// How requests to the registry are authorised after the token dance.
#[derive(Debug, Clone)]
enum Access {
    Anonymous,
    Basic(String, String),
    Bearer(String),
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

/// A response's body, at most `cap` bytes (`what` names it in the error).
async fn read_capped(
    r: &OciRef,
    registries: &Registries,
    mut response: reqwest::Response,
    cap: usize,
    what: &str,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| explain(r, registries, e.into()))?
    {
        if bytes.len() + chunk.len() > cap {
            bail!("{r}: the registry's {what} answer is over the {cap} bytes netkit reads");
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
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

/// A connection to one reference's registry.
pub struct Session<'a> {
    reference: &'a OciRef,
    registries: &'a Registries,
    /// oci-client, for pushes (handed the token netkit got itself).
    client: Client,
    /// netkit's own client for pulls: sizes capped, redirects held, timeouts.
    http: reqwest::Client,
    auth: RegistryAuth,
    access: std::sync::Mutex<Option<Access>>,
}

impl<'a> Session<'a> {
    /// A client for `r`'s registry with its credentials.
    pub fn new(r: &'a OciRef, registries: &'a Registries) -> Result<Self> {
        Ok(Self {
            reference: r,
            registries,
            client: registries.client(r)?,
            http: registries.pull_client(r, pull_timeout()?)?,
            auth: super::auth::for_registry(&r.registry)?,
            access: std::sync::Mutex::new(None),
        })
    }

    /// The token dance, netkit's own (it used to be oci-client's, which sent
    /// the credentials wherever the challenge's realm pointed): `/v2/`, then
    /// for a `Bearer` challenge a token from its realm, which must be within
    /// the registry's origin or an allowed HTTPS host.
    async fn authorize(&self, scope: &str) -> Result<Access> {
        if let Some(a) = self
            .access
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(a);
        }
        let r = self.reference;
        let base = self.registries.base(r)?;
        let leads = Leads {
            base: base.clone(),
            also: self.registries.also.clone(),
        };
        let v2 = base.join("v2/").map_err(|e| anyhow!("{e}"))?;
        let response = self
            .http
            .get(v2)
            .send()
            .await
            .map_err(|e| explain(r, self.registries, e.into()))?;
        let header = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let access = match (response.status().as_u16(), header) {
            (401, Some(h)) => {
                let (scheme, params) = challenge(&h);
                let param = |k: &str| {
                    params
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                };
                match scheme.as_str() {
                    "basic" => match &self.auth {
                        RegistryAuth::Basic(u, p) => Access::Basic(u.clone(), p.clone()),
                        _ => Access::Anonymous,
                    },
                    "bearer" => {
                        let realm = param("realm").ok_or_else(|| {
                            anyhow!("{r}: the registry's Bearer challenge has no realm")
                        })?;
                        let realm_url = url::Url::parse(&realm).map_err(|e| {
                            anyhow!("{r}: the registry's token realm {realm:?} is not a URL: {e}")
                        })?;
                        leads
                            .check(&realm_url)
                            .map_err(|e| anyhow!("{r}: {e}; nothing was sent there"))?;
                        let mut query = vec![(
                            "scope".to_string(),
                            format!("repository:{}:{scope}", r.repository),
                        )];
                        if let Some(service) = param("service") {
                            query.push(("service".into(), service));
                        }
                        let mut request = self.http.get(realm_url).query(&query);
                        if let RegistryAuth::Basic(u, p) = &self.auth {
                            request = request.basic_auth(u, Some(p));
                        }
                        let response = request
                            .send()
                            .await
                            .map_err(|e| explain(r, self.registries, e.into()))?;
                        let status = response.status();
                        let body =
                            read_capped(r, self.registries, response, 64 << 10, "token").await?;
                        if !status.is_success() {
                            return Err(status_error(r, status.as_u16(), &body));
                        }
                        #[derive(serde::Deserialize)]
                        struct Token {
                            token: Option<String>,
                            access_token: Option<String>,
                        }
                        let t: Token = serde_json::from_slice(&body).map_err(|e| {
                            anyhow!("{r}: the token service answered no token: {e}")
                        })?;
                        match t.token.or(t.access_token) {
                            Some(t) => Access::Bearer(t),
                            None => bail!("{r}: the token service answered no token"),
                        }
                    }
                    other => bail!(
                        "{r}: the registry asks for {other:?} authentication, which netkit does not speak"
                    ),
                }
            }
            (401, None) => bail!("{r}: the registry answered 401 without a challenge"),
            _ => match &self.auth {
                // A registry that needs no token takes the credentials as they are.
                RegistryAuth::Basic(u, p) => Access::Basic(u.clone(), p.clone()),
                RegistryAuth::Bearer(t) => Access::Bearer(t.clone()),
                RegistryAuth::Anonymous => Access::Anonymous,
            },
        };
        *self.access.lock().unwrap_or_else(|p| p.into_inner()) = Some(access.clone());
        Ok(access)
    }

    /// A GET of `path` under the registry, authorised.
    async fn get(&self, path: &str, accept: Option<String>) -> Result<reqwest::Response> {
        let r = self.reference;
        let access = self.authorize("pull").await?;
        let url = self
            .registries
            .base(r)?
            .join(path)
            .map_err(|e| anyhow!("{r}: {e}"))?;
        let mut request = self.http.get(url);
        if let Some(a) = accept {
            request = request.header("Accept", a);
        }
        request = match access {
            Access::Bearer(t) => request.bearer_auth(t),
            Access::Basic(u, p) => request.basic_auth(u, Some(p)),
            Access::Anonymous => request,
        };
        request
            .send()
            .await
            .map_err(|e| explain(r, self.registries, e.into()))
    }

    /// The manifest `r` names now: its bytes, digest (computed here, and equal to
    /// the pin of a digest reference) and what it leads to. Read by netkit itself
    /// (oci-client's reader has no size limit), at most [`layout::MAX_MANIFEST`]
    /// bytes: a registry sending more is cut off, not buffered.
    pub async fn manifest(&self, max_layer: u64) -> Result<(Vec<u8>, String, WasmArtifact)> {
        let r = self.reference;
        let pin = match &r.pin {
            super::reference::Pin::Tag(t) => t.as_str(),
            super::reference::Pin::Digest(d) => d.as_str(),
        };
        let accept = [
            layout::MANIFEST_MEDIA_TYPE,
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ]
        .join(", ");
        let mut response = self
            .get(
                &format!("v2/{}/manifests/{pin}", r.repository),
                Some(accept),
            )
            .await?;
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

    /// The blob `d` names, exactly `d.size` bytes hashing to `d.digest`: read
    /// by netkit (a redirect to a blob store only where [`Leads`] allows), cut
    /// off past its stated size.
    pub async fn blob(&self, d: &Descriptor) -> Result<Vec<u8>> {
        let r = self.reference;
        let mut response = self
            .get(&format!("v2/{}/blobs/{}", r.repository, d.digest), None)
            .await?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(r, self.registries, response, 64 << 10, "error")
                .await
                .unwrap_or_default();
            return Err(status_error(r, status.as_u16(), &body));
        }
        let cap = usize::try_from(d.size).unwrap_or(usize::MAX);
        let mut buf = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| explain(r, self.registries, e.into()))?
        {
            if buf.len() + chunk.len() > cap {
                bail!(
                    "{r}: blob {} is larger than its manifest says ({} bytes): refused, nothing was run",
                    d.digest,
                    d.size
                );
            }
            buf.extend_from_slice(&chunk);
        }
        let got = sha256(&buf);
        if got != d.digest {
            bail!(
                "{r}: digest mismatch: the manifest names blob {} but the registry sent bytes hashing to {got}: refused, nothing was run",
                d.digest
            );
        }
        if buf.len() as u64 != d.size {
            bail!(
                "{r}: blob {} is {} bytes, its manifest says {}: refused",
                d.digest,
                buf.len(),
                d.size
            );
        }
        Ok(buf)
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
        // The token dance is netkit's (realm held to the registry's origin);
        // oci-client is handed its result and does no dance of its own.
        let auth = match self.authorize("pull,push").await? {
            Access::Bearer(t) => RegistryAuth::Bearer(t),
            Access::Basic(u, p) => RegistryAuth::Basic(u, p),
            Access::Anonymous => RegistryAuth::Anonymous,
        };
        self.client.store_auth_if_needed(&r.registry, &auth).await;
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
