//! What netkit's command line and its components' own share: the flags of each
//! diagnostic as clap definitions ([`flags`]), flattened into both, and the units
//! their values take ([`units`]). A flag means the same everywhere because it is
//! defined once.

pub mod flags;
pub mod units;

pub use units::*;
