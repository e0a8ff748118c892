#!/usr/bin/env bash
# What stored work costs an idle service, and what a burst of due timers
# holds the store for (docs/SERVICE.md records the figures):
#  1. the store calls of the scheduler's tick, /metrics, a list of one and
#     the start-up look, at each size of waiting instances, now and with the
#     version-1 indexes and queries; then a burst of due timers in pages
#     (now) and in one call (before);
#  2. the CPU an idle `procdsl serve` uses over IDLE seconds with that many
#     instances waiting (--tick-ms 1000, the default).
# Usage: scripts/tick_cost.sh [SIZES] [BURST] [IDLE], e.g. scripts/tick_cost.sh 1000,10000,100000 10000 20
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-1000,10000,100000}
burst=${2:-10000}
idle=${3:-20}
cargo build --release --quiet --bin procdsl --example tick_cost
target=${CARGO_TARGET_DIR:-target}/release
"$target/examples/tick_cost" --sizes "$sizes" --burst "$burst"
work=$(mktemp -d)
server=
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
ticks=$(getconf CLK_TCK)
for n in ${sizes//,/ }; do
  "$target/examples/tick_cost" --seed "$work/idle-$n.db" "$n"
  "$target/procdsl" serve "$work/idle-$n.proc" --addr 127.0.0.1:0 --store "$work/idle-$n.db" 2>"$work/serve.log" &
  server=$!
  for _ in $(seq 100); do grep -q listening "$work/serve.log" && break; sleep 0.1; done
  sleep 2 # start-up done
  before=$(awk '{print $14 + $15}' "/proc/$server/stat")
  sleep "$idle"
  after=$(awk '{print $14 + $15}' "/proc/$server/stat")
  awk -v n="$n" -v t="$((after - before))" -v hz="$ticks" -v s="$idle" \
    'BEGIN { printf "%d waiting: idle service used %.2f%% of a core over %d s\n", n, 100 * t / hz / s, s }'
  kill "$server"; wait "$server" 2>/dev/null || true; server=
done
