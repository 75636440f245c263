//! netkit: sandboxed network diagnostics as WebAssembly components.
//!
//! A component runs in a [`runtime::Sandbox`] whose [`policy::Policy`] grants
//! network access only to the addresses asked for; every attempt is recorded in
//! an [`audit::Audit`]. [`echo`] drives the echo components through their typed exports.

#![warn(missing_docs)]

pub mod audit;
pub mod cache;
pub mod components;
pub mod dns;
pub mod echo;
pub mod policy;
pub mod run;
pub mod runtime;
pub mod sntp;
