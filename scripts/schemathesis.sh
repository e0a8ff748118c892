#!/usr/bin/env bash
# Schemathesis over the service's OpenAPI document, against the real server:
# scripts/schemathesis.sh [MAX_EXAMPLES]  (default 25 per operation).
#
# Starts the debug build of `procdsl serve` on a free loopback port with the
# processes of scripts/schemathesis.proc, a fresh store and a users file with one bearer
# token, then runs `schemathesis run` with every check: among them "positive
# data acceptance" (valid data must not be rejected), "negative data
# rejection" (invalid data must not be accepted), "not a server error", and
# response schema, status code and content type conformance. One is left out:
# "ignored auth" sends a made-up session cookie next to the run's valid
# bearer token and expects a 401; the token rightly wins. Exits non-zero on
# any failure. Needs `python3 -m pip install schemathesis==4.32.5`.
# CHECKS=... and SEED=... override the checks and the seed (1).
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-25}"

cargo build --locked --quiet
bin=target/debug/procdsl
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

token="$("$bin" serve --new-token | sed -n 1p)"
sha="$(printf '%s\n' "$token" | "$bin" serve --hash-token)"
printf '{"tokens": [{"name": "schemathesis", "sha256": "%s", "roles": ["admin"]}]}\n' "$sha" >"$work/users.json"

"$bin" serve scripts/schemathesis.proc --addr 127.0.0.1:0 --store "$work/store.db" --users "$work/users.json" \
  2>"$work/serve.log" &
server=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's|^procdsl serve: listening on http://||p' "$work/serve.log")"
  [ -n "$addr" ] && break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "the server did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

# This run signs in with a bearer token, and Logout with a token is a 400
# (a token has no session to end: docs/SERVICE.md, "Sign-in"); every other
# operation keeps Schemathesis's expectations.
cat >"$work/schemathesis.toml" <<'TOML'
[[operations]]
include-path-regex = 'AuthService\.svc/Logout$'
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
TOML

cd "$work"
schemathesis run "http://$addr/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks "${CHECKS:-all}" --exclude-checks "${EXCLUDE:-ignored_auth}" \
  --max-examples "$examples" --seed "${SEED:-1}" --generation-database none \
  --no-color
