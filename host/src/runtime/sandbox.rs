//! What one guest instance is allowed: its grants, names, arguments and resources.

use crate::audit::Audit;
use crate::policy::ResolvedPolicy;
use std::sync::Arc;
use std::time::Duration;

/// Everything one guest instance is allowed. Setters are `set_*` and return
/// `&mut Self`; each has a getter of the bare name.
///
/// Defaults: no grants (all network denied), no names, no arguments, no
/// environment, no files, stdin closed, 256 MiB for all memories and tables,
/// 16 sockets, no deadline.
#[derive(Debug, Clone)]
pub struct Sandbox {
    label: String,
    policy: Arc<ResolvedPolicy>,
    audit: Arc<Audit>,
    args: Vec<String>,
    stop_pipe: bool,
    discard_output: bool,
    stdout_to_stderr: bool,
    inherit_stdin: bool,
    max_memory: usize,
    max_sockets: usize,
    deadline: Option<Duration>,
}

/// Sockets a sandbox may hold at once unless told otherwise (a client needs one or two).
pub const DEFAULT_MAX_SOCKETS: usize = 16;
/// A sandbox's memory budget (all memories and tables) unless set.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// Dropping this closes the guest's stdin, which asks a server to stop cleanly.
pub struct StopHandle(#[allow(dead_code)] pub(super) tokio::io::DuplexStream);

impl Sandbox {
    /// A sandbox named `label` (used in messages) running under `policy`, whose
    /// granted names are the only ones the guest may look up.
    pub fn new(label: impl Into<String>, policy: ResolvedPolicy) -> Self {
        let label = label.into();
        Self {
            audit: Arc::new(Audit::new(label.clone(), false)),
            label,
            policy: Arc::new(policy),
            args: Vec::new(),
            stop_pipe: false,
            discard_output: false,
            stdout_to_stderr: false,
            inherit_stdin: false,
            max_memory: DEFAULT_MAX_MEMORY,
            max_sockets: DEFAULT_MAX_SOCKETS,
            deadline: None,
        }
    }

    /// Let the guest read this process's stdin. By default stdin is closed.
    pub fn set_inherit_stdin(&mut self, on: bool) -> &mut Self {
        self.inherit_stdin = on;
        self
    }

    /// Whether the guest reads this process's stdin.
    pub fn inherit_stdin(&self) -> bool {
        self.inherit_stdin
    }

    /// Stop the guest after this much wall-clock time (a busy loop is interrupted
    /// too, by epoch interruption). By default there is no deadline.
    pub fn set_deadline(&mut self, deadline: Option<Duration>) -> &mut Self {
        self.deadline = deadline;
        self
    }

    /// The deadline for a guest that keeps `timeout` itself: the timeout plus
    /// headroom, so the guest's own timeout ends the run and is reported as
    /// such, and a guest whose peer keeps it busy past its timeout is still
    /// stopped (issue 31: a flood of `100 Continue`).
    pub fn deadline_after(timeout: Duration) -> Duration {
        timeout + (timeout / 4).max(Duration::from_millis(250))
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The guest's argv (the first is the program name). By default empty.
    pub fn set_args(&mut self, args: Vec<String>) -> &mut Self {
        self.args = args;
        self
    }

    /// The guest's argv.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Give stdin a pipe that [`StopHandle`] closes. By default stdin is closed from the start.
    pub fn set_stop_pipe(&mut self, on: bool) -> &mut Self {
        self.stop_pipe = on;
        self
    }

    /// Whether stdin is a stop pipe.
    pub fn stop_pipe(&self) -> bool {
        self.stop_pipe
    }

    /// Throw away what the guest writes to stdout and stderr (a long-running host
    /// such as `netkit watch`, whose own output must stay its own). By default
    /// the guest's output is netkit's.
    pub fn set_discard_output(&mut self, on: bool) -> &mut Self {
        self.discard_output = on;
        self
    }

    /// Whether the guest's output is thrown away.
    pub fn discard_output(&self) -> bool {
        self.discard_output
    }

    /// Send the guest's stdout to netkit's stderr, so that netkit's own
    /// stdout (a `--json` object) cannot be forged by what the guest prints.
    /// Off by default.
    pub fn set_stdout_to_stderr(&mut self, on: bool) -> &mut Self {
        self.stdout_to_stderr = on;
        self
    }

    /// Whether the guest's stdout goes to stderr.
    pub fn stdout_to_stderr(&self) -> bool {
        self.stdout_to_stderr
    }

    /// Cap on the guest's memory in bytes: every linear memory and every table
    /// (elements × pointer size) of every instance together. By default 256 MiB.
    pub fn set_max_memory(&mut self, bytes: usize) -> &mut Self {
        self.max_memory = bytes;
        self
    }

    /// The memory cap in bytes.
    pub fn max_memory(&self) -> usize {
        self.max_memory
    }

    /// Cap on the sockets the guest holds at once; past it, creating one fails
    /// with `new-socket-limit`. By default 16.
    pub fn set_max_sockets(&mut self, max: usize) -> &mut Self {
        self.max_sockets = max;
        self
    }

    /// The socket cap.
    pub fn max_sockets(&self) -> usize {
        self.max_sockets
    }

    /// Record into this audit instead of a fresh one. By default each sandbox has its own.
    pub fn set_audit(&mut self, audit: Arc<Audit>) -> &mut Self {
        self.audit = audit;
        self
    }

    /// The audit of this sandbox's attempts.
    pub fn audit(&self) -> &Arc<Audit> {
        &self.audit
    }

    /// The grants.
    pub fn policy(&self) -> &ResolvedPolicy {
        &self.policy
    }

    /// The same sandbox (label, audit, limits) under other grants: a second
    /// instance of one job that needs different access (NTS's query after its
    /// key exchange).
    pub fn with_policy(&self, policy: ResolvedPolicy) -> Sandbox {
        let mut s = self.clone();
        s.policy = Arc::new(policy);
        s
    }

    pub(super) fn policy_arc(&self) -> &Arc<ResolvedPolicy> {
        &self.policy
    }

    /// The name used in messages.
    pub fn label(&self) -> &str {
        &self.label
    }
}
