//! Flags only netkit's commands have (the diagnostics' own are in `cli_args::flags`,
//! shared with the components).

use ipnet::IpNet;
use std::path::PathBuf;

/// `--component PATH`: another build of the component instead of the embedded one.
#[derive(clap::Args, Debug)]
pub struct ComponentFlag {
    /// Use this component file instead of the embedded one.
    #[arg(long, value_name = "PATH")]
    pub component: Option<PathBuf>,
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
