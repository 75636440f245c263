#!/usr/bin/env bash
# The whole test suite, from a fresh clone: sets the ICMP socket range the ping
# tests need (as root; otherwise says what to run), installs missing peers (socat, ncat,
# chrony, ntpdig, the wasmtime CLI), checks formatting and lints (host and the
# wasm guests), builds netkit (which builds the components) and runs every test.
set -euo pipefail
cd "$(dirname "$0")"

# netkit ping uses the kernel's unprivileged ICMP echo sockets: the process's
# group must be inside net.ipv4.ping_group_range (Debian's default "1 0" allows
# nobody). Root's group and the usual ones, not nogroup (65534): one test
# checks the message a group outside the range gets.
range_file=/proc/sys/net/ipv4/ping_group_range
read -r lo hi < "$range_file"
gid="$(id -g)"
if [ "$gid" -lt "$lo" ] || [ "$gid" -gt "$hi" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test.sh: net.ipv4.ping_group_range was \"$lo $hi\": setting \"0 65533\" for the ping tests"
    echo "0 65533" > "$range_file"
  else
    echo "test.sh: the ping tests need ICMP echo sockets for group $gid, and net.ipv4.ping_group_range is \"$lo $hi\"; run: sudo sysctl -w net.ipv4.ping_group_range=\"0 65533\" (or run ./test.sh as root)" >&2
    exit 1
  fi
fi

# rust-toolchain.toml lists the target, but rustup adds it only when it
# installs the toolchain itself: a machine that already had 1.95.0 lacks it.
if command -v rustup >/dev/null 2>&1; then
  rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
fi

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
# --no-fail-fast: every test binary runs, so the closing line counts them all.
cargo test --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary (cargo prints one line per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
