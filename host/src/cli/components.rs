//! `netkit components --out DIR`: the embedded components as .wasm files.

use anyhow::{Context, Result};
use netkit::components::Builtin;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write every embedded component into a directory.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Print one JSON object listing the files instead of text.
    #[arg(long)]
    json: bool,
}

/// Write the files.
pub fn main(a: Args) -> Result<ExitCode> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let mut files = Vec::new();
    for b in Builtin::ALL {
        let path = a.out.join(b.file_name());
        std::fs::write(&path, b.bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !a.json {
            println!("{} ({} bytes)", path.display(), b.bytes().len());
        }
        files.push(json!({ "path": path.display().to_string(), "bytes": b.bytes().len() }));
    }
    if a.json {
        println!("{}", json!({ "ok": true, "files": files }));
    }
    Ok(ExitCode::SUCCESS)
}
