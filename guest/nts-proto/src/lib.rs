//! Sans-IO Network Time Security (RFC 8915) for netkit's SNTP client.
//!
//! - [`ke`]: the NTS-KE records (request, a response read as it arrives, the
//!   keys' exporter context), run over TLS 1.3 by the caller.
//! - [`ef`]: NTP extension fields (RFC 7822) as NTS uses them.
//! - [`protect`]: an NTS-protected request and the check of its reply (unique
//!   identifier, AES-SIV authenticator, the encrypted fresh cookies).
//! - [`NtsExchange`]: sntp-proto's exchange with every request protected and
//!   every reply authenticated; forged, replayed or NAKed replies are ignored
//!   while the real one may still come, and named if nothing else does.
//! - [`server`]: which negotiated NTP server may be reached (least privilege).
//!
//! No sockets, clocks, TLS or randomness here: callers pass bytes, instants
//! and random values in. Builds natively (tests, fuzzing) and for wasm32-wasip2.

mod aead;
pub mod ef;
mod exchange;
pub mod ke;
pub mod protect;
pub mod server;
pub mod text;

pub use aead::{AEAD_AES_SIV_CMAC_256, Aead, KEY_LEN, aead_name};
pub use exchange::{CookieJar, MAX_COOKIES, NtsError, NtsExchange, NtsOutcome};
pub use protect::Rejection;
