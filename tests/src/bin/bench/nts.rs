//! NTS against chronyd 4.3 as an NTS server on loopback: `netkit sntp --nts`
//! (key exchange + query) beside `chronyd -Q … nts` and plain `netkit sntp`,
//! as processes; and, embedded, an NTS query with a kept session (one UDP
//! exchange) beside a fresh key exchange and a plain query.

use super::process::{Subject, subject_rows, time_subjects};
use super::*;
use netkit::nts::{NtsRequest, run};
use netkit::sntp::{Family, NtsOptions, QueryOptions, SntpClient};

/// The rows.
pub fn section(rows: &mut Vec<Row>) {
    let dir = std::env::temp_dir().join(format!("netkit-bench-nts-{}", std::process::id()));
    let pki = netkit_tests::pki::Pki::new(&dir);
    let leaf = pki.leaf("ntp", &["127.0.0.1"], -1, 30);
    let (chrony, ke) = start_nts_chrony(&["127.0.0.1"], &leaf.key, &leaf.chain, "");
    let port = chrony.port;
    let ca = pki.ca.clone();
    let plain = format!("127.0.0.1:{port}");
    let nts = format!("127.0.0.1:{ke}");
    let subjects = vec![
        Subject::new("netkit sntp (plain)", {
            let plain = plain.clone();
            move || {
                let mut c = Command::new(netkit());
                c.args(["sntp", &plain]);
                c
            }
        }),
        Subject::new("netkit sntp --nts (key exchange + query)", {
            let (nts, ca) = (nts.clone(), ca.clone());
            move || {
                let mut c = Command::new(netkit());
                c.args(["sntp", "--nts", &nts, "--ca"]).arg(&ca);
                c
            }
        }),
        Subject::new("chronyd -Q … nts (iburst, maxsamples 1)", {
            let ca = ca.clone();
            move || {
                let mut c = Command::new(chronyd());
                c.args(["-Q", "-f", "/dev/null"])
                    .arg(format!(
                        "server 127.0.0.1 port {port} iburst nts ntsport {ke} maxsamples 1"
                    ))
                    .arg(format!("ntstrustedcerts {}", ca.display()));
                c
            }
        }),
    ];
    let ms = time_subjects(&subjects, 10);
    subject_rows(rows, "NTS query, process", &subjects, &ms, |v| {
        format!("{:.2}x plain, {:.3}x chronyd -Q nts", v / ms[0], v / ms[2])
    });
    note(format!(
        "netkit sntp --nts: {} sntp --nts {nts} --ca {}",
        netkit().display(),
        ca.display()
    ));
    note(format!(
        "chronyd -Q nts: {} -Q -f /dev/null 'server 127.0.0.1 port {port} iburst nts ntsport {ke} maxsamples 1' 'ntstrustedcerts {}'",
        chronyd().display(),
        ca.display()
    ));
    embedded(rows, &ca, ke, port);
    drop(chrony);
}

/// Per query, in one process: plain, NTS with a kept session, NTS with a new key exchange.
fn embedded(rows: &mut Vec<Row>, ca: &std::path::Path, ke: u16, port: u16) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let host = netkit::runtime::Host::new().unwrap();
        let client = SntpClient::new(&host).unwrap();
        let query = QueryOptions {
            timeout_ms: 2000,
            tries: 1,
            samples: 1,
            burst: true,
            family: Family::Any,
        };
        let request = NtsRequest {
            ke_name: "127.0.0.1".into(),
            ke_addr: ([127, 0, 0, 1], ke).into(),
            options: NtsOptions {
                server_name: None,
                roots: netkit::tls::roots(Some(ca)).unwrap(),
                timeout_ms: 5000,
            },
            allowed: Vec::new(),
            query,
            budget: None,
        };
        let base =
            netkit::runtime::Sandbox::new("bench", netkit::policy::ResolvedPolicy::new(vec![]));
        const N: usize = 100;
        let mut plain = Vec::new();
        let mut kept = Vec::new();
        let mut fresh = Vec::new();
        let mut session = None;
        for i in 0..N + 5 {
            let t = Instant::now();
            let r = client
                .query(([127, 0, 0, 1], port).into(), &query)
                .await
                .unwrap();
            let plain_us = t.elapsed().as_secs_f64() * 1e6;
            assert!(r.is_ok(), "{r:?}");
            let t = Instant::now();
            let r = run(&client, &base, &request, session.take()).await.unwrap();
            let kept_us = t.elapsed().as_secs_f64() * 1e6;
            assert!(
                r.outcome.is_ok() && (i == 0 || r.key_exchanges == 0),
                "{:?}",
                r.outcome
            );
            session = r.session;
            let t = Instant::now();
            let r = run(&client, &base, &request, None).await.unwrap();
            let fresh_us = t.elapsed().as_secs_f64() * 1e6;
            assert!(r.outcome.is_ok(), "{:?}", r.outcome);
            if i >= 5 {
                plain.push(plain_us);
                kept.push(kept_us);
                fresh.push(fresh_us);
            }
        }
        let group = "NTS query, embedded (one process)";
        let base_us = median(plain.clone());
        for (what, v) in [
            ("SntpClient::query (plain)", plain),
            ("nts::run, session kept (no key exchange)", kept),
            ("nts::run, new key exchange", fresh),
        ] {
            let m = median(v);
            rows.push(Row {
                group,
                what: what.into(),
                value: m,
                unit: "µs",
                ratio: format!("{:.2}x plain", m / base_us),
            });
        }
    });
}
