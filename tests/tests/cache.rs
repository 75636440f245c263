//! The compile cache: a second load is a cache hit; corrupt or truncated entries are
//! recompiled and replaced, never trusted, never fatal.

use netkit::cache::{CompileCache, Origin};
use netkit::components::Builtin;
use netkit::runtime::Host;

/// The MAC file beside an entry.
fn mac(entry: &std::path::Path) -> std::path::PathBuf {
    let mut name = entry.as_os_str().to_owned();
    name.push(".mac");
    name.into()
}

fn fresh_cache(name: &str) -> CompileCache {
    let dir = std::env::temp_dir().join(format!("netkit-cache-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    CompileCache::new(dir)
}

#[test]
fn second_load_hits_the_cache() {
    let cache = fresh_cache("hit");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoClient.bytes();
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Cache);
    assert!(cache.entry_path(rt.engine(), bytes).exists());
}

#[test]
fn corrupt_entry_is_recompiled_and_replaced() {
    let cache = fresh_cache("corrupt");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::SntpClient.bytes();
    rt.load(bytes).unwrap();
    let path = cache.entry_path(rt.engine(), bytes);
    let mut data = std::fs::read(&path).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0xff;
    std::fs::write(&path, &data).unwrap();
    assert_eq!(
        rt.load(bytes).unwrap().1,
        Origin::Compiled,
        "a corrupt entry was trusted"
    );
    assert_eq!(
        rt.load(bytes).unwrap().1,
        Origin::Cache,
        "the entry was not replaced"
    );
}

#[test]
fn truncated_or_garbage_entry_is_recompiled() {
    let cache = fresh_cache("garbage");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoServer.bytes();
    let path = cache.entry_path(rt.engine(), bytes);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    for junk in [&b""[..], &b"short"[..], &[0u8; 4096][..]] {
        std::fs::write(&path, junk).unwrap();
        assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
    }
}

#[test]
fn unwritable_cache_is_not_fatal() {
    let rt = Host::with_cache(Some(CompileCache::new("/proc/netkit-cannot-write-here"))).unwrap();
    let (_, origin) = rt.load(Builtin::EchoClient.bytes()).unwrap();
    assert_eq!(origin, Origin::Compiled);
}

#[test]
fn an_entry_copied_from_another_component_is_not_run() {
    let cache = fresh_cache("swap");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let (a, b) = (Builtin::EchoClient.bytes(), Builtin::SntpClient.bytes());
    rt.load(a).unwrap();
    rt.load(b).unwrap();
    let (from, to) = (
        cache.entry_path(rt.engine(), b),
        cache.entry_path(rt.engine(), a),
    );
    std::fs::copy(&from, &to).unwrap();
    std::fs::copy(mac(&from), mac(&to)).unwrap();
    assert_eq!(rt.load(a).unwrap().1, Origin::Compiled, "B's code ran as A");
}

#[test]
fn a_patched_entry_with_a_recomputed_checksum_is_not_run() {
    let cache = fresh_cache("patch");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoServer.bytes();
    rt.load(bytes).unwrap();
    let path = cache.entry_path(rt.engine(), bytes);
    let mut artifact = std::fs::read(&path).unwrap();
    let middle = artifact.len() / 2;
    artifact[middle] ^= 0x01;
    std::fs::write(&path, &artifact).unwrap();
    // What a forger without the key can compute: an unkeyed hash, or a MAC
    // under a key of their own.
    for forged in [
        blake3::hash(&artifact),
        blake3::keyed_hash(&[0u8; 32], &artifact),
    ] {
        std::fs::write(mac(&path), forged.as_bytes()).unwrap();
        assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
        std::fs::write(&path, &artifact).unwrap();
    }
}

/// Make an entry look written `secs` seconds ago (mtime and, through a
/// rewrite under the same identity rules, nothing else).
fn age_entry(path: &std::path::Path, secs: u64) {
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    let f = std::fs::File::options().append(true).open(path).unwrap();
    f.set_modified(then).unwrap();
}

#[test]
fn a_sealed_entry_that_changes_in_place_is_not_run() {
    let cache = fresh_cache("seal");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::SntpClient.bytes();
    rt.load(bytes).unwrap();
    let path = cache.entry_path(rt.engine(), bytes);
    assert_eq!(
        std::fs::read(mac(&path)).unwrap().len(),
        32,
        "sealed at once"
    );
    // Entries are sealed once their change time is over 2 s old.
    std::thread::sleep(std::time::Duration::from_millis(3100));
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Cache);
    assert_eq!(std::fs::read(mac(&path)).unwrap().len(), 64, "not sealed");
    assert_eq!(
        rt.load(bytes).unwrap().1,
        Origin::Cache,
        "the seal was not trusted"
    );
    // Patch one byte in place, same size, same inode: the seal no longer holds
    // (the kernel moved the change time) and the full check fails.
    use std::io::{Seek, SeekFrom, Write};
    let data = std::fs::read(&path).unwrap();
    let at = data.len() / 2;
    let mut f = std::fs::File::options().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(at as u64)).unwrap();
    f.write_all(&[data[at] ^ 0x5a]).unwrap();
    drop(f);
    assert_eq!(
        rt.load(bytes).unwrap().1,
        Origin::Compiled,
        "a changed sealed entry was run"
    );
}

