//! `netkit completions SHELL`: a completion script for bash, zsh or fish.

use anyhow::Result;
use clap_complete::Shell;
use std::process::ExitCode;

/// Print a completion script on stdout.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell: bash, zsh or fish (also elvish, powershell).
    shell: Shell,
}

/// Print it.
pub fn main(a: Args) -> Result<ExitCode> {
    clap_complete::generate(
        a.shell,
        &mut super::command(),
        "netkit",
        &mut std::io::stdout(),
    );
    Ok(ExitCode::SUCCESS)
}
