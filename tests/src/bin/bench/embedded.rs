//! The embedded SNTP query: instantiate + query per call, against the native exchange.

use super::*;

/// A transmit timestamp nobody else sends, to match chronyd's reply to our request.
pub(crate) fn rand_transmit() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

/// The in-process SNTP query through the embedding API, next to the same exchange
/// done natively, and the memory each in-flight instance costs.
///
/// Runs on a current-thread tokio runtime, as a plugin host driving guests from one
/// thread would (on a multi-thread runtime both the native exchange and netkit pay
/// cross-thread wake-ups, some 40-60 µs per call here).
/// The CPUs this process may run on.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the kernel fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(
        rc,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: CPU_ISSET reads the set filled above.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Let `pid` (0: the calling thread) run only on `cpus`.
pub(crate) fn pin(pid: u32, cpus: &[usize]) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        // SAFETY: `c` < CPU_SETSIZE (it came from allowed_cpus).
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let rc =
        unsafe { libc::sched_setaffinity(pid as libc::pid_t, std::mem::size_of_val(&set), &set) };
    assert_eq!(
        rc,
        0,
        "sched_setaffinity({pid}, {cpus:?}): {}",
        std::io::Error::last_os_error()
    );
}

/// µs per call over `calls` calls of `call` on `rt`, after 100 unmeasured ones.
pub(crate) fn per_call(
    rt: &tokio::runtime::Runtime,
    calls: usize,
    mut call: impl AsyncFnMut(),
) -> f64 {
    rt.block_on(async {
        for _ in 0..100 {
            call().await;
        }
        let start = Instant::now();
        for _ in 0..calls {
            call().await;
        }
        start.elapsed().as_secs_f64() * 1e6 / calls as f64
    })
}

/// In-process queries through the embedding API, against the native floor.
///
/// Where chronyd runs relative to the caller decides the floor on this VM: on the
/// caller's CPU an exchange is a local wake-up, on another idle CPU it costs two
/// cross-CPU wake-ups (~20 µs each here), and the scheduler picks either from run
/// to run. So both placements are measured, each for every subject, with the
/// calling thread (and the threads netkit starts from it) and chronyd pinned.
pub(crate) fn embedded(rows: &mut Vec<Row>, chrony: &Chrony) {
    use netkit::cache::CompileCache;
    use netkit::runtime::Host;
    use netkit::sntp::{Family, QueryOptions, SntpClient};
    const CALLS: usize = 2000;
    let addr: SocketAddr = ([127, 0, 0, 1], chrony.port).into();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = QueryOptions {
        timeout_ms: 2000,
        tries: 3,
        samples: 1,
        burst: true,
        family: Family::Any,
    };
    let client_for = |pooling: bool| {
        let nrt = Host::with_options(CompileCache::default_dir().map(CompileCache::new), pooling)
            .unwrap();
        SntpClient::new(&nrt).unwrap()
    };
    let cpus = allowed_cpus();
    let mut placements = vec![(
        "embedded sntp query, chronyd on the caller's CPU",
        cpus[0],
        cpus[0],
    )];
    if cpus.len() > 1 {
        placements.push((
            "embedded sntp query, chronyd on another CPU",
            cpus[0],
            cpus[1],
        ));
    }
    // The floor: the same exchange natively, a new socket per call as the component does.
    let native_once = async || {
        let sock = tokio::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
        sock.connect(addr).await.unwrap();
        let mut request = [0u8; 48];
        request[0] = 0x23; // LI 0, version 4, mode 3 (client)
        request[40..48].copy_from_slice(&rand_transmit().to_be_bytes());
        sock.send(&request).await.unwrap();
        let mut reply = [0u8; 68];
        let n = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut reply))
            .await
            .expect("chronyd did not answer within 2 s")
            .unwrap();
        assert!(n >= 48 && reply[24..32] == request[40..48], "not our reply");
    };
    for (group, caller, server) in placements {
        pin(0, &[caller]);
        pin(chrony.pid(), &[server]);
        let mut native = Vec::new();
        let mut netkit = [Vec::new(), Vec::new()];
        let clients = [client_for(false), client_for(true)];
        // Subjects take turns, ECHO_ROUNDS times; medians below.
        for _ in 0..ECHO_ROUNDS {
            native.push(per_call(&rt, CALLS, native_once));
            for (client, times) in clients.iter().zip(netkit.iter_mut()) {
                times.push(per_call(&rt, CALLS, async || {
                    client.query(addr, &options).await.unwrap().unwrap();
                }));
            }
        }
        let native_call = median(native);
        rows.push(Row {
            group,
            what: "native tokio UDP exchange with the same chronyd (floor)".into(),
            value: native_call,
            unit: "µs/call",
            ratio: "1.00x".into(),
        });
        for (pooling, times) in [false, true].into_iter().zip(netkit) {
            let allocator = if pooling { "pooling" } else { "on-demand" };
            let per_call = median(times);
            rows.push(Row {
                group,
                what: format!("instantiate + query (InstancePre, {allocator} allocator)"),
                value: per_call,
                unit: "µs/call",
                ratio: format!(
                    "{:.0} instances/s; {:.2}x the native exchange (+{:.0} µs)",
                    1e6 / per_call,
                    per_call / native_call,
                    per_call - native_call
                ),
            });
        }
    }
    pin(0, &cpus);
    pin(chrony.pid(), &cpus);
    let group = "embedded sntp query, memory";
    for pooling in [false, true] {
        let allocator = if pooling { "pooling" } else { "on-demand" };
        let client = client_for(pooling);
        // Memory per instance: IN_FLIGHT queries waiting on a port that never
        // answers, each with its own store, instance, socket and stack.
        const IN_FLIGHT: usize = 200;
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let silent_addr = silent.local_addr().unwrap();
        let wait = QueryOptions {
            timeout_ms: 1500,
            tries: 1,
            ..options
        };
        let (before, during) = rt.block_on(async {
            let before = rss_kib();
            let queries = (0..IN_FLIGHT).map(|_| client.query(silent_addr, &wait));
            let (during, outcomes) = futures::future::join(
                async {
                    tokio::time::sleep(Duration::from_millis(700)).await;
                    rss_kib()
                },
                futures::future::join_all(queries),
            )
            .await;
            for o in outcomes {
                assert!(
                    matches!(o, Ok(Err(netkit::sntp::SntpError::Timeout(_)))),
                    "a silent server must time out: {o:?}"
                );
            }
            (before, during)
        });
        rows.push(Row {
            group,
            what: format!("memory per in-flight instance ({allocator} allocator)"),
            value: (during.saturating_sub(before)) as f64 / IN_FLIGHT as f64,
            unit: "KiB",
            ratio: format!("RSS growth with {IN_FLIGHT} queries waiting, divided by {IN_FLIGHT}"),
        });
    }
}

/// This process's resident set in KiB.
pub(crate) fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages in /proc/self/statm");
    pages * 4
}
