#!/usr/bin/env bash
# Re-runs the coverage-guided fuzz targets (fuzz/, cargo-fuzz + libFuzzer),
# one after the other, for SECONDS each (default 60). What a run finds that
# is new coverage goes into fuzz/corpus/TARGET/; a crash, a timeout or an
# out-of-memory input is saved under fuzz/artifacts/TARGET/ and the run goes
# on (libFuzzer's fork mode), so a long unattended run is not stopped by the
# first finding. See docs/FUZZING.md.
#
#   scripts/fuzz.sh                  # every target, 60 s each
#   scripts/fuzz.sh 3600 interpret   # one target for an hour
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); it builds with the
# stable toolchain (`-s none`: no sanitizer, which would need nightly).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(parse_check interpret)
fi

for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    echo "== $target for $seconds s" >&2
    nice -n 19 cargo fuzz run -s none "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -timeout=10 -rss_limit_mb=2048 -max_len=4096 -dict=fuzz/procdsl.dict -print_final_stats=1
done
