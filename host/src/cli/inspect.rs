//! `netkit inspect COMPONENT|oci://…`: what a component is and asks for, read from
//! the binary before anything runs; where a registry's config claims otherwise;
//! with `--allow`, what those grants would let it reach and what netkit gives
//! each of its imports.

use super::args::RegistryFlags;
use super::load::Provenance;
use anyhow::Result;
use netkit::dns::SystemResolver;
use netkit::inspect::{Info, Item, inspect};
use netkit::oci::Source;
use netkit::oci::layout::WasmConfig;
use netkit::policy::{Grant, Policy};
use netkit::runtime::Host;
use serde_json::{Value, json};
use std::process::ExitCode;

/// Show a component's digest, world, imports, exports and metadata.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The component: a .wasm file, or oci://REGISTRY/REPO:TAG (or @sha256:DIGEST).
    #[arg(value_name = "COMPONENT")]
    component: Source,
    /// Also say what these grants (as `netkit run --allow` takes them) would let it
    /// reach, and what netkit gives each of its imports; repeatable.
    #[arg(long = "allow", value_name = "GRANT")]
    allow: Vec<Grant>,
    /// Show it with no --allow given: what netkit gives it with no grants at all.
    #[arg(long)]
    no_grants: bool,
    #[command(flatten)]
    registries: RegistryFlags,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// What netkit gives an import, by interface (one line).
fn what_netkit_gives(import: &Item, grants: &str, has_grants: bool) -> &'static str {
    let base = import.name.split('@').next().unwrap_or(&import.name);
    match base {
        "wasi:sockets/tcp"
        | "wasi:sockets/udp"
        | "wasi:sockets/tcp-create-socket"
        | "wasi:sockets/udp-create-socket"
        | "wasi:sockets/ip-name-lookup"
        | "wasi:sockets/network"
        | "wasi:sockets/instance-network" => {
            if has_grants && !grants.is_empty() {
                "only the granted addresses; every other attempt is denied and audited"
            } else {
                "nothing: no grants, so every connect, bind and lookup is denied and audited"
            }
        }
        "netkit:icmp/echo" => "ICMP echo to icmp:// grants only (netkit ping grants its target)",
        b if b.starts_with("wasi:filesystem/") => "nothing: no directory is preopened",
        "wasi:cli/environment" => "no environment variables; the arguments netkit run is given",
        "wasi:cli/stdin" => "closed (netkit run --stdin passes netkit's own)",
        "wasi:cli/stdout" => "netkit's stdout (its stderr with --json)",
        "wasi:cli/stderr" => "netkit's stderr",
        "wasi:cli/exit" => "its exit code becomes netkit's",
        b if b.starts_with("wasi:cli/terminal") => "not a terminal",
        b if b.starts_with("wasi:clocks/") => "the host's clocks",
        b if b.starts_with("wasi:random/") => "the host's random bytes",
        b if b.starts_with("wasi:io/") => "streams and polling for the interfaces above",
        b if !b.starts_with("wasi:")
            && import.kind == "interface"
            && import.functions.is_empty() =>
        {
            "types only: nothing to call"
        }
        _ => "not provided by netkit: the component will not instantiate",
    }
}

/// Where the config's claims and the binary differ (one line each; empty: they agree).
fn claim_differences(info: &Info, config: &WasmConfig) -> Vec<String> {
    let Some(claims) = &config.component else {
        return vec!["the config has no component section (no imports or exports claimed)".into()];
    };
    let (imports, exports) = info.claims();
    let mut out = Vec::new();
    for (what, claimed, real) in [
        ("imports", &claims.imports, &imports),
        ("exports", &claims.exports, &exports),
    ] {
        for c in claimed.iter().filter(|c| !real.contains(c)) {
            out.push(format!(
                "the config claims it {what} {c}; the binary does not"
            ));
        }
        for r in real.iter().filter(|r| !claimed.contains(r)) {
            out.push(format!("the binary {what} {r}; the config does not say so"));
        }
    }
    if config.os != "wasip2" {
        out.push(format!(
            "the config's os is {:?}, not \"wasip2\"",
            config.os
        ));
    }
    if config.layer_digests.first() != Some(&info.digest) {
        out.push(format!(
            "the config's layerDigests {:?} are not the component's digest {}",
            config.layer_digests, info.digest
        ));
    }
    out
}

