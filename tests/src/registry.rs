//! A real OCI registry on loopback (Debian's docker-registry, distribution 2.8:
//! no `auth:` key, a throwaway storage directory) and the `oras` Python SDK as
//! an independent client (`tests/oras_client.py`).

use crate::{Peer, free_port, require, wait_for_tcp};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `docker-registry`, or a panic with the install command.
pub fn docker_registry() -> PathBuf {
    require(
        "docker-registry",
        "apt-get install -y docker-registry (with a policy-rc.d that exits 101, so it does not start its own service; .ci/install-peers does that)",
    )
}

/// A running registry; stopped (and its storage removed) on drop.
pub struct Registry {
    /// Its address (plain HTTP).
    pub addr: SocketAddr,
    /// Its storage directory.
    pub dir: PathBuf,
    peer: Option<Peer>,
}

impl Registry {
    /// `HOST:PORT`, as references and `--insecure-registry` name it.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Where the registry keeps blob `digest` (`sha256:HEX`).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.dir
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Stop it (a later [`Registry::restart`] brings it back with the same storage).
    pub fn stop(&mut self) {
        if let Some(p) = self.peer.take() {
            p.terminate(Duration::from_secs(5));
        }
    }

    /// Start it again on the same port and storage.
    pub fn restart(&mut self) {
        self.stop();
        self.peer = Some(spawn(&self.dir, self.addr));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn(dir: &Path, addr: SocketAddr) -> Peer {
    let peer = Peer::start(
        "docker-registry",
        Command::new(docker_registry())
            .arg("serve")
            .arg(dir.join("config.yml")),
    );
    wait_for_tcp(addr, Duration::from_secs(10));
    peer
}

/// A registry on a free loopback port with a new storage directory.
pub fn start_registry() -> Registry {
    start_registry_with(None)
}

/// The same over HTTPS with the certificate chain and key given.
pub fn start_tls_registry(chain: &Path, key: &Path) -> Registry {
    start_registry_with(Some((chain, key)))
}

fn start_registry_with(tls: Option<(&Path, &Path)>) -> Registry {
    let dir = std::env::temp_dir().join(format!(
        "netkit-registry-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("registry dir");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    std::fs::write(
        dir.join("config.yml"),
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{}",
            dir.join("data").display(),
            tls.map_or(String::new(), |(chain, key)| format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                chain.display(),
                key.display()
            ))
        ),
    )
    .expect("registry config");
    let peer = spawn(&dir, addr);
    Registry {
        addr,
        dir,
        peer: Some(peer),
    }
}

/// `python3 tests/oras_client.py ARGS…` (the oras SDK): its stdout, or a panic with
/// its stderr (or the install command if oras is missing).
pub fn oras(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("oras_client.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'oras'") {
        panic!(
            "the oras Python SDK is needed by this test: pip install oras==0.2.43 (.ci/install-peers does)"
        );
    }
    assert!(
        out.status.success(),
        "oras_client.py {args:?} failed: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
