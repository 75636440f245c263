//! Components from OCI registries (`oci://REGISTRY/REPO:TAG`, `…@sha256:…`), in
//! the CNCF wasm artifact layout: pulled with oci-client, every manifest and blob
//! checked against its digest, kept by digest in the owner-only cache; and the
//! built-in components pushed in the same layout.
//!
//! What is verified: the manifest's digest (against the pin of a digest
//! reference), the layout (media types, one layer, sizes), each blob's size and
//! digest. What is not: who published it (no signatures yet), and the config's
//! claims about imports and exports (`netkit inspect` compares them with the
//! binary).

pub mod auth;
pub mod layout;
pub mod reference;
pub mod registry;
pub mod source;
pub mod store;

pub use reference::OciRef;
pub use registry::Registries;
pub use source::Source;

use anyhow::Result;
use layout::WasmConfig;
use store::Store;

/// A component as pulled (or found in the store).
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference as given.
    pub reference: OciRef,
    /// The manifest's digest (what a tag resolved to).
    pub digest: String,
    /// The component's own digest (the layer's).
    pub layer_digest: String,
    /// The component.
    pub bytes: Vec<u8>,
    /// The config blob as published, if it is one netkit can read.
    pub config: Option<WasmConfig>,
    /// Whether it came from the store without asking the registry.
    pub offline: bool,
}

impl Pulled {
    /// `oci://REGISTRY/REPO@sha256:…`: the reference that repeats this run exactly.
    pub fn pinned(&self) -> OciRef {
        self.reference.with_digest(&self.digest)
    }
}

/// The artifact a manifest in `store` leads to, all of it there and intact.
fn from_store(store: &Store, r: &OciRef, digest: &str, max: u64) -> Option<Pulled> {
    let manifest = store.get(digest, layout::MAX_MANIFEST)?;
    let artifact = layout::check_manifest(&manifest, max).ok()?;
    let bytes = store.get(&artifact.layer.digest, artifact.layer.size)?;
    let config = store
        .get(&artifact.config.digest, layout::MAX_MANIFEST)
        .and_then(|c| serde_json::from_slice(&c).ok());
    Some(Pulled {
        reference: r.clone(),
        digest: digest.to_string(),
        layer_digest: artifact.layer.digest,
        bytes,
        config,
        offline: true,
    })
}

/// The component `r` names: from the store for a digest reference pulled before
/// (no network), else from the registry (a tag is always asked: tags move), checked
/// and then stored. `store` is `None` when there is no cache directory.
pub async fn fetch(r: &OciRef, registries: &Registries, store: Option<&Store>) -> Result<Pulled> {
    let max = registry::max_size()?;
    if let (Some(store), Some(pin)) = (store, r.digest())
        && let Some(p) = from_store(store, r, pin, max)
    {
        return Ok(p);
    }
    let timeout = registry::pull_timeout()?;
    match tokio::time::timeout(timeout, pull(r, registries, store, max)).await {
        Ok(p) => p,
        Err(_) => anyhow::bail!(
            "{r}: the registry did not finish the pull within {timeout:?} (NETKIT_OCI_TIMEOUT): nothing was run"
        ),
    }
}

/// The pull itself: manifest, layer (unless stored), config; then stored.
async fn pull(
    r: &OciRef,
    registries: &Registries,
    store: Option<&Store>,
    max: u64,
) -> Result<Pulled> {
    let session = registry::Session::new(r, registries)?;
    let (manifest, digest, artifact) = session.manifest(max).await?;
    let cached = store.and_then(|s| s.get(&artifact.layer.digest, artifact.layer.size));
    let bytes = match cached {
        Some(b) => b,
        None => session.blob(&artifact.layer).await?,
    };
    let config_bytes = session.blob(&artifact.config).await?;
    let config = serde_json::from_slice(&config_bytes).ok();
    if let Some(store) = store {
        for (d, b) in [
            (&artifact.layer.digest, &bytes[..]),
            (&artifact.config.digest, &config_bytes[..]),
            (&digest, &manifest[..]),
        ] {
            if let Err(e) = store.put(d, b) {
                eprintln!("netkit: cannot keep {d} in the cache: {e:#}");
            }
        }
    }
    Ok(Pulled {
        reference: r.clone(),
        digest,
        layer_digest: artifact.layer.digest,
        bytes,
        config,
        offline: false,
    })
}
