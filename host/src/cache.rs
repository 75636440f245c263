//! Precompiled components on disk, keyed by the component's hash and the engine's
//! configuration, so that repeated runs skip compilation.
//!
//! Entries are native code netkit will run, so the cache trusts nothing it did
//! not write itself, for the component it is asked about:
//! - the directory is created owner-only (0700), and one that is not owned by
//!   this user or that others can write is not used at all (as ssh treats `~/.ssh`);
//! - an entry is wasmtime's artifact as it serialised it (`NAME.cwasm`) and a MAC
//!   beside it (`NAME.cwasm.mac`): BLAKE3 keyed with the secret in the directory
//!   (`key`, 0600, made once from /dev/urandom) over `sha256(component) ||
//!   artifact`. An entry copied from another component's name, or patched, fails
//!   the MAC and is recompiled, never run;
//! - entries are opened without following symlinks, without blocking (a FIFO),
//!   and only if they are regular files; the MAC is checked on the mapped file,
//!   which wasmtime then maps itself (no copy, pages loaded as the code runs) and
//!   netkit checks that the name still leads to the file it checked; entries are
//!   written to temporary files created exclusively under unpredictable names,
//!   then renamed into place, so a file in use is never changed;
//! - the directory stays bounded: after each new entry, the least recently used
//!   entries are removed until the total is under the size cap (512 MiB, or
//!   `NETKIT_CACHE_MAX_SIZE`), as wasmtime's own cache cleans up after itself.
//!
//! What it cannot stop: someone who can already write as this user (they could
//! replace netkit itself).

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
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

/// The SHA-256 digest naming a component in the cache.
pub type ComponentDigest = [u8; 32];

/// The digest of a component's bytes.
pub fn digest(bytes: &[u8]) -> ComponentDigest {
    Sha256::digest(bytes).into()
}

/// The default size cap of the cache directory.
pub const DEFAULT_MAX_SIZE: u64 = 512 << 20;

/// A directory of precompiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    max_size: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of an entry's MAC.
pub const MAC_LEN: usize = 32;

/// The largest artifact netkit maps.
const MAX_ARTIFACT: u64 = 1 << 30;

/// Compile `bytes`; an input that is not a component gets one line saying what it is.
pub fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    load_artifact(engine, &precompile(engine, bytes)?)
}

