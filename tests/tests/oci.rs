//! Components from OCI registries, against a real one on loopback (Debian's
//! docker-registry, distribution 2.8) with the `oras` Python SDK as the other
//! client: pushed by oras and run by netkit, pushed by netkit and pulled by oras
//! byte-identical, tampered blobs refused, moved tags followed, every registry
//! failure one clear line, digest references offline.

use netkit_tests::registry::{Registry, oras, start_registry, start_tls_registry};
use netkit_tests::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const CONFIG_TYPE: &str = "application/vnd.wasm.config.v0+json";

/// A fresh, owner-only cache directory for one test (so every pull is a real one).
fn cache_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netkit-oci-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `netkit ARGS…` with its own cache directory.
fn netkit_in(cache: &Path, args: &[&str]) -> Output {
    Command::new(netkit())
        .env("NETKIT_CACHE_DIR", cache)
        .args(args)
        .output()
        .expect("run netkit")
}

/// The SHA-256 of a built-in component's file.
fn component_digest(name: &str) -> String {
    netkit::oci::store::sha256(&std::fs::read(components_dir().join(name)).unwrap())
}

/// A wasm config for `file` claiming `imports` (oras writes the config as given).
fn wasm_config(dir: &Path, file: &Path, imports: &[&str]) -> String {
    let bytes = std::fs::read(file).unwrap();
    let digest = netkit::oci::store::sha256(&bytes);
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        serde_json::json!({
            "architecture": "wasm", "os": "wasip2", "layerDigests": [digest],
            "component": { "imports": imports, "exports": ["wasi:cli/run@0.2.6"] }
        })
        .to_string(),
    )
    .unwrap();
    format!("{}:{CONFIG_TYPE}", path.display())
}

