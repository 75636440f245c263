//! netkit: sandboxed network diagnostics as WebAssembly components.
//!
//! Layers, from pure to effectful; a module uses only those before it:
//! [`policy`] (grants, resolved policies) → [`audit`] → [`net`] (the guest's
//! network view, socket caps) → [`dns`] (system resolver, scoped lookup) → [`cache`] → [`oci`] (components from
//! registries, kept by digest) → [`runtime`] (host, sandbox, store) → drivers
//! ([`echo`], [`sntp`], [`command`]) → [`nts`] (key exchange, then query, over the
//! SNTP driver) → `watch`; [`components`] holds the embedded guests.
//! A component runs in a [`runtime::Sandbox`] whose [`policy::ResolvedPolicy`]
//! grants network access only to the addresses asked for; every attempt is
//! recorded in an [`audit::Audit`].

#![warn(missing_docs)]

pub mod audit;
pub mod cache;
pub mod command;
pub mod components;
pub mod dns;
pub mod dns_probe;
pub mod echo;
pub mod http;
pub mod inspect;
pub mod net;
pub mod nts;
pub mod oci;
pub mod ping;
pub mod policy;
pub mod probe;
pub mod runtime;
pub mod sntp;
pub mod target;
pub mod tls;
pub mod watch;
