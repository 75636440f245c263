//! Flags only netkit's commands have (the diagnostics' own are in `cli_args::flags`,
//! shared with the components).

use ipnet::IpNet;
use netkit::oci::{Registries, Source};

/// `--component PATH|oci://…`: another build of the component instead of the embedded one.
#[derive(clap::Args, Debug)]
pub struct ComponentFlag {
    /// Use this component instead of the embedded one: a .wasm file, or
    /// oci://REGISTRY/REPO:TAG or oci://REGISTRY/REPO@sha256:DIGEST from a registry.
    #[arg(long, value_name = "PATH|oci://…")]
    pub component: Option<Source>,
    #[command(flatten)]
    pub registries: RegistryFlags,
}

/// How registries are reached (every command that takes a component reference).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RegistryFlags {
    /// Speak plain HTTP, not HTTPS, to this registry (HOST or HOST:PORT); repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
}

impl RegistryFlags {
    /// The registries as netkit's OCI client takes them.
    pub fn registries(&self) -> Registries {
        Registries::new(self.insecure_registry.clone())
    }
}

/// What netkit adds to a server's own flags.
#[derive(clap::Args, Debug)]
pub struct ServerExtras {
    /// Serve only clients in this network (CIDR, e.g. 127.0.0.0/8); repeatable. Default: anyone.
    #[arg(long = "allow-from", value_name = "CIDR")]
    pub allow_from: Vec<IpNet>,
    /// Print one JSON object (summary or error, grants, audit) when stopped.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub family: cli_args::flags::FamilyFlags,
}
