//! ICMP echo: `netkit ping -c 1` against iputils `ping -c 1` as processes, and
//! `netkit watch` icmp probes per CPU-second against blackbox_exporter's icmp
//! module, both on 127.0.0.1.

use super::*;

/// The rows.
pub fn section(rows: &mut Vec<Row>) {
    require_ping_group();
    let group = "ping 127.0.0.1, process";
    let ping_ms = process::time_process(30, || {
        let mut c = Command::new(iputils_ping());
        c.args(["-c", "1", "127.0.0.1"]);
        c
    });
    let netkit_ms = process::time_process(30, || {
        let mut c = Command::new(netkit());
        c.args(["ping", "-c", "1", "127.0.0.1"]);
        c
    });
    for (what, ms) in [
        ("iputils ping -c 1", ping_ms),
        ("netkit ping -c 1 (cache warm)", netkit_ms),
    ] {
        rows.push(Row {
            group,
            what: what.into(),
            value: ms,
            unit: "ms",
            ratio: format!("{:.2}x ping", ms / ping_ms),
        });
    }
    note(format!("ping: {} -c 1 127.0.0.1", iputils_ping().display()));
    note(format!(
        "netkit ping: {} ping -c 1 127.0.0.1",
        netkit().display()
    ));

    let dir = std::env::temp_dir().join(format!("netkit-bench-icmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        "[[probe]]\nname = \"lo\"\nkind = \"icmp\"\ntarget = \"127.0.0.1\"\ninterval = \"1h\"\ntimeout = \"5s\"\n",
    )
    .unwrap();
    let bb_config = dir.join("blackbox.yml");
    std::fs::write(
        &bb_config,
        "modules:\n  icmp:\n    prober: icmp\n    timeout: 5s\n    icmp:\n      preferred_ip_protocol: ip4\n",
    )
    .unwrap();
    let (watch, watch_addr) = start_netkit_watch(&config);
    let (bb, bb_addr) = start_blackbox_exporter(&bb_config);
    let ours = super::watch::load(watch_addr, "/probe?module=lo", watch.pid());
    let theirs = super::watch::load(bb_addr, "/probe?module=icmp&target=127.0.0.1", bb.pid());
    let group = "watch icmp /probe, 4 clients";
    super::watch::versus_blackbox(rows, group, ("icmp", "icmp"), ours, theirs);
}
