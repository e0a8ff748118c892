#!/usr/bin/env bash
# RunProcess + ExecProcElByUId cycles (scripts/load.rs, `cycle`) against
#   (1) one node on SQLite, (2) one node on PostgreSQL, (3) two nodes on one
# PostgreSQL database, the connections dealt to the nodes in turn; each at
# full speed, then at half the rate measured, for latency. Every cycle is
# two durable commits. docs/BENCHMARKS.md ("Several nodes") records the figures.
#
# Usage: scripts/load_nodes.sh [SECONDS] [CONNECTIONS]
#   PROCDSL_PG_URL=postgres://…  use that server (each run gets a new
#                                database on it: the user may CREATE DATABASE)
#                                instead of a throwaway one (Debian's
#                                postgresql package, fsync on, unix socket)
#   STATEMENTS=1                 load pg_stat_statements into the throwaway
#                                server and print where its time went
#   SERVE_ARGS="…"               more `serve` options for every node
#   PG_ARGS="-c name=value …"    more settings for the throwaway server
#   ONLY="sqlite pg1 pg2"        the runs to make; "pgbench" adds the ceiling:
#                                pgbench alone on the same server, the same
#                                three statements and two commits per cycle
#   PROCDSL_BIN=path             serve with that binary (another build, to compare)
#   BUILD=0                      skip the release build (alternating runs of
#                                PROCDSL_BIN while the worktree changes)
#   RATES="1000 …"               also drive each setup at these rates (cycles
#                                per second), for latency at a fixed load
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
only=${ONLY:-sqlite pg1 pg2}
[ "${BUILD:-1}" = 0 ] || cargo build --release --quiet --bin procdsl --example load
target=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
chmod 755 "$work"
nodes=()
pg_bin=
stop_nodes() {
  for pid in "${nodes[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  nodes=()
}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  stop_nodes
  [ -n "$pg_bin" ] && as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A node of `procdsl serve` on a free loopback port; its address is left in $addr.