/// oras pushes `wasm` as REPO:TAG in the wasm layout; the manifest digest.
fn oras_push(reg: &Registry, repo_tag: &str, wasm: &Path) -> String {
    let dir = std::env::temp_dir().join(format!(
        "netkit-oras-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = wasm_config(&dir, wasm, &["wasi:sockets/udp@0.2.6"]);
    let digest = oras(&[
        "push",
        &format!("{}/{repo_tag}", reg.host()),
        &format!("{}:application/wasm", wasm.display()),
        "--config",
        &config,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    digest
}

fn one_line_error(out: &Output, says: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "something ran: {}",
        text(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("netkit: "), "{stderr}");
    assert!(stderr.contains(says), "expected {says:?} in: {stderr}");
    assert!(
        !stderr.contains("granted"),
        "a sandbox was set up: {stderr}"
    );
}

#[test]
fn a_component_pushed_by_oras_runs_under_netkit_pinned_to_its_digest() {
    let reg = start_registry();
    let chrony = start_chrony(free_udp_port(), "");
    let server = format!("127.0.0.1:{}", chrony.port);
    let digest = oras_push(
        &reg,
        "probes/sntp-client:v1",
        &components_dir().join("sntp-client.wasm"),
    );
    let cache = cache_dir("oras-runs");
    let tag = format!("oci://{}/probes/sntp-client:v1", reg.host());
    let pinned = format!("oci://{}/probes/sntp-client@{digest}", reg.host());

    let out = netkit_in(
        &cache,
        &[
            "--audit",
            "run",
            "--insecure-registry",
            &reg.host(),
            "--allow",
            &format!("udp://{server}"),
            &tag,
            "--",
            &server,
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(" s10 no-leap"), "{stdout}");
    assert!(
        stderr.contains(&format!("component {tag} is {pinned} (pulled)")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("audit of sntp-client ({pinned}):")),
        "{stderr}"
    );

    // The same through --component of a built-in command, in JSON.
    let out = netkit_in(
        &cache,
        &[
            "sntp",
            "--component",
            &tag,
            "--insecure-registry",
            &reg.host(),
            &server,
            "--json",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["ok"], true, "{json}");
    assert_eq!(json["component"]["digest"], digest.as_str(), "{json}");
    assert_eq!(json["component"]["pinned"], pinned.as_str(), "{json}");
    assert_eq!(json["component"]["reference"], tag.as_str(), "{json}");
    assert_eq!(
        json["component"]["component_digest"],
        component_digest("sntp-client.wasm").as_str()
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn netkit_pushes_what_oras_pulls_byte_identical_and_pushes_reproducibly() {
    let reg = start_registry();
    let cache = cache_dir("push");
    let prefix = format!("oci://{}/netkit", reg.host());
    let push = || {
        let out = netkit_in(
            &cache,
            &[
                "components",
                "push",
                &prefix,
                "--insecure-registry",
                &reg.host(),
                "--tag",
                "t1",
                "--json",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    let first = push();
    let pushed = first["pushed"].as_array().expect("pushed");
    assert_eq!(pushed.len(), 10, "{first}");
    let out_dir = std::env::temp_dir().join(format!("netkit-oras-pull-{}", std::process::id()));
    for p in pushed {
        let name = p["component"].as_str().unwrap();
        let target = format!("{}/netkit/{name}:t1", reg.host());
        let files = oras(&["pull", &target, &out_dir.join(name).display().to_string()]);
        let file = PathBuf::from(files.lines().next().expect("oras pulled a file"));
        let ours = std::fs::read(components_dir().join(format!("{name}.wasm"))).unwrap();
        assert_eq!(
            std::fs::read(&file).unwrap(),
            ours,
            "{name}: oras pulled other bytes"
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&oras(&["manifest", &target])).unwrap();
        assert_eq!(manifest["config"]["mediaType"], CONFIG_TYPE);
        assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
        assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
        let a = &manifest["annotations"];
        assert_eq!(
            a["org.opencontainers.image.version"],
            env!("CARGO_PKG_VERSION"),
            "{a}"
        );
        assert_eq!(a["org.opencontainers.image.licenses"], "Apache-2.0", "{a}");
        assert!(
            a["org.opencontainers.image.description"]
                .as_str()
                .unwrap()
                .starts_with("netkit's"),
            "{a}"
        );
    }
    // The same components give the same digests: a push can be checked by anyone.
    let again = push();
    for (a, b) in pushed.iter().zip(again["pushed"].as_array().unwrap()) {
        assert_eq!(a["digest"], b["digest"], "{a} vs {b}");
    }
    // And netkit's own push runs under netkit, its config matching the binary.
    let out = netkit_in(
        &cache,
        &[
            "inspect",
            "--insecure-registry",
            &reg.host(),
            &format!("{prefix}/dns-probe:t1"),
            "--json",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["config_differs"], serde_json::json!([]), "{json}");
    let _ = std::fs::remove_dir_all(&out_dir);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_blob_edited_in_the_registry_is_refused_and_nothing_runs() {
    let reg = start_registry();
    let wasm = components_dir().join("sntp-client.wasm");
    oras_push(&reg, "probes/sntp-client:v1", &wasm);
    let layer = netkit::oci::store::sha256(&std::fs::read(&wasm).unwrap());
    let path = reg.blob_path(&layer);
    let mut bytes = std::fs::read(&path).expect("the blob in the registry's storage");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let cache = cache_dir("tamper");
    let server = format!("127.0.0.1:{}", free_udp_port());
    let out = netkit_in(
        &cache,
        &[
            "run",
            "--insecure-registry",
            &reg.host(),
            "--allow",
            &format!("udp://{server}"),
            &format!("oci://{}/probes/sntp-client:v1", reg.host()),
            "--",
            &server,
        ],
    );
    one_line_error(
        &out,
        &format!("digest mismatch: the manifest names blob {layer}"),
    );
    // Nothing of it was kept.
    assert!(!cache.join("oci").join(layer.replace(':', "-")).exists());
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_moved_tag_shows_the_new_digest() {
    let reg = start_registry();
    let cache = cache_dir("moved");
    let tag = format!("oci://{}/probes/p:stable", reg.host());
    let inspect_digest = || {
        let out = netkit_in(
            &cache,
            &[
                "inspect",
                "--insecure-registry",
                &reg.host(),
                &tag,
                "--json",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            json["registry"]["digest"].as_str().unwrap().to_string(),
            json["component"]["digest"].as_str().unwrap().to_string(),
        )
    };
    let d1 = oras_push(
        &reg,
        "probes/p:stable",
        &components_dir().join("tcp-probe.wasm"),
    );
    assert_eq!(inspect_digest().0, d1);
    let d2 = oras_push(
        &reg,
        "probes/p:stable",
        &components_dir().join("udp-probe.wasm"),
    );
    assert_ne!(d1, d2);
    let (manifest, component) = inspect_digest();
    assert_eq!(manifest, d2, "the cache answered for a tag");
    assert_eq!(component, component_digest("udp-probe.wasm"));
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn registry_failures_are_each_one_clear_line() {
    let mut reg = start_registry();
    let host = reg.host();
    let cache = cache_dir("errors");
    let wasm = components_dir().join("sntp-client.wasm");
    let run = |reference: &str, env: &[(&str, &str)]| {
        let mut cmd = Command::new(netkit());
        cmd.env("NETKIT_CACHE_DIR", &cache);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(["run", "--insecure-registry", &host, reference])
            .output()
            .unwrap()
    };
    // Not there.
    one_line_error(
        &run(&format!("oci://{host}/nothing/here:v1"), &[]),
        "not in the registry",
    );
    // A plain OCI image config, not the wasm one.
    let dir = std::env::temp_dir().join(format!("netkit-oci-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("image.json");
    std::fs::write(&cfg, "{}").unwrap();
    oras(&[
        "push",
        &format!("{host}/bad/image:v1"),
        &format!("{}:application/wasm", wasm.display()),
        "--config",
        &format!("{}:application/vnd.oci.image.config.v1+json", cfg.display()),
    ]);
    one_line_error(
        &run(&format!("oci://{host}/bad/image:v1"), &[]),
        "config media type is \"application/vnd.oci.image.config.v1+json\"",
    );
    // A layer of another media type.
    let config = wasm_config(&dir, &wasm, &[]);
    oras(&[
        "push",
        &format!("{host}/bad/tar:v1"),
        &format!(
            "{}:application/vnd.oci.image.layer.v1.tar+gzip",
            wasm.display()
        ),
        "--config",
        &config,
    ]);
    one_line_error(
        &run(&format!("oci://{host}/bad/tar:v1"), &[]),
        "layer media type",
    );
    // Two layers.
    let other = components_dir().join("tcp-probe.wasm");
    oras(&[
        "push",
        &format!("{host}/bad/two:v1"),
        &format!("{}:application/wasm", wasm.display()),
        &format!("{}:application/wasm", other.display()),
        "--config",
        &config,
    ]);
    one_line_error(
        &run(&format!("oci://{host}/bad/two:v1"), &[]),
        "has 2 layers",
    );
    // Over the size netkit pulls.
    oras_push(&reg, "big/sntp:v1", &wasm);
    one_line_error(
        &run(
            &format!("oci://{host}/big/sntp:v1"),
            &[("NETKIT_OCI_MAX_SIZE", "1MiB")],
        ),
        "over the 1 MiB netkit pulls",
    );
    // A manifest that says the blob is smaller than it is: cut off at what it says.
    let manifest: serde_json::Value =
        serde_json::from_str(&oras(&["manifest", &format!("{host}/big/sntp:v1")])).unwrap();
    let mut lying = manifest.clone();
    lying["layers"][0]["size"] = serde_json::json!(1000);
    let lie = dir.join("lying.json");
    std::fs::write(&lie, lying.to_string()).unwrap();
    oras(&[
        "put-manifest",
        &format!("{host}/big/sntp:lying"),
        &lie.display().to_string(),
    ]);
    one_line_error(
        &run(&format!("oci://{host}/big/sntp:lying"), &[]),
        "is larger than its manifest says (1000 bytes)",
    );
    // A digest the registry does not have.
    let zero = format!("sha256:{}", "0".repeat(64));
    one_line_error(
        &run(&format!("oci://{host}/big/sntp@{zero}"), &[]),
        "not in the registry",
    );
    // Plain HTTP without --insecure-registry: HTTPS is tried, and the way out named.
    let out = netkit_in(&cache, &["run", &format!("oci://{host}/big/sntp:v1")]);
    one_line_error(&out, &format!("--insecure-registry {host}"));
    // A bad reference.
    let out = netkit_in(&cache, &["run", "oci://Bad_Host!/x:v1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not HOST[:PORT]"),
        "{}",
        text(&out.stderr)
    );
    // Nobody there.
    reg.stop();
    one_line_error(
        &run(&format!("oci://{host}/big/sntp:v1"), &[]),
        &format!("cannot reach registry {host}: connection refused"),
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_digest_reference_runs_with_the_registry_stopped() {
    let mut reg = start_registry();
    let chrony = start_chrony(free_udp_port(), "");
    let server = format!("127.0.0.1:{}", chrony.port);
    let digest = oras_push(
        &reg,
        "probes/sntp-client:v1",
        &components_dir().join("sntp-client.wasm"),
    );
    let cache = cache_dir("offline");
    let pinned = format!("oci://{}/probes/sntp-client@{digest}", reg.host());
    let host = reg.host();
    let run = |reference: &str| {
        netkit_in(
            &cache,
            &[
                "run",
                "--insecure-registry",
                &host,
                "--allow",
                &format!("udp://{server}"),
                reference,
                "--",
                &server,
            ],
        )
    };
    let out = run(&pinned);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("component {pinned} (pulled)")),
        "{}",
        text(&out.stderr)
    );
    reg.stop();
    let out = run(&pinned);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("component {pinned} (from the cache)")),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(" s10 no-leap"),
        "{}",
        text(&out.stdout)
    );
    // A tag is always asked: with the registry gone it fails, clearly.
    let out = run(&format!("oci://{}/probes/sntp-client:v1", reg.host()));
    one_line_error(&out, "cannot reach registry");
    // A cache entry edited on disk is not trusted: it is pulled again (and here fails).
    let entry = cache
        .join("oci")
        .join(component_digest("sntp-client.wasm").replace(':', "-"));
    let mut bytes = std::fs::read(&entry).expect("the component in the cache");
    bytes[100] ^= 1;
    std::fs::write(&entry, &bytes).unwrap();
    one_line_error(&run(&pinned), "cannot reach registry");
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn inspect_reads_the_binary_and_shows_where_the_config_claims_otherwise() {
    let reg = start_registry();
    let cache = cache_dir("inspect");
    let wasm = components_dir().join("sntp-client.wasm");
    // oras's config claims an import the component does not have and omits the rest.
    let dir = std::env::temp_dir().join(format!("netkit-oci-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = wasm_config(&dir, &wasm, &["wasi:filesystem/types@0.2.6"]);
    oras(&[
        "push",
        &format!("{}/claims/sntp:v1", reg.host()),
        &format!("{}:application/wasm", wasm.display()),
        "--config",
        &config,
    ]);
    let out = netkit_in(
        &cache,
        &[
            "inspect",
            "--insecure-registry",
            &reg.host(),
            &format!("oci://{}/claims/sntp:v1", reg.host()),
            "--allow",
            "udp://127.0.0.1:123",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let differs = json["config_differs"].to_string();
    assert!(
        differs.contains(
            "the config claims it imports wasi:filesystem/types@0.2.6; the binary does not"
        ),
        "{differs}"
    );
    assert!(
        differs.contains("the binary imports wasi:sockets/udp@"),
        "{differs}"
    );
    let exports = json["component"]["exports"].as_array().unwrap();
    let typed = exports
        .iter()
        .find(|e| {
            e["name"]
                .as_str()
                .unwrap()
                .starts_with("netkit:diag/sntp-client")
        })
        .expect("its typed interface");
    assert!(
        typed["functions"].to_string().contains("query: func("),
        "{typed}"
    );
    assert_eq!(json["instantiates"], true);
    assert!(
        json["under_grants"]["reach"]
            .as_str()
            .unwrap()
            .contains("udp://127.0.0.1:123"),
        "{json}"
    );
    let gives = json["under_grants"]["gives"].to_string();
    assert!(gives.contains("no environment variables"), "{gives}");
    // The text form, of a file.
    let out = netkit_in(&cache, &["inspect", &wasm.display().to_string()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("digest      sha256:"), "{stdout}");
    assert!(stdout.contains("producer    language: Rust"), "{stdout}");
    assert!(stdout.contains("runs here   yes"), "{stdout}");
    // The ping component imports netkit's ICMP capability: shown as such.
    let out = netkit_in(
        &cache,
        &[
            "inspect",
            &components_dir().join("ping.wasm").display().to_string(),
            "--no-grants",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("netkit:icmp/echo"), "{stdout}");
    assert!(
        stdout.contains("ICMP echo to icmp:// grants only"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn watch_follows_a_moved_tag_on_reload_and_keeps_its_component_when_the_pull_fails() {
    let mut reg = start_registry();
    let d1 = oras_push(
        &reg,
        "probes/custom:v1",
        &components_dir().join("tcp-probe.wasm"),
    );
    let dir = std::env::temp_dir().join(format!("netkit-oci-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    let up = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = up.local_addr().unwrap();
    std::fs::write(
        &config,
        format!(
            "insecure_registries = [\"{host}\"]\n\n[[probe]]\nname = \"custom\"\nkind = \"component\"\ncomponent = \"oci://{host}/probes/custom:v1\"\ntarget = \"{target}\"\nargs = [\"{{target}}\"]\nallow = [\"tcp-connect://{{target}}\"]\ninterval = \"1s\"\n",
            host = reg.host()
        ),
    )
    .unwrap();
    let (mut watch, listen) = start_netkit_watch(&config);
    let tag = format!("oci://{}/probes/custom:v1", reg.host());
    watch.wait_for_stderr(
        &format!("component {tag} is oci://{}/probes/custom@{d1}", reg.host()),
        Duration::from_secs(30),
    );
    let d2 = oras_push(
        &reg,
        "probes/custom:v1",
        &components_dir().join("udp-probe.wasm"),
    );
    let (s, body) = http("POST", listen, "/-/reload");
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("0 added, 1 changed, 0 removed, 0 unchanged"),
        "{body}"
    );
    watch.wait_for_stderr(
        &format!("component {tag} is oci://{}/probes/custom@{d2}", reg.host()),
        Duration::from_secs(30),
    );
    // The registry goes away: the reload still succeeds and the probe keeps running.
    reg.stop();
    let (s, body) = http("POST", listen, "/-/reload");
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("1 unchanged"), "{body}");
    watch.wait_for_stderr(
        "keeping the component it runs: cannot reach registry",
        Duration::from_secs(30),
    );
    // It still runs on its schedule.
    let start = std::time::Instant::now();
    loop {
        let m = http("GET", listen, "/metrics").1;
        if metric_sample(&m, "netkit_probe_runs_total", "probe=\"custom\"")
            .is_some_and(|n| n >= 1.0)
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the probe stopped running: {m}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn https_is_the_default_and_its_certificate_is_verified() {
    let dir = std::env::temp_dir().join(format!("netkit-oci-pki-{}", std::process::id()));
    let pki = netkit_tests::pki::Pki::new(&dir);
    let leaf = pki.leaf("registry", &["127.0.0.1"], -1, 30);
    let reg = start_tls_registry(&leaf.chain, &leaf.key);
    let cache = cache_dir("tls");
    let prefix = format!("oci://{}/netkit", reg.host());
    // Trusted through the bundle SSL_CERT_FILE names (rustls-native-certs reads it).
    let push = Command::new(netkit())
        .env("NETKIT_CACHE_DIR", &cache)
        .env("SSL_CERT_FILE", &pki.ca)
        .args(["components", "push", &prefix, "--tag", "v1", "--json"])
        .output()
        .unwrap();
    assert!(push.status.success(), "{}", text(&push.stderr));
    let chrony = start_chrony(free_udp_port(), "");
    let server = format!("127.0.0.1:{}", chrony.port);
    let run = Command::new(netkit())
        .env("NETKIT_CACHE_DIR", &cache)
        .env("SSL_CERT_FILE", &pki.ca)
        .args([
            "sntp",
            "--component",
            &format!("{prefix}/sntp-client:v1"),
            &server,
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    // Without that CA the certificate does not verify: refused, one line.
    let out = netkit_in(&cache, &["inspect", &format!("{prefix}/sntp-client:v1")]);
    one_line_error(
        &out,
        &format!("cannot verify registry {}'s certificate", reg.host()),
    );
    // And --insecure-registry means plain HTTP, which this registry does not speak.
    let out = netkit_in(
        &cache,
        &[
            "inspect",
            "--insecure-registry",
            &reg.host(),
            &format!("{prefix}/sntp-client:v1"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn an_endless_manifest_is_cut_off_at_its_limit() {
    let (_hostile, host) = hostile_registry(&[]);
    let cache = cache_dir("endless");
    let out = inspect_insecure(&cache, &host);
    one_line_error(
        &out,
        "the registry sent a manifest over the 1 MiB netkit reads",
    );
    let _ = std::fs::remove_dir_all(&cache);
}

/// `netkit inspect oci://HOST/x/y:v1` of a plain-HTTP registry, with its own cache.
fn inspect_insecure(cache: &Path, host: &str) -> Output {
    netkit_in(
        cache,
        &[
            "inspect",
            "--insecure-registry",
            host,
            &format!("oci://{host}/x/y:v1"),
        ],
    )
}

/// `tests/hostile_registry.py` in `mode`, on a free port: the peer and its `HOST:PORT`.
fn hostile_registry(mode: &[&str]) -> (Peer, String) {
    hostile_registry_on(free_port(), mode)
}

/// `tests/hostile_registry.py` in `mode` on `port`.
fn hostile_registry_on(port: u16, mode: &[&str]) -> (Peer, String) {
    let peer = Peer::start(
        "hostile registry",
        Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("hostile_registry.py"))
            .arg(port.to_string())
            .args(mode),
    );
    wait_for_tcp(([127, 0, 0, 1], port).into(), Duration::from_secs(10));
    (peer, format!("127.0.0.1:{port}"))
}

/// A listener that counts the connections made to it.
fn tripwire() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for _ in l.incoming() {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (addr, hits)
}

#[test]
fn a_token_realm_elsewhere_gets_no_credentials_and_no_connection() {
    // Issue 31: a registry's challenge with realm="http://127.0.0.1:OTHER/token"
    // received NETKIT_REGISTRY_USERNAME/_PASSWORD there, in clear; a realm of
    // http://169.254.169.254/… was connected to.
    let (elsewhere, hits) = tripwire();
    for realm in [
        format!("http://{elsewhere}/token"),
        format!("https://{elsewhere}/token"),
        "http://169.254.169.254/latest/meta-data/token".to_string(),
    ] {
        let (_hostile, host) = hostile_registry(&["realm", &realm]);
        let cache = cache_dir("realm");
        let out = Command::new(netkit())
            .env("NETKIT_CACHE_DIR", &cache)
            .env("NETKIT_REGISTRY_USERNAME", "bob")
            .env("NETKIT_REGISTRY_PASSWORD", "hunter2")
            .args(["inspect", "--insecure-registry", &host])
            .arg(format!("oci://{host}/x/y:v1"))
            .output()
            .unwrap();
        one_line_error(&out, "not followed");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("NETKIT_REGISTRY_ALLOW_HOSTS"), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        let _ = std::fs::remove_dir_all(&cache);
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "netkit connected to the realm elsewhere"
    );
    // A realm on the registry itself is used: its token opens the (endless) manifest.
    let port = free_port();
    let own = format!("http://127.0.0.1:{port}/token");
    let (_own, host) = hostile_registry_on(port, &["realm", &own]);
    let cache = cache_dir("realm-own");
    let out = inspect_insecure(&cache, &host);
    one_line_error(&out, "over the 1 MiB netkit reads");
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_blob_redirect_elsewhere_is_not_followed() {
    // Issue 31: a 307 for a blob was followed to another port, from HTTPS down
    // to HTTP, and to link-local addresses.
    let (elsewhere, hits) = tripwire();
    for to in [
        format!("http://{elsewhere}/blob"),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ] {
        let (_hostile, host) = hostile_registry(&["redirect", &to]);
        let cache = cache_dir("redirect");
        let out = inspect_insecure(&cache, &host);
        one_line_error(&out, "not followed");
        let _ = std::fs::remove_dir_all(&cache);
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn a_dripping_registry_is_cut_off_at_the_pull_timeout() {
    // Issue 31: a manifest dripping at 1 B/s hung netkit inspect (and watch's reloads).
    let (_hostile, host) = hostile_registry(&["drip"]);
    let cache = cache_dir("drip");
    let start = std::time::Instant::now();
    let out = Command::new(netkit())
        .env("NETKIT_CACHE_DIR", &cache)
        .env("NETKIT_OCI_TIMEOUT", "2s")
        .args(["inspect", "--insecure-registry", &host])
        .arg(format!("oci://{host}/x/y:v1"))
        .output()
        .unwrap();
    one_line_error(&out, "NETKIT_OCI_TIMEOUT");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn watch_does_not_hang_on_a_dripping_registry() {
    // Issue 31: in watch, a manifest dripping at 1 B/s blocked start and every
    // later reload; the pull now ends at NETKIT_OCI_TIMEOUT.
    let (_hostile, host) = hostile_registry(&["drip"]);
    let dir = cache_dir("drip-watch");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        format!(
            "insecure_registries = [\"{host}\"]\n\n[[probe]]\nname = \"custom\"\nkind = \"component\"\ncomponent = \"oci://{host}/x/y:v1\"\ntarget = \"127.0.0.1:9\"\nallow = [\"tcp-connect://{{target}}\"]\ninterval = \"1s\"\n"
        ),
    )
    .unwrap();
    // Peer::wait panics if it has not exited within the limit.
    let done = Peer::start(
        "netkit watch",
        Command::new(netkit())
            .env("NETKIT_CACHE_DIR", dir.join("cache"))
            .env("NETKIT_OCI_TIMEOUT", "2s")
            .args(["watch", "--config"])
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{}", free_port())]),
    )
    .wait(Duration::from_secs(30));
    let stderr = done.stderr;
    assert!(!done.success, "{stderr}");
    assert!(stderr.contains("NETKIT_OCI_TIMEOUT"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
