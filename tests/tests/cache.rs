//! The compile cache: a second load is a cache hit; corrupt or truncated entries are
//! recompiled and replaced, never trusted, never fatal.

use netkit::cache::{CompileCache, Origin};
use netkit::components::Builtin;
use netkit::runtime::Host;

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
    std::fs::copy(
        cache.entry_path(rt.engine(), b),
        cache.entry_path(rt.engine(), a),
    )
    .unwrap();
    assert_eq!(rt.load(a).unwrap().1, Origin::Compiled, "B's code ran as A");
}

#[test]
fn a_patched_entry_with_a_recomputed_checksum_is_not_run() {
    use sha2::{Digest, Sha256};
    let cache = fresh_cache("patch");
    let rt = Host::with_cache(Some(cache.clone())).unwrap();
    let bytes = Builtin::EchoServer.bytes();
    rt.load(bytes).unwrap();
    let path = cache.entry_path(rt.engine(), bytes);
    let data = std::fs::read(&path).unwrap();
    let mut artifact = data[32..].to_vec();
    let middle = artifact.len() / 2;
    artifact[middle] ^= 0x01;
    // What the old format trusted: a SHA-256 of the artifact in front of it.
    let mut forged = Sha256::digest(&artifact).to_vec();
    forged.extend_from_slice(&artifact);
    std::fs::write(&path, forged).unwrap();
    assert_eq!(rt.load(bytes).unwrap().1, Origin::Compiled);
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
