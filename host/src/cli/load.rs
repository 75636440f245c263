//! The component a command runs: the embedded one, a file given with
//! `--component`, or one pulled from a registry (`oci://…`).

use super::args::{ComponentFlag, RegistryFlags};
use anyhow::{Context, Result};
use netkit::cache::CompileCache;
use netkit::components::Builtin;
use netkit::oci::{self, Pulled, Source, store::Store};
use netkit::runtime::Host;
use serde_json::{Value, json};
use std::path::Path;
use wasmtime::component::Component;

/// Where a component run from a registry came from: shown on stderr, in the
/// audit's title and in JSON, so the run can be repeated exactly.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// The reference as given.
    pub reference: String,
    /// The pinned reference (`oci://…@sha256:…`).
    pub pinned: String,
    /// The manifest's digest.
    pub digest: String,
    /// The component's own digest.
    pub component_digest: String,
    /// Whether the cache answered without the registry.
    pub offline: bool,
}

impl Provenance {
    pub fn of(p: &Pulled) -> Self {
        Self {
            reference: p.reference.to_string(),
            pinned: p.pinned().to_string(),
            digest: p.digest.clone(),
            component_digest: p.layer_digest.clone(),
            offline: p.offline,
        }
    }

    /// The `component` object of the JSON output.
    pub fn json(&self) -> Value {
        json!({
            "reference": self.reference,
            "digest": self.digest,
            "pinned": self.pinned,
            "component_digest": self.component_digest,
            "from_cache": self.offline,
        })
    }

    /// The line on stderr.
    pub fn line(&self) -> String {
        let how = if self.offline {
            "from the cache"
        } else {
            "pulled"
        };
        if self.reference == self.pinned {
            format!("component {} ({how})", self.pinned)
        } else {
            format!("component {} is {} ({how})", self.reference, self.pinned)
        }
    }
}

/// A loaded component and, if it came from a registry, from where.
pub struct Loaded {
    /// The compiled component.
    pub component: Component,
    /// Its registry provenance.
    pub provenance: Option<Provenance>,
}

/// Compile (or load from the cache) `builtin`, or the component `--component` names.
pub async fn component(host: &Host, builtin: Builtin, flag: &ComponentFlag) -> Result<Loaded> {
    match &flag.component {
        None => Ok(Loaded {
            component: host.builtin(builtin)?,
            provenance: None,
        }),
        Some(s) => source(host, s, &flag.registries).await,
    }
}

/// The component `source` names, pulled if it is in a registry.
pub async fn source(host: &Host, source: &Source, registries: &RegistryFlags) -> Result<Loaded> {
    match source {
        Source::File(p) => Ok(Loaded {
            component: file(host, p)?,
            provenance: None,
        }),
        Source::Oci(r) => {
            let pulled = pull(r, registries, host.cache()).await?;
            let component = host
                .compile(&pulled.bytes)
                .with_context(|| format!("cannot load {}", pulled.pinned()))?;
            Ok(Loaded {
                component,
                provenance: Some(Provenance::of(&pulled)),
            })
        }
    }
}

/// Pull `r` (or take it from the cache, for a digest pulled before).
pub async fn pull(
    r: &oci::OciRef,
    registries: &RegistryFlags,
    cache: Option<&CompileCache>,
) -> Result<Pulled> {
    let store = match cache.map(Store::open) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("netkit: not keeping pulled components: {e:#}");
            None
        }
        None => None,
    };
    oci::fetch(r, &registries.registries(), store.as_ref()).await
}

/// Compile (or load from the cache) the component file at `path`.
pub fn file(host: &Host, path: &Path) -> Result<Component> {
    let bytes = cli_args::files::read(path, cli_args::files::Kind::Component).map_err(|e| {
        anyhow::anyhow!("{e} (get the built-in ones with `netkit components --out DIR`)")
    })?;
    host.compile(&bytes)
        .with_context(|| format!("cannot load {}", path.display()))
}
