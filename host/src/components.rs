//! The guest components built by `build.rs` and embedded in the binary.

/// A component shipped inside netkit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `echo-server.wasm`: concurrent TCP echo and UDP echo.
    EchoServer,
    /// `echo-client.wasm`: verified echo round trips.
    EchoClient,
    /// `sntp-client.wasm`: validated SNTP queries.
    SntpClient,
    /// `sntp-server.wasm`: SNTP answers from the wall clock.
    SntpServer,
}

impl Builtin {
    /// Every embedded component.
    pub const ALL: [Builtin; 4] = [
        Builtin::EchoServer,
        Builtin::EchoClient,
        Builtin::SntpClient,
        Builtin::SntpServer,
    ];

    /// File name used by `netkit components --out`.
    pub fn file_name(self) -> &'static str {
        match self {
            Builtin::EchoServer => "echo-server.wasm",
            Builtin::EchoClient => "echo-client.wasm",
            Builtin::SntpClient => "sntp-client.wasm",
            Builtin::SntpServer => "sntp-server.wasm",
        }
    }

    /// The component's bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Builtin::EchoServer => include_bytes!(env!("NETKIT_ECHO_SERVER_WASM")),
            Builtin::EchoClient => include_bytes!(env!("NETKIT_ECHO_CLIENT_WASM")),
            Builtin::SntpClient => include_bytes!(env!("NETKIT_SNTP_CLIENT_WASM")),
            Builtin::SntpServer => include_bytes!(env!("NETKIT_SNTP_SERVER_WASM")),
        }
    }
}
