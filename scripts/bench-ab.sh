#!/bin/sh
# bench-ab.sh OLD_HITLQD NEW_HITLQD [ROUNDS] - same-run comparison of two
# hitlqd builds (e.g. before and after a refactor) on this machine, so that
# the figure compared is a ratio measured under the same load
# (docs/PERFORMANCE.md §2).  Each round runs, for both builds in
# alternating order, on fresh data directories:
#   (b) durable submits/s, 16 connections x 64 in flight, audit log on
#   (i) the same with the audit log off
#   (d) claim+resolve cycles/s, 16 specialists x 16 in flight, after a fill
# and prints every figure, then per figure the median (min-max) of the
# per-round NEW/OLD ratios.  The client is build/tests/bench_load (make
# bench builds it); both servers speak the same protocol.
#
#   make bench-build && sh scripts/bench-ab.sh /path/old/hitlqd build/hitlqd 5
#
# Bounded: every process runs under `timeout`; servers are stopped by pid.
set -u
cd "$(dirname "$0")/.." || exit 1
OLD=${1:?usage: bench-ab.sh OLD_HITLQD NEW_HITLQD [ROUNDS]}
NEW=${2:?usage: bench-ab.sh OLD_HITLQD NEW_HITLQD [ROUNDS]}
ROUNDS=${3:-5}
BL=${BL:-build/tests/bench_load}
SUBMIT_S=${SUBMIT_S:-3}
FILL=${FILL:-100000}
for f in "$OLD" "$NEW" "$BL"; do
    [ -x "$f" ] || { echo "bench-ab.sh: $f is not an executable (make bench-build?)" >&2; exit 2; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hitlq-ab.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
printf 'map_size_mb = 8192\nhttp_listen = "127.0.0.1:0"\n' > "$TMP/on.conf"
printf 'map_size_mb = 8192\naudit = 0\nhttp_listen = "127.0.0.1:0"\n' > "$TMP/off.conf"

# serve BIN CONF: starts BIN on a fresh data dir; sets PID and PORTFILE.
serve() {
    d=$(mktemp -d "$TMP/srv.XXXXXX")
    PORTFILE=$d/port
    timeout -s KILL 600 "$1" -c "$2" -d "$d/data" -l 127.0.0.1:0 -P "$PORTFILE" 2>"$d/log" &
    PID=$!
    i=0
    while [ ! -s "$PORTFILE" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
    [ -s "$PORTFILE" ] || { echo "bench-ab.sh: $1 did not start:"; tail -3 "$d/log"; return 1; }
}
unserve() {
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=
    rm -rf "$TMP"/srv.*
}
# rate FILE: the number after "= " on the first line naming a rate.
rate() { awk '/(submits|cycles)\/s/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$1"; }

# one BIN NAME: the three figures for one build; appends "NAME fig value".
one() {
    for conf in on off; do
        serve "$1" "$TMP/$conf.conf" || return 1
        timeout -s KILL 60 "$BL" submit -P "$PORTFILE" -c 16 -d 64 -t "$SUBMIT_S" -n 2000000 > "$TMP/out" 2>&1
        echo "$2 submit_$conf $(rate "$TMP/out")" >> "$TMP/figs"
        unserve
    done
    serve "$1" "$TMP/on.conf" || return 1
    timeout -s KILL 300 "$BL" fill -P "$PORTFILE" -n "$FILL" -t 240 > /dev/null 2>&1
    timeout -s KILL 60 "$BL" claim -P "$PORTFILE" -c 16 -d 16 -t 5 > "$TMP/out" 2>&1
    echo "$2 claim $(rate "$TMP/out")" >> "$TMP/figs"
    unserve
}

: > "$TMP/figs"
r=1
while [ $r -le "$ROUNDS" ]; do
    sync
    echo "-- round $r/$ROUNDS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    : > "$TMP/figs"
    if [ $((r % 2)) -eq 1 ]; then one "$OLD" old && one "$NEW" new
    else one "$NEW" new && one "$OLD" old; fi
    sed "s/^/round $r: /" "$TMP/figs" | tee -a "$TMP/all"
    r=$((r + 1))
done

echo "== new/old, median (min-max) of per-round ratios over $ROUNDS rounds"
for fig in submit_on submit_off claim; do
    awk -v f="$fig" '$4 == f { v[$2 " " $3] = $5 }
        END { for (k in v) { split(k, a, " "); if (a[2] == "new" && v[a[1] " old"] > 0)
                  print v[k] / v[a[1] " old"] } }' "$TMP/all" | sort -n | awk -v f="$fig" '
        { x[NR] = $1 } END {
            if (NR == 0) { printf "%-12s n/a\n", f; exit }
            m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
            printf "%-12s %.3f (%.3f-%.3f)\n", f, m, x[1], x[NR] }'
done
for who in old new; do
    awk -v w="$who" '$3 == w && $4 == "submit_on" { on[$2] = $5 } $3 == w && $4 == "submit_off" { off[$2] = $5 }
        END { for (k in on) if (off[k] > 0) print on[k] / off[k] }' "$TMP/all" | sort -n | awk -v w="$who" '
        { x[NR] = $1 } END { if (NR) printf "audit on/off %-4s %.3f (median of %d rounds)\n", w,
              (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2, NR }'
done