node() {
  local store=$1 log=$work/node${#nodes[@]}.log
  # shellcheck disable=SC2086
  "${PROCDSL_BIN:-$target/procdsl}" serve scripts/load.proc --addr 127.0.0.1:0 --store "$store" ${SERVE_ARGS:-} >/dev/null 2>"$log" &
  nodes+=($!)
  addr=
  for _ in $(seq 200); do
    addr=$(sed -n 's#^procdsl serve: listening on http://##p' "$log")
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { cat "$log" >&2; exit 1; }
}

# A new, empty database; prints its URL.
database() {
  local name=load_$1
  if [ -n "${PROCDSL_PG_URL:-}" ]; then
    psql -q -d "$PROCDSL_PG_URL" -c "CREATE DATABASE $name" >/dev/null
    echo "${PROCDSL_PG_URL%/*}/$name"
  else
    as_pg "$pg_bin/createdb" -h "$work/pg" -U postgres "$name"
    echo "postgres://postgres@$(printf %s "$work/pg" | sed 's#/#%2F#g'):5432/$name"
  fi
}

start_postgres() {
  [ -n "${PROCDSL_PG_URL:-}" ] && return
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$pg_bin/initdb" ] || { echo "no PostgreSQL (apt-get install postgresql), or give PROCDSL_PG_URL" >&2; exit 1; }
  mkdir "$work/pg"
  [ "$(id -u)" = 0 ] && chown postgres: "$work/pg"
  as_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  local preload=
  [ -n "${STATEMENTS:-}" ] && preload="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
  as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o \
    "-k $work/pg -c listen_addresses='' -p 5432 -c fsync=on -c max_connections=200 -c shared_buffers=128MB $preload ${PG_ARGS:-}" \
    start >/dev/null
  [ -n "${STATEMENTS:-}" ] && as_pg "$pg_bin/psql" -h "$work/pg" -U postgres -X -q -c "CREATE EXTENSION pg_stat_statements"
  echo "PostgreSQL: $("$pg_bin/postgres" --version), fsync on, unix socket"
}

statements() {
  [ -n "${STATEMENTS:-}" ] && [ -z "${PROCDSL_PG_URL:-}" ] || return 0
  as_pg "$pg_bin/psql" -h "$work/pg" -U postgres -X -q -c "
    SELECT calls, plans, round(total_exec_time::numeric, 0) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
           round(mean_plan_time::numeric, 3) AS plan_ms,
           left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE d.datname = '$1' ORDER BY total_exec_time DESC LIMIT 12"
}

# CPU seconds (user + system) the nodes, and PostgreSQL's processes (its
# ended backends included), have used so far.
cpu_nodes() {
  local ticks=0 pid
  for pid in "${nodes[@]}"; do ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$ticks"
}
cpu_postgres() {
  [ -n "$pg_bin" ] && [ -f "$work/pg/data/postmaster.pid" ] || { echo 0; return; }
  local main ticks pid
  main=$(head -n 1 "$work/pg/data/postmaster.pid")
  ticks=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$main/stat")
  for pid in $(pgrep -P "$main"); do ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done
  echo "$ticks"
}

# The server's ceiling for a cycle's commit pattern: a row with a state of
# the size procdsl saves inserted, read by key, updated expecting its
# version; each statement committed alone, as the nodes do.
pgbench_cycles() {
  [ -n "$pg_bin" ] || { echo "  pgbench needs the throwaway server (no PROCDSL_PG_URL)" >&2; return 0; }
  as_pg "$pg_bin/createdb" -h "$work/pg" -U postgres bench
  as_pg "$pg_bin/psql" -h "$work/pg" -U postgres -X -q -d bench \
    -c "CREATE TABLE instances (id TEXT COLLATE \"C\" PRIMARY KEY, state TEXT NOT NULL, version BIGINT NOT NULL)"
  cat >"$work/cycle.sql" <<'SQL'
\set id random(1, 2000000000)
INSERT INTO instances (id, state, version) VALUES (:client_id || '-' || :id, repeat('s', 1500), 1) ON CONFLICT DO NOTHING;
SELECT state, version FROM instances WHERE id = :client_id || '-' || :id;
UPDATE instances SET state = repeat('t', 1500), version = version + 1 WHERE id = :client_id || '-' || :id AND version = 1;
SQL
  chmod 644 "$work/cycle.sql"
  local pg0 hz
  hz=$(getconf CLK_TCK)
  pg0=$(cpu_postgres)
  as_pg "$pg_bin/pgbench" -h "$work/pg" -U postgres -n -M prepared -c 16 -j 2 -T "$seconds" -f "$work/cycle.sql" bench 2>&1 |
    grep -E "^(tps|latency average)" | sed 's/^/  /'
  awk -v p="$(( $(cpu_postgres) - pg0 ))" -v hz="$hz" 'BEGIN { printf "  CPU seconds: postgres %.1f\n", p / hz }'
}

rate() { sed -n 's/.*"cyclesPerSecond":\([0-9.]*\).*/\1/p'; }
# Full speed, then half that rate.
drive() {
  local addrs=$1 full half nodes0 pg0 hz
  hz=$(getconf CLK_TCK)
  nodes0=$(cpu_nodes)
  pg0=$(cpu_postgres)
  full=$("$target/examples/load" "$addrs" cycle --connections "$connections" --seconds "$seconds")
  echo "  full speed: $full"
  local used_nodes=$(( $(cpu_nodes) - nodes0 )) used_pg=$(( $(cpu_postgres) - pg0 ))
  awk -v n="$used_nodes" -v p="$used_pg" -v hz="$hz" -v s="$seconds" -v c="$(nproc)" \
    'BEGIN { printf "  CPU seconds at full speed: nodes %.1f, postgres %.1f (of %d s x %d cores)\n", n / hz, p / hz, s, c }'
  half=$(echo "$full" | rate | awk '{print int($1/2)}')
  echo "  half load:  $("$target/examples/load" "$addrs" cycle --connections "$connections" --seconds "$seconds" --rate "$half")"
  for r in ${RATES:-}; do
    echo "  at $r/s:  $("$target/examples/load" "$addrs" cycle --connections "$connections" --seconds "$seconds" --rate "$r")"
  done
}

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $seconds s per run, $connections connections"
case " $only " in *" pg1 "* | *" pg2 "*) start_postgres ;; esac
for run in $only; do
  case $run in
    sqlite)
      echo "(1) one node, SQLite"
      node "$work/load.db"
      drive "$addr"
      ;;
    pg1)
      echo "(2) one node, PostgreSQL"
      node "$(database one)"
      drive "$addr"
      statements load_one
      ;;
    pg2)
      echo "(3) two nodes, one PostgreSQL database"
      url=$(database two)
      node "$url"
      first=$addr
      node "$url"
      drive "$first,$addr"
      statements load_two
      ;;
    pgbench)
      echo "(4) pgbench alone: a cycle's statements without procdsl (insert, select, versioned update; autocommit)"
      pgbench_cycles
      ;;
    *) echo "unknown run $run (sqlite, pg1, pg2, pgbench)" >&2; exit 2 ;;
  esac
  stop_nodes
done
