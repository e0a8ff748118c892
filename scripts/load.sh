#!/usr/bin/env bash
# Load test of `procdsl serve` over loopback (docs/SERVICE.md records the figures):
#   (a) Execute of a ten-element process with a result parameter,
#   (b) RunProcess to a user task, then ExecProcElByUId to the end (durable commits),
# each at full speed, then at half the measured rate for latency.
# Usage: scripts/load.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
cargo build --release --quiet --bin procdsl --example load
target=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
"$target/procdsl" serve scripts/load.proc --addr 127.0.0.1:0 --store "$work/load.db" 2>"$work/serve.log" &
server=$!
for _ in $(seq 100); do
  addr=$(sed -n 's#^procdsl serve: listening on http://##p' "$work/serve.log")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/serve.log"; exit 1; }
run() { "$target/examples/load" "$addr" "$@"; }
rate() { sed -n 's/.*"cyclesPerSecond":\([0-9.]*\).*/\1/p'; }

echo "(a) Execute, ten elements, ResultParameterName"
a=$(run execute --connections "$connections" --seconds "$seconds"); echo "$a"
half=$(echo "$a" | rate | awk '{print int($1/2)}')
run execute --connections "$connections" --seconds "$seconds" --rate "$half"

echo "(b) RunProcess to a user task + ExecProcElByUId to the end"
b=$(run cycle --connections "$connections" --seconds "$seconds"); echo "$b"
half=$(echo "$b" | rate | awk '{print int($1/2)}')
run cycle --connections "$connections" --seconds "$seconds" --rate "$half"