/// Inspect it.
pub async fn main(a: Args) -> Result<ExitCode> {
    let host = Host::new()?;
    let (bytes, provenance, config) = match &a.component {
        Source::File(p) => (
            cli_args::files::read(p, cli_args::files::Kind::Component)
                .map_err(anyhow::Error::msg)?,
            None,
            None,
        ),
        Source::Oci(r) => {
            let pulled = super::load::pull(r, &a.registries, host.cache()).await?;
            let provenance = Provenance::of(&pulled);
            (pulled.bytes, Some(provenance), Some(pulled.config))
        }
    };
    let info = inspect(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", a.component))?;
    // The real answer to "will it run here": link it against netkit's host.
    let instantiates = host
        .compile(&bytes)
        .and_then(|c| {
            host.linker()
                .instantiate_pre(&c)
                .map(|_| ())
                .map_err(anyhow::Error::from)
        })
        .map_err(|e| format!("{e:#}").lines().next().unwrap_or("").to_string());
    let differences = config.as_ref().map(|c| match c {
        Some(c) => claim_differences(&info, c),
        None => vec!["its config is not a wasm config netkit can read".to_string()],
    });
    let under_grants = if a.allow.is_empty() && !a.no_grants {
        None
    } else {
        let policy = Policy::new(a.allow.clone()).resolve(&SystemResolver)?;
        let reach = policy.summary();
        let has = !policy.grants().is_empty();
        let uses_network = info
            .imports
            .iter()
            .any(|i| i.name.starts_with("wasi:sockets/") || i.name.starts_with("netkit:icmp/"));
        let gives: Vec<(String, &str)> = info
            .imports
            .iter()
            .map(|i| (i.name.clone(), what_netkit_gives(i, &reach, has)))
            .collect();
        Some((reach, uses_network, gives))
    };
    if a.json {
        let mut body = json!({ "ok": true, "component": info });
        if let Some(p) = &provenance {
            body["registry"] = p.json();
            body["config"] = json!(config.clone().flatten());
        }
        if let Some(d) = &differences {
            body["config_differs"] = json!(d);
        }
        body["instantiates"] = match &instantiates {
            Ok(()) => json!(true),
            Err(e) => json!({ "error": e }),
        };
        if let Some((reach, uses, gives)) = &under_grants {
            body["under_grants"] = json!({
                "grants": a.allow.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
                "reach": reach,
                "imports_network": uses,
                "gives": gives.iter().map(|(i, g)| json!({"import": i, "netkit_gives": g})).collect::<Value>(),
            });
        }
        println!("{body}");
        return Ok(ExitCode::SUCCESS);
    }
    print_text(
        &a,
        &info,
        provenance.as_ref(),
        differences.as_deref(),
        &instantiates,
        under_grants.as_ref(),
    );
    Ok(ExitCode::SUCCESS)
}

type UnderGrants<'a> = (String, bool, Vec<(String, &'a str)>);

fn print_text(
    a: &Args,
    info: &Info,
    provenance: Option<&Provenance>,
    differences: Option<&[String]>,
    instantiates: &Result<(), String>,
    under_grants: Option<&UnderGrants<'_>>,
) {
    if let Some(p) = provenance {
        println!("{:<12}{}", "registry", p.line());
    } else {
        println!("{:<12}{}", "file", a.component);
    }
    println!("{:<12}{}", "digest", info.digest);
    println!("{:<12}{} bytes", "size", info.size);
    println!("{:<12}{}", "world", info.world);
    for (k, v) in [
        ("version", &info.version),
        ("description", &info.description),
    ] {
        if let Some(v) = v {
            println!("{k:<12}{v}");
        }
    }
    for (field, tool, version) in &info.producers {
        println!(
            "{:<12}{}",
            "producer",
            format!("{field}: {tool} {version}").trim_end()
        );
    }
    for (title, items) in [("imports", &info.imports), ("exports", &info.exports)] {
        println!("{title} ({}):", items.len());
        for i in items {
            println!("  {}", i.name);
            for f in &i.functions {
                println!("      {f}");
            }
        }
    }
    match instantiates {
        Ok(()) => println!("{:<12}yes: netkit provides every import", "runs here"),
        Err(e) => println!("{:<12}no: {e}", "runs here"),
    }
    if let Some(d) = differences {
        if d.is_empty() {
            println!("registry config: its imports and exports match the binary");
        } else {
            println!("registry config differs from the binary (netkit goes by the binary):");
            for line in d {
                println!("  {line}");
            }
        }
    }
    if let Some((reach, uses, gives)) = under_grants {
        let shown = if reach.is_empty() {
            "nothing (no grants)"
        } else {
            reach
        };
        println!("under these grants it may reach: {shown}");
        if !uses && !reach.is_empty() {
            println!("  (it imports no sockets: the grants give it nothing)");
        }
        println!("what netkit gives each import:");
        for (import, g) in gives {
            println!("  {import:<40} {g}");
        }
    }
}
