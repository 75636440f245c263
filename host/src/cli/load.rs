//! The component a command runs: the embedded one, or a file given with `--component`.

use anyhow::{Context, Result};
use netkit::components::Builtin;
use netkit::runtime::Host;
use std::path::Path;
use wasmtime::component::Component;

/// Compile (or load from the cache) `builtin`, or the file at `path` instead.
pub fn component(host: &Host, builtin: Builtin, path: Option<&Path>) -> Result<Component> {
    match path {
        None => host.builtin(builtin),
        Some(p) => file(host, p),
    }
}

/// Compile (or load from the cache) the component file at `path`.
pub fn file(host: &Host, path: &Path) -> Result<Component> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "cannot read component {} (get the built-in ones with `netkit components --out DIR`)",
            path.display()
        )
    })?;
    host.compile(&bytes)
        .with_context(|| format!("cannot load {}", path.display()))
}
