//! Driving any `wasi:cli/run` component (a command) under a sandbox, with every way it can end named.

use crate::runtime::{Host, Sandbox, unconstrained};
use anyhow::Result;
use std::fmt;
use std::time::Duration;
use wasmtime::Trap;
use wasmtime::component::Component;
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p2::bindings::Command;

/// Grace period past the deadline for a guest blocked in a host call to be dropped.
const DEADLINE_GRACE: Duration = Duration::from_millis(50);

/// How a component run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It returned (0 = success) or called `exit(code)`.
    Code(i32),
    /// The deadline passed; the guest was stopped.
    Deadline(Duration),
    /// It tried to grow its memories or tables past the sandbox's budget (bytes).
    OutOfMemory(usize),
    /// It trapped (a Rust panic, `unreachable`, a bad memory access, ...).
    Trap(String),
}

impl Exit {
    /// The process exit code netkit uses for this outcome.
    pub fn code(&self) -> i32 {
        match self {
            Exit::Code(c) => *c,
            Exit::Deadline(_) => 124,
            Exit::OutOfMemory(_) => 125,
            Exit::Trap(_) => 134,
        }
    }
}

impl Exit {
    /// The kind of ending, as JSON names it: `code`, `deadline`, `out-of-memory`, `trap`.
    pub fn kind(&self) -> &'static str {
        match self {
            Exit::Code(_) => "code",
            Exit::Deadline(_) => "deadline",
            Exit::OutOfMemory(_) => "out-of-memory",
            Exit::Trap(_) => "trap",
        }
    }
}

/// Where the limits an [`Exit`] names are set, for its hint.
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    /// How to raise the deadline (`--deadline`, or a config key).
    pub deadline: &'static str,
    /// How to raise the memory budget.
    pub memory: &'static str,
}

impl Hints {
    /// The flags of `netkit run`.
    pub const CLI: Hints = Hints {
        deadline: "--deadline",
        memory: "--max-memory",
    };
}

impl Exit {
    /// One line on how it ended, whose hint names where the limit is set.
    pub fn describe(&self, hints: Hints) -> String {
        match self {
            Exit::Code(c) => format!("exited with code {c}"),
            Exit::Deadline(d) => format!(
                "stopped at the deadline of {:.3} s (raise it with {})",
                d.as_secs_f64(),
                hints.deadline
            ),
            Exit::OutOfMemory(cap) => format!(
                "out of memory: it tried to grow past the cap of {} MiB (all its memories and tables together; raise it with {})",
                cap >> 20,
                hints.memory
            ),
            Exit::Trap(why) => format!("trapped: {why}"),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Hints::CLI))
    }
}

/// The trap in `e`, if it is one (directly, or anywhere in its causes).
pub fn trap_of(e: &anyhow::Error) -> Option<Trap> {
    e.downcast_ref::<Trap>()
        .copied()
        .or_else(|| e.chain().find_map(|c| c.downcast_ref::<Trap>().copied()))
}

/// An error in one line: a trap by its reason (`wasm trap: wasm `unreachable`
/// instruction executed`; wasmtime's own text of a trap error starts with
/// "error while executing at wasm backtrace:" and the frames, which are
/// logged at debug level only), anything else its causes joined.
pub fn one_line(e: &anyhow::Error) -> String {
    if let Some(trap) = trap_of(e) {
        tracing::debug!("trap: {e:?}");
        return trap.to_string();
    }
    e.chain()
        .map(|c| c.to_string().replace('\n', " "))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Instantiate `component` under `sandbox` and call its `wasi:cli/run`.
///
/// Errors are only for failures before the guest runs (e.g. it needs imports
/// netkit does not provide); everything the guest does ends in an [`Exit`].
pub async fn run(host: &Host, component: &Component, sandbox: &Sandbox) -> Result<Exit> {
    let (mut store, _) = host.store(sandbox);
    let run = unconstrained(async {
        let command = Command::instantiate_async(&mut store, component, host.linker()).await?;
        command.wasi_cli_run().call_run(&mut store).await
    });
    let outcome = match sandbox.deadline() {
        Some(d) => match tokio::time::timeout(d + DEADLINE_GRACE, run).await {
            Ok(r) => r,
            Err(_) => return Ok(Exit::Deadline(d)),
        },
        None => run.await,
    };
    Ok(match outcome {
        Ok(Ok(())) => Exit::Code(0),
        Ok(Err(())) => Exit::Code(1),
        Err(e) => classify(e, sandbox, store.data().limits().refused().is_some()),
    })
}

fn classify(e: wasmtime::Error, sandbox: &Sandbox, out_of_memory: bool) -> Exit {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Exit::Code(exit.0);
    }
    if let Some(Trap::Interrupt) = e.downcast_ref::<Trap>() {
        return Exit::Deadline(sandbox.deadline().unwrap_or_default());
    }
    // Known from the limiter, which refused a growth: never from the message.
    if out_of_memory {
        return Exit::OutOfMemory(sandbox.max_memory());
    }
    Exit::Trap(one_line(&anyhow::Error::from(e)))
}
