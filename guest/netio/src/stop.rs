//! A clean-stop signal: standard input reaching end-of-file (how netkit asks a server to stop).

use wasip2::cli::stdin::get_stdin;
use wasip2::io::poll::Pollable;
use wasip2::io::streams::InputStream;

/// Watches standard input for end-of-file.
pub struct StopOnEof {
    // Field order matters: the pollable is a child of the stream and drops first.
    ready: Pollable,
    stdin: InputStream,
}

impl StopOnEof {
    /// A watcher if `enabled`, else `None` (the server then runs until told otherwise).
    pub fn new(enabled: bool) -> Option<Self> {
        enabled.then(|| {
            let stdin = get_stdin();
            Self {
                ready: stdin.subscribe(),
                stdin,
            }
        })
    }

    /// Ready when stdin has data or reached its end; put it in the server's poll list.
    pub fn pollable(&self) -> &Pollable {
        &self.ready
    }

    /// Drain what stdin holds now; `true` once it has reached end-of-file.
    pub fn reached(&self) -> bool {
        loop {
            match self.stdin.read(4096) {
                Ok(d) if d.is_empty() => return false,
                Ok(_) => continue,
                Err(_) => return true,
            }
        }
    }
}