/// Compile `bytes` for `engine` to wasmtime's artifact (what the cache stores).
fn precompile(engine: &Engine, bytes: &[u8]) -> Result<Vec<u8>> {
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
    // `engine` may have no compiler (netkit's have none: setting cranelift up
    // cost every run ~0.1 ms, and most runs only load from the cache). Compile
    // with one made from the same configuration (where instances are allocated
    // is not part of what an artifact must match), then load the artifact into
    // `engine`.
    let mut config = engine.config().clone();
    config
        .enable_compiler(true)
        .allocation_strategy(wasmtime::InstanceAllocationStrategy::OnDemand);
    let compiler = Engine::new(&config)?;
    compiler.precompile_component(bytes).map_err(|e| {
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

/// The component in `artifact`, which [`precompile`] made for `engine`.
fn load_artifact(engine: &Engine, artifact: &[u8]) -> Result<Component> {
    // SAFETY: the artifact was produced by `precompile`, by wasmtime, for this
    // very configuration, in this process.
    unsafe { Component::deserialize(engine, artifact) }.map_err(anyhow::Error::from)
}

/// An absolute path from an environment variable; empty or relative values are
/// ignored, as the XDG Base Directory spec says.
fn absolute_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

impl CompileCache {
    /// A cache in `dir` (created on first write), capped at [`DEFAULT_MAX_SIZE`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The same cache with another size cap (bytes of entries kept).
    pub fn with_max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// The cache the environment asks for: [`CompileCache::default_dir`], capped
    /// at `NETKIT_CACHE_MAX_SIZE` (e.g. `256MiB`; a bad value is reported and the
    /// default kept); `None` when no directory can be determined.
    pub fn from_env() -> Option<Self> {
        let cache = Self::new(Self::default_dir()?);
        Some(match std::env::var("NETKIT_CACHE_MAX_SIZE") {
            Err(_) => cache,
            Ok(text) => match cli_args::units::bytes(&text) {
                Ok(n) => cache.with_max_size(n),
                Err(e) => {
                    eprintln!(
                        "netkit: ignoring NETKIT_CACHE_MAX_SIZE={text:?}: {e} (e.g. 256MiB); \
                         the cache keeps up to {} MiB",
                        DEFAULT_MAX_SIZE >> 20
                    );
                    cache
                }
            },
        })
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

    /// The size cap.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// The entry file for `bytes` compiled by `engine` (its MAC is beside it,
    /// with `.mac` appended).
    pub fn entry_path(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        self.path_for(engine, &digest(bytes))
    }

    fn path_for(&self, engine: &Engine, digest: &ComponentDigest) -> PathBuf {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        self.dir
            .join(format!("{}-{:016x}.cwasm", hex(digest), h.finish()))
    }

    /// The component for `bytes`: from the cache if a valid entry exists, else compiled
    /// (and stored; a failure to store, or a directory netkit will not trust, is
    /// reported on stderr, not fatal).
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<(Component, Origin)> {
        self.load_digested(engine, bytes, &digest(bytes))
    }

    /// Like [`CompileCache::load`] for a component whose digest is already known
    /// (the built-in ones: computed when netkit was built). `digest` must be
    /// [`digest`]`(bytes)`.
    pub fn load_digested(
        &self,
        engine: &Engine,
        bytes: &[u8],
        digest: &ComponentDigest,
    ) -> Result<(Component, Origin)> {
        let key = match self.open_dir() {
            Ok(key) => key,
            Err(e) => {
                eprintln!("netkit: not using the compile cache: {e:#}");
                return Ok((compile(engine, bytes)?, Origin::Compiled));
            }
        };
        let path = self.path_for(engine, digest);
        if let Some(component) = read_entry(engine, &path, &key, digest) {
            return Ok((component, Origin::Cache));
        }
        // The artifact is written as compiled (not serialised again from the component).
        let artifact = precompile(engine, bytes)?;
        match write_entry(&path, &artifact, &key, digest) {
            Ok(()) => prune(&self.dir, self.max_size, &path),
            Err(e) => eprintln!(
                "netkit: cannot store the compiled component in {}: {e:#}",
                path.display()
            ),
        }
        Ok((load_artifact(engine, &artifact)?, Origin::Compiled))
    }

    /// `name` inside the cache directory, made owner-only if missing, after the
    /// same checks the compile cache makes of its own directory (owned by this
    /// user, writable by nobody else): where pulled components are kept.
    pub fn subdir(&self, name: &str) -> Result<PathBuf> {
        self.open_dir()?;
        let sub = self.dir.join(name);
        if !sub.exists() {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&sub)
                .with_context(|| format!("cannot create {}", sub.display()))?;
        }
        check_owned_dir(&sub)?;
        Ok(sub)
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
        check_owned_dir(dir)?;
        key(dir)
    }
}

/// `dir` is a directory (not a link) owned by this user and writable by no one else.
fn check_owned_dir(dir: &Path) -> Result<()> {
    let meta =
        std::fs::symlink_metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
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
    Ok(())
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

/// A regular file opened without following symlinks and without blocking, with
/// its metadata; `None` for anything else (missing, a link, a FIFO, a device, too big).
fn open_regular(path: &Path, max: u64) -> Option<(File, std::fs::Metadata)> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    Some((f, meta))
}

/// A regular file's bytes (see [`open_regular`]).
pub(crate) fn read_regular(path: &Path, max: u64) -> Option<Vec<u8>> {
    let (mut f, meta) = open_regular(path, max)?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut data).ok()?;
    Some(data)
}

/// The MAC of an entry: keyed BLAKE3 over the component's digest and the artifact.
/// Pure: fuzzed.
pub fn entry_mac(key: &[u8; 32], digest: &[u8], artifact: &[u8]) -> [u8; MAC_LEN] {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(digest);
    h.update(artifact);
    h.finalize().into()
}

/// Whether `mac` is the right MAC of `artifact` for `key` and `digest` (compared
/// in constant time). Pure: fuzzed.
pub fn mac_matches(mac: &[u8], key: &[u8; 32], digest: &[u8], artifact: &[u8]) -> bool {
    let Ok(mac) = <[u8; MAC_LEN]>::try_from(mac) else {
        return false;
    };
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(digest);
    h.update(artifact);
    // blake3::Hash's equality is constant-time.
    h.finalize() == blake3::Hash::from(mac)
}

/// The MAC file beside an entry.
fn mac_path(entry: &Path) -> PathBuf {
    let mut name = entry.as_os_str().to_owned();
    name.push(".mac");
    PathBuf::from(name)
}

/// What netkit knows of an entry file that only a change to it would alter:
/// device, inode, size and change time (which the kernel sets on every write
/// and no one can set back).
fn file_identity(meta: &std::fs::Metadata) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[0..8].copy_from_slice(&meta.dev().to_le_bytes());
    id[8..16].copy_from_slice(&meta.ino().to_le_bytes());
    id[16..24].copy_from_slice(&meta.size().to_le_bytes());
    id[24..32]
        .copy_from_slice(&(meta.ctime() as u64 ^ ((meta.ctime_nsec() as u64) << 34)).to_le_bytes());
    id
}

/// The seal of an entry already checked: a MAC of its content MAC and its file
/// identity. While the file is unchanged, the seal spares netkit from reading
/// every page of the artifact again (only the pages the code touches are loaded).
fn seal(key: &[u8; 32], content_mac: &[u8], identity: &[u8; 32]) -> [u8; MAC_LEN] {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(b"netkit cache seal v1");
    h.update(content_mac);
    h.update(identity);
    h.finalize().into()
}

/// How long after its last change an entry must be before it is sealed: file
/// times have coarse ticks, and a write within the same tick as the check would
/// keep the change time the seal records (git's "racy clean" problem).
const SEAL_AFTER: Duration = Duration::from_secs(2);

/// A valid entry's component, or `None` for a missing, foreign, patched,
/// corrupt or incompatible one.
fn read_entry(engine: &Engine, path: &Path, key: &[u8; 32], digest: &[u8]) -> Option<Component> {
    let (mut mac_file, mac_meta) = open_regular(&mac_path(path), 2 * MAC_LEN as u64)?;
    let mut macs = Vec::with_capacity(2 * MAC_LEN);
    mac_file.read_to_end(&mut macs).ok()?;
    if macs.len() < MAC_LEN {
        return None;
    }
    let (content_mac, sealed) = macs.split_at(MAC_LEN);
    let (file, meta) = open_regular(path, MAX_ARTIFACT)?;
    if meta.len() == 0 {
        return None;
    }
    let identity = file_identity(&meta);
    let unchanged = sealed.len() == MAC_LEN
        && blake3::Hash::from(seal(key, content_mac, &identity))
            == blake3::Hash::from(<[u8; MAC_LEN]>::try_from(sealed).ok()?);
    if !unchanged {
        // SAFETY: a private read-only mapping of a regular file in a directory
        // only this user can write; netkit never changes an entry in place (new
        // ones are renamed over old ones), so the bytes stay what is checked here.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        if !mac_matches(content_mac, key, digest, &map) {
            return None;
        }
    }
    // SAFETY: the artifact was produced by `Component::serialize` of this netkit
    // for this very component: the MAC, keyed by a secret only this user can
    // read, covers the component's digest and every byte of the artifact, and the
    // seal says the file has not changed since; wasmtime itself rejects
    // artifacts from another engine configuration.
    let component = unsafe { Component::deserialize_file(engine, path) }.ok()?;
    // wasmtime opened the name again: it must still be the file checked above.
    let now = std::fs::symlink_metadata(path).ok()?;
    if file_identity(&now) != identity {
        return None;
    }
    let age = |m: &std::fs::Metadata| m.modified().ok().and_then(|t| t.elapsed().ok());
    let changed_secs_ago = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |now| now.as_secs() as i64 - meta.ctime());
    if !unchanged && changed_secs_ago > SEAL_AFTER.as_secs() as i64 {
        let mut sidecar = content_mac.to_vec();
        sidecar.extend_from_slice(&seal(key, content_mac, &identity));
        let _ = replace_file(path.parent()?, &mac_path(path), &sidecar);
    } else if age(&mac_meta).is_some_and(|a| a > Duration::from_secs(3600)) {
        // The MAC file's time is the entry's last use (touching the entry itself
        // would change its identity): recently used entries are pruned last.
        let _ = mac_file.set_modified(SystemTime::now());
    }
    Some(component)
}

