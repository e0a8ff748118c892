#!/bin/sh
# Runs the worst cases of docs/LIMITS.md under the default budgets and
# prints, for each, the wall time, the peak memory and how it ended.
#
#   cargo build --release && scripts/limits.sh [target/release/procdsl]
set -u
bin=${1:-target/release/procdsl}
dir=$(dirname "$0")/limits
printf '%-22s %8s %10s  %s\n' case seconds peak_MiB outcome
for f in "$dir"/*.proc; do
    name=$(basename "$f" .proc)
    /usr/bin/time -o /tmp/limits.$$.time -f '%e %M' "$bin" run "$f" > /tmp/limits.$$.out 2>/tmp/limits.$$.err
    out=$(tail -1 /tmp/limits.$$.time)
    secs=${out% *}
    kib=${out#* }
    what=$(grep -m1 -o 'error: element `[^`]*`: [a-z ]*budget of [^ ]* [^ ]*\|more log lines dropped' /tmp/limits.$$.out /tmp/limits.$$.err | head -1 | sed 's/^[^:]*://')
    [ -n "$what" ] || what=$(head -1 /tmp/limits.$$.out | cut -c1-60)
    printf '%-22s %8s %10s  %s\n' "$name" "$secs" "$((kib / 1024))" "$what"
done
rm -f /tmp/limits.$$.out /tmp/limits.$$.err /tmp/limits.$$.time
