//! The path every command shares: show the grants, build the sandbox, and after
//! the call print the result (text or JSON), the audit once, and exit.

use super::args::ComponentFlag;
use super::load::Provenance;
use super::output::Outcome;
use super::resolve::Target;
use anyhow::Result;
use netkit::audit::Audit;
use netkit::components::Builtin;
use netkit::policy::ResolvedPolicy;
use netkit::runtime::Host;
use netkit::runtime::Sandbox;
use serde_json::json;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use wasmtime::component::Component;

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// One JSON object on stdout instead of text.
    pub json: bool,
    /// The audit table on stderr at the end (text mode; JSON always has the audit).
    pub audit: bool,
}

impl Format {
    /// `--json` and `--audit` as given.
    pub fn new(json: bool, audit: bool) -> Self {
        Self { json, audit }
    }
}

/// One sandboxed run: who, under which grants, printed how.
pub struct Job {
    label: String,
    sandbox: Sandbox,
    format: Format,
    /// Grants of the job's later instances (NTS's query after its key exchange).
    more: Vec<String>,
    /// Where the component came from, when a registry.
    provenance: Option<Provenance>,
}

impl Job {
    /// A job named `label` under `policy`; its grants are shown on stderr now
    /// (not in JSON mode, where they are part of the output).
    pub fn new(label: &str, policy: ResolvedPolicy, format: Format) -> Self {
        if !format.json {
            eprintln!("netkit: {label} granted: {}", policy.summary());
        }
        Self {
            label: label.to_string(),
            sandbox: Sandbox::new(label, policy),
            format,
            more: Vec::new(),
            provenance: None,
        }
    }

    /// The component came from a registry: say which digest (stderr in text mode;
    /// `component` in JSON; the audit's title).
    pub fn set_provenance(&mut self, p: Option<Provenance>) {
        if let Some(p) = &p
            && !self.format.json
        {
            eprintln!("netkit: {}: {}", self.label, p.line());
        }
        self.provenance = p;
    }

    /// A later instance of this job was granted `policy`: shown like the first
    /// grants (stderr in text mode, `grants` in JSON).
    pub fn also_granted(&mut self, policy: &ResolvedPolicy) {
        if !self.format.json {
            eprintln!("netkit: {} granted: {}", self.label, policy.summary());
        }
        self.more
            .extend(policy.grants().iter().map(|g| g.to_string()));
    }

    /// The sandbox to run the component in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Keep denial lines off stderr (they are still counted and audited).
    pub fn quiet(&mut self) {
        let audit = Arc::new(Audit::new(self.label.clone(), true));
        self.sandbox.set_audit(audit);
    }

    /// The sandbox, to set limits and arguments.
    pub fn sandbox_mut(&mut self) -> &mut Sandbox {
        &mut self.sandbox
    }

    /// Print `outcome` and the audit as the format says; the exit code.
    pub fn finish(&self, outcome: Outcome) -> ExitCode {
        let log = self.sandbox.audit();
        log.flush_denials();
        if self.format.json {
            let grants = self
                .sandbox
                .policy()
                .grants()
                .iter()
                .map(|g| g.to_string())
                .chain(self.more.iter().cloned())
                .collect();
            let mut body = outcome.json(grants, json!(log.events()));
            // Exact even when the audit kept only the first events.
            body["attempts"] = json!(log.total());
            body["denied"] = json!(log.denied());
            if let Some(p) = &self.provenance {
                body["component"] = p.json();
            }
            println!("{body}");
        } else {
            if let Some(text) = &outcome.stdout {
                println!("{text}");
            }
            if self.format.audit {
                let title = self.provenance.as_ref().map(|p| p.pinned.as_str());
                eprint!("{}", log.table_titled(title));
            }
        }
        // The summary or error line goes to stderr in both formats: it never mixes
        // with the JSON on stdout, and a script's log still says what happened.
        if let Some(line) = &outcome.stderr {
            eprintln!("netkit: {}: {line}", self.label);
        }
        outcome.exit_code()
    }
}

/// Everything a diagnostic command needs before its call.
pub struct Setup {
    /// Where it goes (or serves).
    pub target: Target,
    /// The wasmtime host.
    pub host: Host,
    /// The component (embedded, or `--component`).
    pub component: Component,
    /// The job: its grants shown, its sandbox made.
    pub job: Job,
}

/// The shared beginning of every diagnostic command: load the component, build
/// the grants for `target` (shown by name if it was given as one), show them.
pub async fn setup(
    label: &str,
    builtin: Builtin,
    target: Target,
    flag: &ComponentFlag,
    format: Format,
    policy: impl FnOnce(SocketAddr) -> ResolvedPolicy,
) -> Result<Setup> {
    let host = Host::new()?;
    let loaded = super::load::component(&host, builtin, flag).await?;
    let component = loaded.component;
    super::keep::until_exit(&host, &component);
    let policy = policy(target.addr).naming(target.name.as_deref(), target.addr.ip());
    let mut job = Job::new(label, policy, format);
    job.set_provenance(loaded.provenance);
    Ok(Setup {
        target,
        host,
        component,
        job,
    })
}
