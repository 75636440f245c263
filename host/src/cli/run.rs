//! `netkit run`: any `wasi:cli/run` component under exactly the grants given.

use super::job::{Format, Job};
use super::output::Outcome;
use anyhow::Result;
use netkit::command::{self, Exit};
use netkit::dns::SystemResolver;
use netkit::oci::Source;
use netkit::policy::{Grant, Policy};
use netkit::runtime::Host;
use std::process::ExitCode;
use std::time::Duration;

/// Run a component with no network but what `--allow` grants, no files, no environment.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A network grant, repeatable: tcp-connect://HOST:PORT, tcp-listen://HOST:PORT,
    /// tcp-accept://CIDR:PORTS, udp://HOST:PORT, udp-bind://HOST:PORT. HOST is an IP,
    /// [IPv6], CIDR or name; PORT a number, a-b, or *.
    #[arg(long = "allow", value_name = "GRANT")]
    allow: Vec<Grant>,
    /// Stop the component after this long (e.g. 500ms, 10s, 2m; a plain number is seconds).
    #[arg(long, value_name = "DURATION", value_parser = cli_args::positive_secs)]
    deadline: Option<Duration>,
    /// Cap on all the component's memories and tables together (e.g. 64MiB, 1GiB; a plain
    /// number is MiB; 1 MiB to 16 GiB).
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = max_memory)]
    max_memory: u64,
    /// Most sockets the component may hold at once (1-100000); past it, creating one
    /// fails with wasi:sockets' new-socket-limit, and the audit shows it.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_sockets: u32,
    /// Let the component read this process's standard input (closed by default).
    #[arg(long)]
    stdin: bool,
    /// Do not print denials as they happen (the audit still has them, and the count).
    #[arg(long, short)]
    quiet: bool,
    /// Print one JSON object (how it ended, grants, audit) on stdout; the component's own
    /// stdout then goes to stderr, so nothing it prints can be taken for netkit's object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    registries: super::args::RegistryFlags,
    /// The component to run: a .wasm file, or oci://REGISTRY/REPO:TAG (or
    /// @sha256:DIGEST) from a registry.
    #[arg(value_name = "COMPONENT")]
    component: Source,
    /// Arguments for the component (after --).
    #[arg(last = true)]
    args: Vec<String>,
}

fn max_memory(text: &str) -> Result<u64, String> {
    let bytes = cli_args::size(text, 1 << 20)?;
    if !(1 << 20..=16 << 30).contains(&bytes) {
        return Err(format!("{text:?} is outside 1MiB..16GiB"));
    }
    Ok(bytes)
}

/// Run the component.
pub async fn main(a: Args, audit: bool) -> Result<ExitCode> {
    let name = match &a.component {
        Source::File(p) => p
            .file_name()
            .map_or_else(|| "component".into(), |n| n.to_string_lossy().into_owned()),
        Source::Oci(r) => r
            .repository
            .rsplit('/')
            .next()
            .unwrap_or("component")
            .to_string(),
    };
    let policy = Policy::new(a.allow).resolve(&SystemResolver)?;
    let host = Host::new()?;
    let loaded = super::load::source(&host, &a.component, &a.registries).await?;
    let component = loaded.component;
    let mut job = Job::new(&name, policy, Format::new(a.json, audit));
    job.set_provenance(loaded.provenance);
    if a.quiet {
        job.quiet();
    }
    let mut argv = vec![name.clone()];
    argv.extend(a.args);
    job.sandbox_mut()
        .set_args(argv)
        .set_inherit_stdin(a.stdin)
        .set_max_memory(usize::try_from(a.max_memory).unwrap_or(usize::MAX))
        .set_max_sockets(a.max_sockets as usize)
        .set_deadline(a.deadline)
        .set_stdout_to_stderr(a.json);
    // Ctrl-C or SIGTERM interrupt the guest (its future is dropped), and the
    // summary and the audit are still printed.
    let exit = tokio::select! {
        exit = command::run(&host, &component, job.sandbox()) => exit?,
        stop = super::signal::shutdown() => {
            let outcome = Outcome::exit("signal", stop.exit_code(), format!("stopped by {stop:?}"));
            let note = match stop {
                super::signal::Stop::Interrupt => "interrupted (Ctrl-C); stopped",
                super::signal::Stop::Terminate => "terminated (SIGTERM); stopped",
            };
            return Ok(job.finish(outcome.note(note.into())));
        }
    };
    let code = exit.code().clamp(0, 255) as u8;
    let mut outcome = Outcome::exit(exit.kind(), code, exit.to_string());
    if !matches!(exit, Exit::Code(_)) {
        outcome = outcome.note(exit.to_string());
    }
    Ok(job.finish(outcome))
}
