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
