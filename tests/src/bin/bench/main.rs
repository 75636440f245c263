//! netkit benchmarks: side by side in one run, as ratios, printed as one table.
//!
//! `cargo run -p netkit-tests --bin bench` (after `cargo build -p netkit`).
//! Arguments pick sections (default: all but `soak` and `watch-load`): `sntp`, `rss`, `embedded`,
//! `probes`, `web`, `icmp`, `nts`, `watch`, `echo`, `held`, `soak`, `watch-load`; `--conns 1000` limits the echo section to that many
//! connections; `--soak-seconds 600` sets how long `soak` runs (10 minutes by default);
//! `--load-seconds 60` how long `watch-load` floods netkit watch.
//! Starts its own peers on loopback: chronyd, netkit and `wasmtime run` servers,
//! native tokio echo servers (current-thread and multi-thread) and socat.

use netkit_tests::*;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod echo;
mod embedded;
mod held;
mod icmp;
mod nts;
mod oci;
mod probes;
mod process;
mod soak;
mod table;
mod watch;
mod watch_load;
mod web;

use table::*;

/// How long each echo measurement counts.
pub(crate) const ECHO_SECONDS: f64 = 2.0;
/// Streaming before the throughput count starts (socket buffers filling up).
pub(crate) const WARMUP_SECONDS: f64 = 1.0;
/// Echo measurements per subject; the table shows their medians.
pub(crate) const ECHO_ROUNDS: usize = 3;

/// Which sections to run, from the command line.
pub(crate) struct Only {
    pub(crate) sections: Vec<String>,
    pub(crate) conns: Option<usize>,
    pub(crate) soak_seconds: u64,
    pub(crate) load_seconds: u64,
}

impl Only {
    fn parse() -> Self {
        const SECTIONS: [&str; 13] = [
            "web",
            "oci",
            "nts",
            "icmp",
            "sntp",
            "rss",
            "embedded",
            "probes",
            "watch",
            "echo",
            "held",
            "soak",
            "watch-load",
        ];
        let mut sections = Vec::new();
        let mut conns = None;
        let mut soak_seconds = 600;
        let mut load_seconds = 60;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if a == "--conns" {
                conns = args.next().and_then(|n| n.parse().ok());
                if conns.is_none() {
                    eprintln!("bench: --conns needs a number of connections, e.g. --conns 1000");
                    std::process::exit(2);
                }
            } else if a == "--soak-seconds" {
                soak_seconds = match args.next().and_then(|n| n.parse().ok()) {
                    Some(n) => n,
                    None => {
                        eprintln!("bench: --soak-seconds needs a number of seconds, e.g. 600");
                        std::process::exit(2);
                    }
                };
            } else if a == "--load-seconds" {
                load_seconds = match args.next().and_then(|n| n.parse().ok()) {
                    Some(n) if n > 0 => n,
                    _ => {
                        eprintln!("bench: --load-seconds needs a number of seconds, e.g. 60");
                        std::process::exit(2);
                    }
                };
            } else if SECTIONS.contains(&a.as_str()) {
                sections.push(a);
            } else {
                eprintln!(
                    "bench: unknown argument {a:?}; sections are {}, plus --conns N, --soak-seconds N and --load-seconds N",
                    SECTIONS.join(", ")
                );
                std::process::exit(2);
            }
        }
        Self {
            sections,
            conns,
            soak_seconds,
            load_seconds,
        }
    }

    fn wants(&self, section: &str) -> bool {
        self.sections.is_empty() || self.named(section)
    }

    fn named(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
}

fn main() {
    let only = Only::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    if ["sntp", "rss", "embedded"].iter().any(|s| only.wants(s)) {
        let chrony = start_chrony(free_udp_port(), "");
        process::sntp(&mut rows, &only, &chrony);
        if only.wants("embedded") {
            embedded::embedded(&mut rows, &chrony);
        }
    }
    if only.wants("probes") {
        probes::section(&mut rows);
    }
    if only.wants("web") {
        web::section(&mut rows);
    }
    if only.wants("icmp") {
        icmp::section(&mut rows);
    }
    if only.wants("nts") {
        nts::section(&mut rows);
    }
    if only.wants("oci") {
        oci::section(&mut rows);
    }
    if only.wants("watch") {
        watch::section(&mut rows);
    }
    if only.wants("echo") || only.wants("held") {
        echo::section(&rt, &mut rows, &only);
    }
    // Ten minutes by default: only when asked for by name.
    if only.named("soak") {
        soak::section(&mut rows, Duration::from_secs(only.soak_seconds));
    }
    // A minute and more of flooding: only when asked for by name.
    if only.named("watch-load") {
        watch_load::section(&mut rows, only.load_seconds);
    }
    print_table(&rows);
    println!(
        "\nmachine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
}
