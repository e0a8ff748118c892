#!/bin/bash
# Compares saved builds of the parse_cost bench on W5 by alternating them,
# which is what a shared machine's drift allows: each build runs ROUNDS
# times LOADS loads, in turn with the others, and its min, median and max
# time per load is printed.
#
#   cargo bench --bench parse_cost --no-run    # prints the binary's path
#   cp target/release/deps/parse_cost-<hash> /tmp/before   # then change, rebuild, copy to /tmp/after
#   scripts/parse_ab.sh 11 300 before=/tmp/before after=/tmp/after
#
# A build may be given an environment: 'label=ENV=value /path'.
set -euo pipefail
rounds=$1 loads=$2
shift 2
workload=$(dirname "$0")/../benches/workloads/w5.proc
declare -A times
for _ in $(seq "$rounds"); do
    for build in "$@"; do
        label=${build%%=*}
        # shellcheck disable=SC2086
        t=$(env ${build#*=} "$workload" "$loads" 2>/dev/null | sed -E 's/.*loads, ([0-9.]+) ms.*/\1/')
        times[$label]="${times[$label]:-} $t"
    done
done
for build in "$@"; do
    label=${build%%=*}
    printf '%s: ' "$label"
    tr ' ' '\n' <<<"${times[$label]}" | sed '/^$/d' | sort -n |
        awk '{a[NR]=$1} END {printf "min %s  median %s  max %s ms\n", a[1], a[int((NR+1)/2)], a[NR]}'
done
