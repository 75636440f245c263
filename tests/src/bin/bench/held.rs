//! Connections held: 10,000 idle connections to netkit's echo server, and a probe answered.

use super::*;

/// Open 10,000 idle connections to netkit's echo server on `netkit_port`; a probe must still be answered.
pub fn row(rt: &tokio::runtime::Runtime, netkit_port: u16) -> Row {
    let held = rt.block_on(async {
        let addr: SocketAddr = ([127, 0, 0, 1], netkit_port).into();
        let mut idle = Vec::new();
        for _ in 0..10_000 {
            match TcpStream::connect(addr).await {
                Ok(s) => idle.push(s),
                Err(e) => {
                    eprintln!("bench: connection {} failed: {e}", idle.len() + 1);
                    break;
                }
            }
        }
        // A probe must still be answered while all of them stay open.
        let mut probe = TcpStream::connect(addr).await.expect("probe connect");
        probe.write_all(b"probe").await.expect("probe write");
        let mut back = [0u8; 5];
        let answered = tokio::time::timeout(Duration::from_secs(10), probe.read_exact(&mut back))
            .await
            .is_ok_and(|r| r.is_ok());
        (idle.len(), answered)
    });
    Row {
        group: "connections held",
        what: "netkit echo-server: idle connections open".into(),
        value: held.0 as f64,
        unit: "connections",
        ratio: if held.1 {
            "probe answered".into()
        } else {
            "probe NOT answered".into()
        },
    }
}
