//! `netkit components --out DIR`: the embedded components as .wasm files;
//! `netkit components push oci://REGISTRY/PREFIX`: the same, published to a
//! registry in the CNCF wasm artifact layout.

use super::args::RegistryFlags;
use anyhow::{Context, Result};
use netkit::components::Builtin;
use netkit::oci::OciRef;
use netkit::oci::layout::{self, ComponentClaims};
use netkit::oci::registry::Session;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write every embedded component into a directory, or push them.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Directory to write into (created if missing).
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Print one JSON object listing the files instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Publish every embedded component to a registry as PREFIX/NAME:TAG (the CNCF
    /// wasm OCI artifact layout, with wkg's annotations).
    Push(PushArgs),
}

#[derive(clap::Args, Debug)]
struct PushArgs {
    /// Where: oci://REGISTRY/PREFIX (each component goes to PREFIX/NAME, e.g.
    /// oci://127.0.0.1:5000/netkit → netkit/sntp-client).
    #[arg(value_name = "oci://REGISTRY/PREFIX")]
    prefix: String,
    /// The tag to push under (default: netkit's version).
    #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
    tag: String,
    /// The `org.opencontainers.image.source` annotation (a URL of the source); left out if not given.
    #[arg(long, value_name = "URL")]
    source: Option<String>,
    #[command(flatten)]
    registries: RegistryFlags,
    /// Print one JSON object listing what was pushed.
    #[arg(long)]
    json: bool,
}

/// Write the files, or push them.
pub async fn main(a: Args) -> Result<ExitCode> {
    match (a.action, a.out) {
        (Some(Action::Push(p)), _) => push(p).await,
        (None, Some(out)) => write(&out, a.json),
        (None, None) => unreachable!("clap requires --out without a subcommand"),
    }
}

fn write(out: &std::path::Path, json: bool) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut files = Vec::new();
    for b in Builtin::ALL {
        let path = out.join(b.file_name());
        std::fs::write(&path, b.bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !json {
            println!("{} ({} bytes)", path.display(), b.bytes().len());
        }
        files.push(json!({ "path": path.display().to_string(), "bytes": b.bytes().len() }));
    }
    if json {
        println!("{}", json!({ "ok": true, "files": files }));
    }
    Ok(ExitCode::SUCCESS)
}

/// `oci://REGISTRY/PREFIX` → (registry, prefix); the names are checked when each
/// component's reference is parsed.
fn split_prefix(text: &str) -> Result<(String, String)> {
    let usage = "push takes oci://REGISTRY/PREFIX, e.g. oci://127.0.0.1:5000/netkit";
    let rest = text
        .strip_prefix(netkit::oci::reference::SCHEME)
        .with_context(|| format!("{text:?} does not start with oci:// ({usage})"))?;
    let (registry, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if prefix.contains([':', '@']) {
        anyhow::bail!("{text:?}: give the prefix without a tag or digest (--tag TAG sets the tag)");
    }
    Ok((registry.to_string(), prefix.trim_matches('/').to_string()))
}

async fn push(p: PushArgs) -> Result<ExitCode> {
    let (registry, prefix) = split_prefix(&p.prefix)?;
    let registries = p.registries.registries();
    let mut pushed = Vec::new();
    for b in Builtin::ALL {
        let name = b.file_name().trim_end_matches(".wasm");
        let repository = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        let r: OciRef = format!("oci://{registry}/{repository}:{}", p.tag)
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?;
        let bytes = b.bytes();
        let info = netkit::inspect::inspect(bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let (imports, exports) = info.claims();
        let config = layout::config_for(
            &info.digest,
            ComponentClaims {
                imports,
                exports,
                target: Some(info.world.clone()),
            },
        );
        let mut annotations = BTreeMap::from([
            (
                "org.opencontainers.image.version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                "org.opencontainers.image.description".to_string(),
                b.description().to_string(),
            ),
            (
                "org.opencontainers.image.licenses".to_string(),
                env!("CARGO_PKG_LICENSE").to_string(),
            ),
            (
                "org.opencontainers.image.title".to_string(),
                name.to_string(),
            ),
        ]);
        if let Some(s) = &p.source {
            annotations.insert("org.opencontainers.image.source".into(), s.clone());
        }
        let digest = Session::new(&r, &registries)?
            .push(bytes, &config, annotations)
            .await?;
        let pinned = r.with_digest(&digest);
        if !p.json {
            println!("{r} {digest} ({} bytes)", bytes.len());
        }
        pushed.push(json!({
            "component": name,
            "reference": r.to_string(),
            "digest": digest,
            "pinned": pinned.to_string(),
            "component_digest": info.digest,
            "bytes": bytes.len(),
        }));
    }
    if p.json {
        println!("{}", json!({ "ok": true, "pushed": pushed }));
    }
    Ok(ExitCode::SUCCESS)
}
