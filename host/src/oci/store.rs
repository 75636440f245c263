//! Pulled manifests, configs and components, kept by digest in the owner-only
//! cache directory (`oci/` inside it): content-addressed, so every read is checked
//! against its name and a digest reference runs offline once pulled.

use crate::cache::CompileCache;
use anyhow::Result;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The `oci/` directory of the cache.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// `sha256:HEX` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Store {
    /// The store in `cache`'s directory (made owner-only if missing; refused, with
    /// the reason, if the directory is not this user's alone).
    pub fn open(cache: &CompileCache) -> Result<Store> {
        Ok(Store {
            dir: cache.subdir("oci")?,
        })
    }

    fn path(&self, digest: &str) -> Option<PathBuf> {
        super::reference::check_digest(digest).ok()?;
        Some(self.dir.join(digest.replace(':', "-")))
    }

    /// The bytes stored under `digest`, if they are there, at most `max` bytes, and
    /// still hash to `digest` (an entry that does not is removed).
    pub fn get(&self, digest: &str, max: u64) -> Option<Vec<u8>> {
        let path = self.path(digest)?;
        let bytes = crate::cache::read_regular(&path, max)?;
        if sha256(&bytes) == digest {
            Some(bytes)
        } else {
            let _ = std::fs::remove_file(&path);
            None
        }
    }

    /// Keep `bytes` under `digest` (which they must hash to).
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        let path = self
            .path(digest)
            .ok_or_else(|| anyhow::anyhow!("{digest:?} is not a sha256 digest"))?;
        anyhow::ensure!(sha256(bytes) == digest, "the bytes do not hash to {digest}");
        crate::cache::replace_file(&self.dir, &path, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked_against_their_names() {
        let dir = std::env::temp_dir().join(format!("netkit-oci-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&CompileCache::new(&dir)).unwrap();
        let d = sha256(b"component");
        assert!(store.get(&d, 100).is_none());
        store.put(&d, b"component").unwrap();
        assert_eq!(store.get(&d, 100).as_deref(), Some(&b"component"[..]));
        assert!(store.get(&d, 3).is_none(), "over the cap");
        assert!(store.put(&d, b"other").is_err());
        std::fs::write(dir.join("oci").join(d.replace(':', "-")), b"patched").unwrap();
        assert!(store.get(&d, 100).is_none());
        assert!(
            !dir.join("oci").join(d.replace(':', "-")).exists(),
            "removed"
        );
        assert!(store.get("sha256:../../etc", 100).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