#[test]
fn the_cache_stays_under_its_size_cap_dropping_the_least_recently_used() {
    let [a, b, c, d, ..] = Builtin::ALL.map(|x| x.bytes());
    // Learn the entries' sizes.
    let probe = fresh_cache("cap-probe");
    let rt = Host::with_cache(Some(probe.clone())).unwrap();
    let size = |bytes: &[u8]| {
        let p = probe.entry_path(rt.engine(), bytes);
        std::fs::metadata(&p).unwrap().len() + std::fs::metadata(mac(&p)).unwrap().len().max(64)
    };
    for x in [a, b, c, d] {
        rt.load(x).unwrap();
    }
    let cap = size(a) + size(b) + size(c);
    let cache = fresh_cache("cap").with_max_size(cap);
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    for x in [a, b, c] {
        assert_eq!(rt.load(x).unwrap().1, Origin::Compiled);
    }
    // Last used: A three hours ago, B two, C one; then A is used again.
    for (x, hours) in [(a, 3), (b, 2), (c, 1)] {
        age_entry(&mac(&cache.entry_path(rt.engine(), x)), hours * 3600);
    }
    assert_eq!(rt.load(a).unwrap().1, Origin::Cache);
    // D does not fit beside the three: B, the least recently used, goes first.
    assert_eq!(rt.load(d).unwrap().1, Origin::Compiled);
    let kept = |x: &[u8]| cache.entry_path(rt.engine(), x).exists();
    assert!(!kept(b), "the least recently used entry was kept");
    assert!(!mac(&cache.entry_path(rt.engine(), b)).exists());
    assert!(kept(a), "a recently used entry was dropped");
    assert!(kept(d), "the new entry was dropped");
    let total: u64 = std::fs::read_dir(cache.dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".cwasm"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(total <= cap, "{total} bytes kept, cap {cap}");
    // A cap below one entry keeps just the newest.
    let tiny = fresh_cache("cap-tiny").with_max_size(1);
    let rt = Host::with_cache(Some(tiny.clone())).unwrap();
    rt.load(a).unwrap();
    rt.load(b).unwrap();
    assert!(!tiny.entry_path(rt.engine(), a).exists());
    assert!(tiny.entry_path(rt.engine(), b).exists());
    assert_eq!(rt.load(a).unwrap().1, Origin::Compiled);
}

#[test]
fn stale_temporary_files_are_removed() {
    let cache = fresh_cache("tmp");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    rt.load(Builtin::SntpServer.bytes()).unwrap();
    let stale = cache.dir().join(".tmp-left-by-a-killed-netkit");
    let fresh = cache.dir().join(".tmp-being-written-now");
    std::fs::write(&stale, b"x").unwrap();
    std::fs::write(&fresh, b"x").unwrap();
    age_entry(&stale, 2 * 3600);
    rt.load(Builtin::EchoClient.bytes()).unwrap();
    assert!(!stale.exists(), "a stale temporary file was kept");
    assert!(fresh.exists(), "a temporary file in use was removed");
}

#[test]
fn a_planted_symlink_is_never_written_through() {
    let cache = fresh_cache("symlink");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoClient.bytes();
    rt.load(Builtin::SntpServer.bytes()).unwrap(); // makes the directory and key
    let victim = cache.dir().with_extension("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let path = cache.entry_path(rt.engine(), bytes);
    std::os::unix::fs::symlink(&victim, &path).unwrap();
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(
        std::fs::symlink_metadata(&path).unwrap().is_file(),
        "the link was not replaced"
    );
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Cache);
}

#[test]
fn a_fifo_at_an_entry_does_not_hang() {
    let cache = fresh_cache("fifo");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoClient.bytes();
    rt.load(Builtin::SntpServer.bytes()).unwrap();
    let path = cache.entry_path(rt.engine(), bytes);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(rt.load(bytes).map(|(_, o)| o).ok());
    });
    let origin = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("loading hung on a FIFO");
    assert_eq!(origin, Some(Origin::Compiled));
}

#[test]
fn a_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let cache = fresh_cache("worldwritable");
    std::fs::create_dir_all(cache.dir()).unwrap();
    std::fs::set_permissions(cache.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoClient.bytes();
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
    assert!(
        !cache.entry_path(rt.engine(), bytes).exists(),
        "an entry was written there"
    );
}

#[test]
fn a_new_cache_directory_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let cache = fresh_cache("mode");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    rt.load(Builtin::EchoClient.bytes()).unwrap();
    let mode = std::fs::metadata(cache.dir()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn empty_or_relative_xdg_cache_home_is_ignored() {
    let work = std::env::temp_dir().join(format!("netkit-xdg-{}", std::process::id()));
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();
    for xdg in ["", "relative/dir"] {
        let out = std::process::Command::new(netkit_tests::netkit())
            .current_dir(&work)
            .env_remove("NETKIT_CACHE_DIR")
            .env("XDG_CACHE_HOME", xdg)
            .env("HOME", &home)
            .args(["run"])
            .arg(netkit_tests::hostile_wasm())
            .args(["--", "list-env", ""])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            !work.join("netkit").exists(),
            "XDG_CACHE_HOME={xdg:?} made ./netkit"
        );
        assert!(
            !work.join("relative").exists(),
            "XDG_CACHE_HOME={xdg:?} was used"
        );
        assert!(
            home.join(".cache/netkit").is_dir(),
            "{}",
            netkit_tests::text(&out.stderr)
        );
    }
}

#[test]
fn a_directory_owned_by_someone_else_is_not_used() {
    let cache = fresh_cache("owner");
    std::fs::create_dir_all(cache.dir()).unwrap();
    // 65534 is "nobody"; changing a directory's owner needs root, which these
    // tests (and CI) run as.
    std::os::unix::fs::chown(cache.dir(), Some(65534), Some(65534))
        .expect("chown to nobody (the test suite runs as root)");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoClient.bytes();
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
    assert!(!cache.entry_path(rt.engine(), bytes).exists());
}
