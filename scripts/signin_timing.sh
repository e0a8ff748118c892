#!/usr/bin/env bash
# How long a sign-in takes for a known user (right and wrong password) and an
# unknown one, through the real server: scripts/signin_timing.sh [N]
# (default 10 of each). Every password hash has the same argon2 parameters
# and an unknown user is checked against a dummy hash with them, so the
# three should take the same time (docs/SERVICE.md, "Security").
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
bin=target/debug/procdsl
n="${1:-10}"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
hash="$(printf 's3cret\n' | "$bin" serve --hash-password)"
python3 - "$hash" "$n" >"$work/users.json" <<'PY'
import json, sys
h, n = sys.argv[1], int(sys.argv[2])
print(json.dumps({"users": [{"name": f"u{i}", "password": h, "roles": ["user"]} for i in range(n + 1)]}))
PY
chmod 600 "$work/users.json"
"$bin" serve --addr 127.0.0.1:0 --store "$work/store.db" --users "$work/users.json" 2>"$work/serve.log" &
server=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's|^procdsl serve: listening on http://||p' "$work/serve.log")"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/serve.log" >&2; exit 1; }
python3 - "$addr" "$n" <<'PY'
import http.client, json, statistics, sys, time
addr, n = sys.argv[1], int(sys.argv[2])
host, port = addr.rsplit(":", 1)

def login(user, password):
    body = json.dumps({"UserName": user, "UserPassword": password})
    c = http.client.HTTPConnection(host, int(port))
    t = time.perf_counter()
    c.request("POST", "/ServiceModel/AuthService.svc/Login", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    code = json.loads(r.read()).get("Code")
    ms = (time.perf_counter() - t) * 1000
    c.close()
    return r.status, code, ms

# Interleaved, one wrong password per known user (the per-user throttle
# allows 5); at most 2n failures from this address (it allows 20).
rows = {"known user, right password": [], "known user, wrong password": [], "unknown user": []}
for i in range(n):
    for what, (user, pw) in {"known user, right password": ("u0", "s3cret"),
                             "known user, wrong password": (f"u{i + 1}", "wrong"),
                             "unknown user": (f"nobody{i}", "wrong")}.items():
        status, code, ms = login(user, pw)
        assert status == 200, (what, status)
        rows[what].append(ms)
for what, times in rows.items():
    print(f"{what:28} median {statistics.median(times):7.1f} ms   min {min(times):7.1f}   max {max(times):7.1f}   (n={len(times)})")
PY
