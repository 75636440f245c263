//! Debian's nginx as the TLS and HTTP peer: one server block per site, each on
//! its own loopback port, run in the foreground from a config the test writes.

use crate::pki::Leaf;
use crate::{Peer, free_port, require, wait_for_tcp};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The nginx binary.
pub fn nginx() -> std::path::PathBuf {
    require("nginx", "apt-get install -y nginx")
}

/// One server block.
pub struct Site {
    /// The certificate (None: plain HTTP).
    pub tls: Option<Leaf>,
    /// `ssl_protocols`.
    pub protocols: &'static str,
    /// Directives inside the server block (locations); `{port:NAME}` becomes another site's port.
    pub body: String,
}

impl Site {
    /// A TLS site serving `body`.
    pub fn tls(leaf: &Leaf, body: &str) -> Site {
        Site {
            tls: Some(leaf.clone()),
            protocols: "TLSv1.2 TLSv1.3",
            body: body.into(),
        }
    }

    /// A plain HTTP site serving `body`.
    pub fn plain(body: &str) -> Site {
        Site {
            tls: None,
            protocols: "",
            body: body.into(),
        }
    }
}

/// A running nginx and its sites' addresses (in the order given).
pub struct Nginx {
    /// The process (stopped on drop).
    pub peer: Peer,
    /// One address per site.
    pub addrs: Vec<SocketAddr>,
}

/// Start nginx under `dir` with `sites`; `{port0}`, `{port1}`... in a body name the sites' ports.
pub fn start_nginx(dir: &Path, sites: &[Site]) -> Nginx {
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let addrs: Vec<SocketAddr> = sites
        .iter()
        .map(|_| ([127, 0, 0, 1], free_port()).into())
        .collect();
    let d = dir.display();
    let mut conf = format!(
        "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n  access_log off;\n  default_type text/plain;\n\
         client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n  fastcgi_temp_path {d}/tmp/fastcgi;\n\
         uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n"
    );
    for (site, addr) in sites.iter().zip(&addrs) {
        let mut body = site.body.clone();
        for (i, a) in addrs.iter().enumerate() {
            body = body.replace(&format!("{{port{i}}}"), &a.port().to_string());
        }
        match &site.tls {
            Some(leaf) => conf.push_str(&format!(
                "  server {{\n    listen {addr} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols {};\n{body}\n  }}\n",
                leaf.chain.display(),
                leaf.key.display(),
                site.protocols
            )),
            None => conf.push_str(&format!("  server {{\n    listen {addr};\n{body}\n  }}\n")),
        }
    }
    conf.push_str("}\n");
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let peer = Peer::start(
        "nginx",
        Command::new(nginx())
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&path),
    );
    for a in &addrs {
        wait_for_tcp(*a, Duration::from_secs(20));
    }
    // Some tests keep their nginx in a static, which is never dropped.
    crate::kill_group_at_exit(peer.pid());
    Nginx { peer, addrs }
}
