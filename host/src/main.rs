//! The `netkit` command line: sandboxed network diagnostics.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit 2 with clap's message, before anything runs.
    let args = cli::Cli::parse();
    if std::env::var_os("NETKIT_CHECK_ARGS").is_some() {
        // Used by the test that checks every command line of the README parses.
        println!("netkit: arguments ok");
        return ExitCode::SUCCESS;
    }
    if args.one_shot() {
        // A one-shot command piped into `head` ends as other Unix tools do, on
        // SIGPIPE, silently: Rust ignores the signal, and the next println!
        // would panic with a backtrace. (Servers keep ignoring it: their
        // sockets never raise it, and a closed log must not kill them.)
        // SAFETY: setting a signal's disposition to its default, before any
        // thread is started, is always sound.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let mut builder = if args.one_shot() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let tokio = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("netkit: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = tokio.block_on(cli::main(args));
    // A guest stopped while writing to a stdout nobody reads leaves that write
    // behind on a blocking thread: do not wait for it.
    tokio.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}
