#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs missing peers (socat, ncat,
# chrony, ntpdig, the wasmtime CLI), checks formatting and lints (host and the
# wasm guests), builds netkit (which builds the components) and runs every test.
set -euo pipefail
cd "$(dirname "$0")"

WASMTIME="$(.ci/install-peers)"
export WASMTIME
echo "test.sh: wasmtime CLI: $("$WASMTIME" --version)"

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked --target wasm32-wasip2 -p echo-server -p echo-client -p netio -- -D warnings
cargo build --locked -p netkit
cargo test --locked
