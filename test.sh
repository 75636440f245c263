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
cargo clippy --locked --target wasm32-wasip2 -p echo-server -p echo-client -p sntp-client -p sntp-server -p hostile -p netio -p echo-types -p sntp-types -p probe-types -p tcp-probe -p udp-probe -p dns-probe -p tls-proto -p tls-probe -p http-proto -p http-probe -p ping-proto -p ping -p nts-proto -- -D warnings
# The host library's modules in layer order (no cycles).
.ci/check-layers
cargo build --locked -p netkit

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary (cargo prints one line per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
