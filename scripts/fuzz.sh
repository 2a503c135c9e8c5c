#!/bin/sh
# fuzz.sh - runs every built libFuzzer target for a while (docs/RELIABILITY.md T4).
#
#   sh scripts/fuzz.sh build/fuzz SECONDS
#
# Each target DIR/fuzz_X runs for SECONDS over a scratch copy of
# tests/fuzz/corpus/fuzz_X (the committed corpus is never grown) with the T4
# settings.  Prints execs/s and total execs per target from libFuzzer's
# final stats; crash reproducers go to DIR/crashes/.  Exits non-zero if any
# target crashed, leaked, timed out or ran out of memory.
set -u

dir=${1:?usage: fuzz.sh FUZZ_DIR SECONDS}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
crashes="$dir/crashes"
work="$dir/work"
mkdir -p "$crashes" "$work"
failed=0
ran=0

for bin in "$dir"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    corpus="$work/$name"
    log="$work/$name.log"
    rm -rf "$corpus"
    mkdir -p "$corpus"
    if [ -d "$root/tests/fuzz/corpus/$name" ]; then
        cp "$root/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null || true
    fi
    "$bin" -max_total_time="$secs" -rss_limit_mb=512 -malloc_limit_mb=64 \
        -timeout=2 -print_final_stats=1 -artifact_prefix="$crashes/$name-" \
        "$corpus" >"$log" 2>&1
    rc=$?
    ran=$((ran + 1))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        status=ok
    else
        status="FAILED (exit $rc, log $log)"
        failed=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -n 5
    fi
    printf '%-16s %10s execs/s %12s execs  %s\n' "$name" "${rate:-?}" "${execs:-?}" "$status"
done

if [ "$ran" -eq 0 ]; then
    echo "fuzz.sh: no fuzz targets in $dir (run make fuzz-build)" >&2
    exit 2
fi
exit "$failed"
