//! What netkit's command line and its components' own share: the flags of each
//! diagnostic as clap definitions ([`flags`]), flattened into both, and the units
//! their values take ([`units`]). A flag means the same everywhere because it is
//! defined once.

pub mod files;
pub mod flags;
pub mod units;

pub use units::*;

/// How a component's command line reports a failure: one JSON object on
/// stdout (`{"ok": false, "error": {kind, message}}`) with `--json`, else
/// `PROGRAM: message` on stderr; always `Err(())` (exit 1).
#[allow(clippy::result_unit_err)] // wasi:cli/run's own result type: Err(()) is exit 1
pub fn fail(program: &str, json: bool, kind: &str, message: &str) -> Result<(), ()> {
    if json {
        println!(
            "{}",
            serde_json::json!({"ok": false, "error": {"kind": kind, "message": message}})
        );
    } else {
        eprintln!("{program}: {message}");
    }
    Err(())
}
