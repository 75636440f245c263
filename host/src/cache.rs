//! Precompiled components on disk, keyed by the component's hash and the engine's
//! configuration, so that repeated runs skip compilation.
//!
//! Entries are native code netkit will run, so the cache trusts nothing it did
//! not write itself, for the component it is asked about:
//! - the directory is created owner-only (0700), and one that is not owned by
//!   this user or that others can write is not used at all (as ssh treats `~/.ssh`);
//! - an entry is `HMAC-SHA256(key, sha256(component) || artifact) || artifact`,
//!   the key kept in the directory (`key`, 0600, made once from /dev/urandom): an
//!   entry copied from another component's name, or patched, fails the MAC and is
//!   recompiled, never run;
//! - entries are opened without following symlinks, without blocking (a FIFO),
//!   and only if they are regular files; they are written to a temporary file
//!   created exclusively under an unpredictable name, then renamed into place.
//!
//! What it cannot stop: someone who can already write as this user (they could
//! replace netkit itself).

use anyhow::{Context, Result, bail};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
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

/// Bytes of the MAC in front of every entry.
const MAC_LEN: usize = 32;

/// Compile `bytes`; an input that is not a component gets one line saying what it is.
pub fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    const MAGIC: &[u8] = b"\0asm";
    if !bytes.starts_with(MAGIC) {
        bail!("not a WebAssembly file (it does not start with \\0asm)");
    }
    // The layer field (bytes 6-7): 0 for a core module, 1 for a component.
    if bytes.get(6..8) == Some(&[0, 0]) {
        bail!(
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

/// An absolute path from an environment variable; empty or relative values are
/// ignored, as the XDG Base Directory spec says.
fn absolute_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

impl CompileCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default location: `$NETKIT_CACHE_DIR`, else `$XDG_CACHE_HOME/netkit`, else
    /// `$HOME/.cache/netkit` (each only if absolute); `None` when none can be determined.
    pub fn default_dir() -> Option<PathBuf> {
        absolute_env("NETKIT_CACHE_DIR")
            .or_else(|| absolute_env("XDG_CACHE_HOME").map(|d| d.join("netkit")))
            .or_else(|| absolute_env("HOME").map(|h| h.join(".cache").join("netkit")))
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
    /// (and stored; a failure to store, or a directory netkit will not trust, is
    /// reported on stderr, not fatal).
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<(Component, Origin)> {
        let key = match self.open_dir() {
            Ok(key) => Some(key),
            Err(e) => {
                eprintln!("netkit: not using the compile cache: {e:#}");
                None
            }
        };
        let Some(key) = key else {
            return Ok((compile(engine, bytes)?, Origin::Compiled));
        };
        let path = self.entry_path(engine, bytes);
        let digest = Sha256::digest(bytes);
        if let Some(component) = read_entry(engine, &path, &key, &digest) {
            return Ok((component, Origin::Cache));
        }
        let component = compile(engine, bytes)?;
        if let Err(e) = write_entry(&path, &component, &key, &digest) {
            eprintln!(
                "netkit: cannot store the compiled component in {}: {e:#}",
                path.display()
            );
        }
        Ok((component, Origin::Compiled))
    }

    /// Make or check the directory, and return the MAC key kept in it.
    fn open_dir(&self) -> Result<[u8; 32]> {
        let dir = &self.dir;
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let meta = std::fs::symlink_metadata(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?;
        if !meta.is_dir() {
            bail!(
                "{} is not a directory (remove it, or set NETKIT_CACHE_DIR)",
                dir.display()
            );
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            bail!(
                "{} belongs to user {}, not to you (remove it, or set NETKIT_CACHE_DIR)",
                dir.display(),
                meta.uid()
            );
        }
        if meta.permissions().mode() & 0o022 != 0 {
            bail!(
                "{} is writable by others, who could plant code there (fix: chmod 700 {})",
                dir.display(),
                dir.display()
            );
        }
        key(dir)
    }
}

/// The MAC key in `dir/key`, made once (32 bytes from /dev/urandom, 0600).
fn key(dir: &Path) -> Result<[u8; 32]> {
    let path = dir.join("key");
    if let Some(data) = read_regular(&path, 64)
        && let Ok(k) = <[u8; 32]>::try_from(data.as_slice())
    {
        return Ok(k);
    }
    let k: [u8; 32] = random()?;
    let tmp = temp_path(dir)?;
    let mut f = create_exclusive(&tmp)?;
    f.write_all(&k)?;
    drop(f);
    // If another netkit made one meanwhile, keep its key (our link fails).
    if std::fs::hard_link(&tmp, &path).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return read_regular(&path, 64)
            .and_then(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
            .context("the cache key file is not 32 bytes (remove it)");
    }
    let _ = std::fs::remove_file(&tmp);
    Ok(k)
}

/// A regular file's bytes, opened without following symlinks and without
/// blocking; `None` for anything else (missing, a link, a FIFO, a device, too big).
fn read_regular(path: &Path, max: u64) -> Option<Vec<u8>> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut data).ok()?;
    Some(data)
}

fn mac(key: &[u8; 32], digest: &[u8], artifact: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(digest);
    m.update(artifact);
    m
}

/// The artifact inside an entry's bytes, if its MAC is right for `key` and the
/// component `digest`; `None` for anything else. Pure: fuzzed.
pub fn checked_artifact<'a>(data: &'a [u8], key: &[u8; 32], digest: &[u8]) -> Option<&'a [u8]> {
    if data.len() < MAC_LEN {
        return None;
    }
    let (tag, artifact) = data.split_at(MAC_LEN);
    mac(key, digest, artifact).verify_slice(tag).ok()?;
    Some(artifact)
}

