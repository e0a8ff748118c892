#!/usr/bin/env bash
# The sign-in flood of docs/SERVICE.md: scripts/signin_flood.sh [CONCURRENT] [ROUNDS]
# (default 1000 wrong sign-ins at once, 3 rounds). Starts the debug build of
# `procdsl serve` with a users file on a free loopback port and runs
# scripts/signin_flood.py against it, which prints the answers and the
# server's resident memory before, at the peak and after each round.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
bin=target/debug/procdsl
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
hash="$(printf 's3cret\n' | "$bin" serve --hash-password)"
printf '{"users": [{"name": "Supervisor", "password": "%s", "roles": ["admin"]}]}\n' "$hash" >"$work/users.json"
"$bin" serve --addr 127.0.0.1:0 --store "$work/store.db" --users "$work/users.json" 2>"$work/serve.log" &
server=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's|^procdsl serve: listening on http://||p' "$work/serve.log")"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/serve.log" >&2; exit 1; }
python3 scripts/signin_flood.py "$addr" "$server" "${1:-1000}" "${2:-3}"
