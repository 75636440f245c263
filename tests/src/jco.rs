//! jco on Node.js: the Bytecode Alliance's JavaScript host for components
//! (`@bytecodealliance/jco` with `@bytecodealliance/preview2-shim`), installed in
//! `tests/js` from its lock file.

use crate::require;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/js`, where jco is installed and transpiled components are written.
pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// The jco CLI, or a panic with the install command.
pub fn jco() -> PathBuf {
    require("node", "apt-get install -y nodejs (Node.js 20 or later)");
    let bin = js_dir().join("node_modules/.bin/jco");
    assert!(
        bin.exists(),
        "jco is needed by this test but {} is missing; install it with: npm ci --prefix tests/js (.ci/install-peers does)",
        bin.display()
    );
    bin
}

/// `jco run WASM ARGS…` (preview2-shim's WASI on Node, network allowed).
pub fn jco_run(wasm: &Path, args: &[&str]) -> Output {
    Command::new(jco())
        .arg("run")
        .arg(wasm)
        .args(args)
        .current_dir(js_dir())
        .output()
        .expect("run jco")
}

/// `jco transpile WASM` into `tests/js/build/NAME-PID/` (inside the package, so
/// the output finds preview2-shim); the generated ES module's path.
pub fn jco_transpile(wasm: &Path, name: &str) -> PathBuf {
    let out = js_dir()
        .join("build")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let done = Command::new(jco())
        .arg("transpile")
        .arg(wasm)
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .current_dir(js_dir())
        .output()
        .expect("run jco transpile");
    assert!(
        done.status.success(),
        "jco transpile {}: {}",
        wasm.display(),
        String::from_utf8_lossy(&done.stderr)
    );
    let stem = wasm.file_stem().unwrap().to_string_lossy().into_owned();
    let js = out.join(format!("{stem}.js"));
    if js.exists() {
        return js;
    }
    std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "js"))
        .expect("jco wrote an ES module")
}
