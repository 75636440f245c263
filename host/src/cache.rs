//! Precompiled components on disk, keyed by the component's hash and the engine's
//! configuration, so that repeated runs skip compilation.
//!
//! An entry is `sha256(artifact) || artifact`. It is checked before use: a corrupt,
//! truncated or stale entry is recompiled and rewritten, never trusted, never fatal.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Loaded from a valid cache entry.
    Cache,
    /// Compiled now (no entry, or the entry was unusable and has been replaced).
    Compiled,
}

/// A directory of precompiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CompileCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default location: `$NETKIT_CACHE_DIR`, else `$XDG_CACHE_HOME/netkit`, else
    /// `~/.cache/netkit`; `None` when none can be determined.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("NETKIT_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(PathBuf::from(d).join("netkit"));
        }
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("netkit"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry file for `bytes` compiled by `engine`.
    pub fn entry_path(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let key = format!("{}-{:016x}.cwasm", hex(&Sha256::digest(bytes)), h.finish());
        self.dir.join(key)
    }

    /// The component for `bytes`: from the cache if a valid entry exists, else compiled
    /// (and stored; a failure to store is reported on stderr, not fatal).
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<(Component, Origin)> {
        let path = self.entry_path(engine, bytes);
        if let Some(component) = read_entry(engine, &path) {
            return Ok((component, Origin::Cache));
        }
        let component = compile(engine, bytes)?;
        if let Err(e) = write_entry(&path, &component) {
            eprintln!(
                "netkit: cannot store the compiled component in {}: {e:#}",
                path.display()
            );
        }
        Ok((component, Origin::Compiled))
    }
}

/// Compile `bytes`; an input that is not a component gets one line saying what it is.
pub fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    const MAGIC: &[u8] = b"\0asm";
    if !bytes.starts_with(MAGIC) {
        anyhow::bail!("not a WebAssembly file (it does not start with \\0asm)");
    }
    // The layer field (bytes 6-7): 0 for a core module, 1 for a component.
    if bytes.get(6..8) == Some(&[0, 0]) {
        anyhow::bail!(
            "a core WebAssembly module, not a component (build it for wasm32-wasip2, \
             or wrap it with `wasm-tools component new`)"
        );
    }
    Component::new(engine, bytes).map_err(|e| {
        // wasmtime's messages can carry multi-line dumps: keep the first line.
        let text = format!("{e:#}");
        let first = text
            .lines()
            .next()
            .unwrap_or("invalid")
            .trim_end_matches([' ', '=', '[']);
        anyhow::anyhow!("not a valid WebAssembly component: {first}")
    })
}

/// A valid entry's component, or `None` for a missing, corrupt or incompatible one.
fn read_entry(engine: &Engine, path: &Path) -> Option<Component> {
    let data = std::fs::read(path).ok()?;
    if data.len() < 32 {
        return None;
    }
    let (sum, artifact) = data.split_at(32);
    if Sha256::digest(artifact).as_slice() != sum {
        return None;
    }
    // SAFETY: the artifact was produced by `Component::serialize` of this netkit
    // (the checksum rules out corruption and tampering with the file after it was
    // written), and wasmtime itself rejects artifacts from another engine
    // configuration or version.
    unsafe { Component::deserialize(engine, artifact) }.ok()
}

fn write_entry(path: &Path, component: &Component) -> Result<()> {
    let dir = path.parent().context("cache entry has no directory")?;
    std::fs::create_dir_all(dir)?;
    let artifact = component.serialize().map_err(anyhow::Error::from)?;
    let mut data = Sha256::digest(&artifact).to_vec();
    data.extend_from_slice(&artifact);
    // Write then rename, so a concurrent reader never sees half an entry.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &data)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
