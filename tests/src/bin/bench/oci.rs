//! Components from a registry (docker-registry on loopback, plain HTTP): one
//! `netkit run` of the SNTP client against chronyd from a local file, from a
//! digest reference already in the cache (no request), from a tag (one manifest
//! request, the component cached), and a first pull (manifest, config and the
//! 2.2 MB component; the compile cache warm in every row, so only the pull differs).

use super::process::{Subject, subject_rows, time_subjects};
use super::*;
use netkit_tests::registry::{oras, start_registry};

/// The rows.
pub fn section(rows: &mut Vec<Row>) {
    let reg = start_registry();
    let chrony = start_chrony(free_udp_port(), "");
    let server = format!("127.0.0.1:{}", chrony.port);
    let wasm = components_dir().join("sntp-client.wasm");
    let dir = std::env::temp_dir().join(format!("netkit-bench-oci-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"architecture":"wasm","os":"wasip2"}"#).unwrap();
    let digest = oras(&[
        "push",
        &format!("{}/bench/sntp-client:v1", reg.host()),
        &format!("{}:application/wasm", wasm.display()),
        "--config",
        &format!("{}:application/vnd.wasm.config.v0+json", config.display()),
    ]);
    let cache = dir.join("cache");
    let tag = format!("oci://{}/bench/sntp-client:v1", reg.host());
    let pinned = format!("oci://{}/bench/sntp-client@{digest}", reg.host());
    let run = {
        let (cache, server, host) = (cache.clone(), server.clone(), reg.host());
        move |component: &str| {
            let mut c = Command::new(netkit());
            c.env("NETKIT_CACHE_DIR", &cache).args([
                "run",
                "--insecure-registry",
                &host,
                "--allow",
                &format!("udp://{server}"),
                component,
                "--",
                &server,
            ]);
            c
        }
    };
    let subjects = vec![
        Subject::new("netkit run FILE (local file)", {
            let (run, wasm) = (run.clone(), wasm.display().to_string());
            move || run(&wasm)
        }),
        Subject::new("netkit run oci://…@sha256 (cached: no request)", {
            let (run, pinned) = (run.clone(), pinned.clone());
            move || run(&pinned)
        }),
        Subject::new(
            "netkit run oci://…:tag (manifest asked, component cached)",
            {
                let (run, tag) = (run.clone(), tag.clone());
                move || run(&tag)
            },
        ),
        Subject::new("netkit run oci://…:tag (first pull, 2.2 MB)", {
            let (run, tag, store) = (run.clone(), tag.clone(), cache.join("oci"));
            move || {
                // Before the clock starts: the pulled blobs go, the compiled code stays.
                let _ = std::fs::remove_dir_all(&store);
                run(&tag)
            }
        }),
    ];
    let ms = time_subjects(&subjects, 20);
    subject_rows(
        rows,
        "component from a registry (netkit run, SNTP query)",
        &subjects,
        &ms,
        |v| format!("{:.2}x local file", v / ms[0]),
    );
    note(format!(
        "registry: docker-registry (distribution 2.8) on {}, pushed by oras; cache {}",
        reg.host(),
        cache.display()
    ));
    drop(chrony);
    drop(reg);
    let _ = std::fs::remove_dir_all(&dir);
}
