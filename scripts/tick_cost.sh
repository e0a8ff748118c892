#!/usr/bin/env bash
# What stored work costs an idle service, and what a burst of due timers
# holds the store for (docs/SERVICE.md records the figures): the store calls
# of the scheduler's tick, /metrics, a list of one and the start-up look, at
# 1k / 10k / 100k waiting instances, now and with the version-1 indexes and
# queries; then a burst of due timers in pages (now) and in one call (before).
# Usage: scripts/tick_cost.sh [SIZES] [BURST], e.g. scripts/tick_cost.sh 1000,10000,100000 10000
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-1000,10000,100000}
burst=${2:-10000}
cargo run --release --quiet --example tick_cost -- --sizes "$sizes" --burst "$burst"
