//! The tcp prober's settings beyond a bare connect: its dialog
//! (`query_response`) and `tls` (a leaf: the run is `tcp_dialog.rs`).

/// A tcp module's dialog, as its `query_response` and `tls` say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dialog {
    /// The steps, in order.
    pub steps: Vec<tls_proto::dialog::Step>,
    /// TLS right after connecting (`tls: true`).
    pub tls: bool,
}

impl Dialog {
    /// Whether any TLS happens (so `tls_config` matters).
    pub fn uses_tls(&self) -> bool {
        self.tls || self.steps.iter().any(|s| s.starttls)
    }
}