/// Write `bytes` to `path` through a new temporary file in `dir` and a rename.
pub(crate) fn replace_file(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(dir)?;
    let mut f = create_exclusive(&tmp)?;
    f.write_all(bytes)?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(())
}

fn write_entry(path: &Path, artifact: &[u8], key: &[u8; 32], digest: &[u8]) -> Result<()> {
    let dir = path.parent().context("cache entry has no directory")?;
    let tmp = temp_path(dir)?;
    let mut f = create_exclusive(&tmp)?;
    f.write_all(artifact)?;
    drop(f);
    let tmp_mac = temp_path(dir)?;
    let mut f = create_exclusive(&tmp_mac)?;
    f.write_all(&entry_mac(key, digest, artifact))?;
    drop(f);
    // Rename into place, so a concurrent reader never sees half an entry (at
    // worst a new artifact with the old MAC, which fails the check and is
    // recompiled); a planted symlink is replaced, never written through.
    let placed =
        std::fs::rename(&tmp, path).and_then(|()| std::fs::rename(&tmp_mac, mac_path(path)));
    if placed.is_err() {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&tmp_mac);
    }
    placed?;
    Ok(())
}

/// Remove the least recently used entries (by their MAC file's time, which a
/// load refreshes) until those left fit in `max_size` (never `keep`, the entry
/// just written), and temporary files an interrupted netkit left behind over an
/// hour ago. Best effort: errors are ignored.
pub fn prune(dir: &Path, max_size: u64, keep: &Path) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries = Vec::new();
    let mut total = 0u64;
    for e in list.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        let age = meta.modified().ok().and_then(|m| m.elapsed().ok());
        if name.starts_with(".tmp-") {
            if age.is_some_and(|a| a > Duration::from_secs(3600)) {
                let _ = std::fs::remove_file(&path);
            }
        } else if name.ends_with(".cwasm") && meta.is_file() {
            let size = meta.len() + 2 * MAC_LEN as u64;
            total += size;
            let used = std::fs::metadata(mac_path(&path))
                .and_then(|m| m.modified())
                .or_else(|_| meta.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            entries.push((used, size, path));
        }
    }
    entries.sort();
    for (_, size, path) in entries {
        if total <= max_size {
            break;
        }
        if path == keep {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            let _ = std::fs::remove_file(mac_path(&path));
            total -= size;
        }
    }
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
        let digest = digest(b"component");
        let other = super::digest(b"another component");
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..20_000 {
            let data = bytes(&mut seed, i % 200);
            let forged = bytes(&mut seed, i % 40);
            assert!(!mac_matches(&forged, &key, &digest, &data));
            let mac = entry_mac(&key, &digest, &data);
            assert!(mac_matches(&mac, &key, &digest, &data));
            assert!(!mac_matches(&mac, &key, &other, &data));
            assert!(!mac_matches(&mac, &[8u8; 32], &digest, &data));
            if !data.is_empty() {
                let mut patched = data.clone();
                patched[i % data.len()] ^= 1;
                assert!(!mac_matches(&mac, &key, &digest, &patched));
            }
        }
    }
}