/// An entry's bytes for `artifact` (the MAC, then the artifact).
pub fn entry_bytes(artifact: &[u8], key: &[u8; 32], digest: &[u8]) -> Vec<u8> {
    let mut out = mac(key, digest, artifact).finalize().into_bytes().to_vec();
    out.extend_from_slice(artifact);
    out
}

/// A valid entry's component, or `None` for a missing, foreign, patched,
/// corrupt or incompatible one.
fn read_entry(engine: &Engine, path: &Path, key: &[u8; 32], digest: &[u8]) -> Option<Component> {
    let data = read_regular(path, 1 << 30)?;
    let artifact = checked_artifact(&data, key, digest)?;
    // SAFETY: the artifact was produced by `Component::serialize` of this netkit
    // for this very component: the MAC, keyed by a secret only this user can
    // read, covers the component's digest and every byte of the artifact; and
    // wasmtime itself rejects artifacts from another engine configuration.
    unsafe { Component::deserialize(engine, artifact) }.ok()
}

fn write_entry(path: &Path, component: &Component, key: &[u8; 32], digest: &[u8]) -> Result<()> {
    let dir = path.parent().context("cache entry has no directory")?;
    let artifact = component.serialize().map_err(anyhow::Error::from)?;
    let tmp = temp_path(dir)?;
    let mut f = create_exclusive(&tmp)?;
    f.write_all(&entry_bytes(&artifact, key, digest))?;
    drop(f);
    // Rename into place, so a concurrent reader never sees half an entry; a
    // planted symlink at `path` is replaced, never written through.
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A new file that did not exist (no symlink followed), readable by its owner only.
fn create_exclusive(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// An unpredictable temporary file name in `dir`.
fn temp_path(dir: &Path) -> Result<PathBuf> {
    let r: [u8; 12] = random()?;
    Ok(dir.join(format!(".tmp-{}", hex(&r))))
}

/// `N` bytes from /dev/urandom.
fn random<const N: usize>() -> Result<[u8; N]> {
    let mut r = [0u8; N];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut r))
        .context("cannot read /dev/urandom")?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed xorshift stream: the same inputs on every run and in CI.
    fn bytes(seed: &mut u64, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                *seed as u8
            })
            .collect()
    }

    #[test]
    fn entries_round_trip_and_random_bytes_never_pass() {
        let key = [7u8; 32];
        let digest = Sha256::digest(b"component");
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..20_000 {
            let data = bytes(&mut seed, i % 200);
            assert_eq!(checked_artifact(&data, &key, &digest), None);
            let entry = entry_bytes(&data, &key, &digest);
            assert_eq!(checked_artifact(&entry, &key, &digest), Some(&data[..]));
            let other = Sha256::digest(b"another component");
            assert_eq!(checked_artifact(&entry, &key, &other), None);
        }
    }
}
