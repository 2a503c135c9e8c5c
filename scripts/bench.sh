#!/bin/sh
# bench.sh BUILD_DIR - hitlq benchmarks for `make bench` (docs/PERFORMANCE.md).
#
# Runs, in order, against fresh hitlqd instances on 127.0.0.1 with fresh
# temporary data directories:
#   (a) raw LMDB durable-insert ceiling (tests/bench/bench_lmdb.c), interleaved with
#   (b) durable submits/s, 16 conns x 64 in flight; 3 rounds, median + min-max
#   (c) submit latency at a fixed offered 20k/s (open loop)
#   (d) claim+resolve cycles/s, 16 specialists, after filling >= 250k items
#   (e) claim latency with 10k and with 1M queued
#   (f) restart time with 1M queued (exec -> port file, exec -> first PING)
#   (g) server RSS after the submit phase and with 1M queued
#   (h) ops per fsync (STATS counters if any, else strace -c if installed)
#   (i) the audit log: (b) again with the log off in the same rounds (on/off
#       ratio), its append cost and proof serving at 1M entries
#       (tests/bench/bench_audit.c), and hitlq-audit's offline verify and
#       drift-review rates
#   (j) scoring cost per item, one thread (tests/bench/bench_score.c): the default
#       scorecard, a 100-tree depth-6 XGBoost model in hitlq vs XGBoost's
#       C API, approximate and exact (TreeSHAP) contributions
#   (k) TLS: (b)'s durable submits over TLS vs plaintext in alternating
#       rounds, and server RSS holding 1000 idle TLS connections
#   (l) server CPU while 1000 HELLOs/s with bad API keys arrive, each on a
#       new connection (tests/bench/bench_auth.c), from 1, 200 and 2000 addresses
#   (m) the drift review's per-entry aggregate updates, one thread
#       (tests/bench/bench_drift.c, proto/drift_stats.c)
#   (o) input-drift histograms: (b)'s durable submits with the bundled policy
#       with and without its reference profile, alternating rounds
#   (p) the asynchronous API (tests/bench/bench_async.c): claim+resolve
#       cycles/s, 16 async contexts on one loop vs 16 blocking threads,
#       under the bundled default policy and the scorecard policy
#   (q) the workstation: one `hitlq work --plain` client's decide -> next
#       item shown latency at ~100k queued (scripts/bench_work.py)
#   (r) (b)'s durable submits with a Prometheus scrape of /metrics every
#       second and the dashboard's /api/v1/overview every 2 s vs without,
#       alternating rounds, median of per-round ratios
#   (s) /metrics scrape time of a server with 1,000 queues holding items
#       (scripts/bench_queues.py): median and p99 of 50 scrapes
#   (t) one good client pipelining SUBMITs alone vs beside 200 hostile
#       connections (tests/bench/bench_hostile.c): alone, hostile, alone,
#       ... phases, the median of the per-round ratios
# and ends with a summary of every figure against its target.
#
# Bounded: every process runs under `timeout`, servers are stopped by the
# pid they were started with, temp dirs are removed on exit.  POSIX sh.
set -u

B=${1:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
cd "$(dirname "$0")/.." || exit 1
HITLQD=$B/hitlqd
BL=$B/tests/bench_load
BM=$B/tests/bench_lmdb
BA=$B/tests/bench_audit
HA=$B/hitlq-audit
for f in "$HITLQD" "$BL" "$BM" "$BA" "$HA"; do
    [ -x "$f" ] || { echo "bench.sh: $f is missing (run make bench)" >&2; exit 1; }
done

ROUNDS=${BENCH_ROUNDS:-5}
SUBMIT_S=${BENCH_SUBMIT_SECONDS:-3}
FILL_CLAIM=${BENCH_FILL_CLAIM:-250000}
FILL_BIG=${BENCH_FILL_BIG:-1000000}
LAT_SAMPLES=${BENCH_LAT_SAMPLES:-1000}
AUDIT_N=${BENCH_AUDIT_ENTRIES:-1000000}
case $FILL_BIG in 1000000) BIG=1M ;; *) BIG=$FILL_BIG ;; esac

TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/hitlq-bench.XXXXXX") || exit 1
SRV_PID=            # hitlqd's own pid (exec'd by the sh under timeout)
SRV_BG=             # the timeout process (our child)
SRV_DIR=
SRV_LISTEN=
SRV_N=0
T_BEGIN=$(date +%s)

cleanup() {
    [ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
    rm -rf "$TMPROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# first token after "NAME =" on the first line of FILE matching PATTERN
field() {
    awk -v pat="$2" -v name="$3" 'index($0, pat) {
        for (i = 1; i < NF; i++) if ($i == name && $(i + 1) == "=") { print $(i + 2); exit }
    }' "$1"
}
num_or_na() { [ -n "$1" ] && printf '%s' "$1" || printf 'n/a'; }
# awk arithmetic on possibly-missing values: prints n/a if any arg is empty/n/a
calc() {
    expr=$1; shift
    for v in "$@"; do case $v in ''|n/a) printf 'n/a'; return ;; esac; done
    awk -v a="${1:-0}" -v b="${2:-0}" "BEGIN { $expr }"
}
median3() {  # median, min, max of whitespace-separated numbers (n/a ignored)
    printf '%s\n' $* | grep -v '^n/a$' | sort -n | awk '
        { v[NR] = $1 } END {
            if (NR == 0) { print "n/a n/a n/a"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
rss_detail() { awk '/^(RssAnon|RssFile):/ { printf "%s%s %s kB", sep, $1, $2; sep = ", " }' "/proc/$1/status" 2>/dev/null; }

# bench policy: nothing auto-resolves (auto_threshold 1.0: the policy loader
# accepts [0, 1] only, and a logistic score never reaches 1.0 here)
mkdir -p "$TMPROOT/policy"
cp server/score/defaults/credit_scorecard.json "$TMPROOT/policy/"
sed -e 's/"auto_threshold": *[0-9.]*/"auto_threshold": 1.0/' \
    -e 's/"id": *"scorecard_example"/"id": "bench"/' \
    server/score/defaults/scorecard_policy.json > "$TMPROOT/policy/policy.json"
# (every server's HTTP listener on a free port: the default one is fixed)
printf 'policy = "%s"\nmap_size_mb = 32768\nhttp_listen = "127.0.0.1:0"\n' \
    "$TMPROOT/policy/policy.json" > "$TMPROOT/policy/bench.conf"
printf 'map_size_mb = 32768\nhttp_listen = "127.0.0.1:0"\n' > "$TMPROOT/policy/default.conf"
printf 'map_size_mb = 32768\naudit = 0\nhttp_listen = "127.0.0.1:0"\n' \
    > "$TMPROOT/policy/noaudit.conf"

# start_server NAME CONF [REUSE_DIR]: fresh data dir unless REUSE_DIR given.
# Sets SRV_DIR, SRV_PID, SRV_BG, PORTFILE.  Listens on 127.0.0.1:0 (falls
# back to a chosen free-looking port if the server rejects port 0).
start_server() {
    if [ -n "${3:-}" ]; then SRV_DIR=$3
    else SRV_N=$((SRV_N + 1)); SRV_DIR=$TMPROOT/srv$SRV_N.$1; mkdir -p "$SRV_DIR"; fi
    PORTFILE=$SRV_DIR/port
    tries=0
    listen=127.0.0.1:0
    while :; do
        rm -f "$PORTFILE" "$SRV_DIR/pid"
        T_LAUNCH_NS=$(date +%s%N)
        timeout -s TERM 1200 sh -c 'echo $$ > "$1/pid"; exec "$2" -c "$3" -d "$1/data" -l "$4" -P "$1/port" 2>>"$1/log"' \
            sh "$SRV_DIR" "$HITLQD" "$2" "$listen" &
        SRV_BG=$!
        i=0
        while [ ! -s "$PORTFILE" ] && kill -0 "$SRV_BG" 2>/dev/null && [ $i -lt 600 ]; do
            sleep 0.05; i=$((i + 1))
        done
        SRV_PID=$(cat "$SRV_DIR/pid" 2>/dev/null)
        if [ -s "$PORTFILE" ]; then SRV_LISTEN=$listen; return 0; fi
        wait "$SRV_BG" 2>/dev/null
        SRV_PID=
        tries=$((tries + 1))
        if [ $tries -lt 5 ] && grep -q 'cannot parse' "$SRV_DIR/log" 2>/dev/null; then
            [ $tries -eq 1 ] && say "note: hitlqd rejects -l 127.0.0.1:0; using explicit ports"
            listen=127.0.0.1:$((20000 + ($$ * 7 + tries * 7919 + SRV_N * 131) % 40000))
            continue
        fi
        say "bench.sh: hitlqd did not start ($1); log:"; tail -5 "$SRV_DIR/log"
        return 1
    done
}

stop_server() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null
    i=0
    while kill -0 "$SRV_PID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    if kill -0 "$SRV_PID" 2>/dev/null; then
        say "WARNING: hitlqd (pid $SRV_PID) ignored SIGTERM for 30 s; killed"
        kill -KILL "$SRV_PID" 2>/dev/null
    fi
    wait "$SRV_BG" 2>/dev/null
    rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 143 ] && say "WARNING: hitlqd exited with status $rc"
    if grep -qi 'error' "$SRV_DIR/log" 2>/dev/null; then
        say "WARNING: hitlqd logged errors:"; grep -i 'error' "$SRV_DIR/log" | head -3
    fi
    SRV_PID=
}

# server_alive: warn (with the log tail) if the server died during a run
server_alive() {
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
        wait "$SRV_BG" 2>/dev/null
        say "SERVER PROBLEM: hitlqd died during $1 (status $?); log tail:"
        tail -3 "$SRV_DIR/log"
        SRV_PID=
        return 1
    fi
    return 0
}

run() {  # run OUTFILE TIMEOUT_S CMD... : output to OUTFILE and stdout
    out=$1; t=$2; shift 2
    timeout -s KILL "$t" "$@" > "$out" 2>&1
    rc=$?
    cat "$out"
    [ $rc -eq 137 ] && say "WARNING: $(basename "$1") $2 killed after ${t}s"
    return $rc
}

say "== hitlq bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load average $(loadavg)"
say "   build $B, data under $TMPROOT ($(df -PT "$TMPROOT" | awk 'NR==2 {print $2}'))"
O=$TMPROOT/out
mkdir -p "$O"

# ---- (a)+(b): raw LMDB ceiling and durable submits, interleaved rounds -----
# submit_round on|off: one durable-submit run on a fresh server with the
# audit log on (sets sub, RSS_SUBMIT) or off (sets off).
submit_round() {
    sync
    if [ "$1" = on ]; then name=submit conf=default.conf; else name=noaudit conf=noaudit.conf; fi
    start_server "$name" "$TMPROOT/policy/$conf" || return 0
    run "$O/$name.$r" 60 "$BL" submit -P "$PORTFILE" -c 16 -d 64 -t "$SUBMIT_S" -n 2000000
    v=$(awk '/durable submits\/s/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/$name.$r")
    grep -q ABORTED "$O/$name.$r" && v=
    if server_alive "$name round $r"; then
        if [ "$1" = on ]; then
            RSS_SUBMIT=$(rss_kb "$SRV_PID")
            say "bench: (g) hitlqd VmRSS after submit round $r = $RSS_SUBMIT kB ($(rss_detail "$SRV_PID"))"
        fi
        stop_server
    fi
    rm -rf "$SRV_DIR/data"              # its dirty pages must not slow later runs
    if [ "$1" = on ]; then sub=$v; else off=$v; fi
}

LMDB_ALL= SUB_ALL= RATIO_ALL= RSS_SUBMIT= OFF_ALL= ARATIO_ALL=
r=1
while [ $r -le "$ROUNDS" ]; do
    say ""
    say "-- round $r/$ROUNDS (load average $(loadavg))"
    run "$O/lmdb.$r" 30 "$BM" -s 3 -b 256 -d "$TMPROOT"
    lm=$(awk '/raw LMDB durable/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/lmdb.$r")
    # audit log on and off, in alternating order (the first run of a round
    # follows bench_lmdb's writes), each after a sync
    sub= off=
    if [ $((r % 2)) -eq 1 ]; then submit_round on; submit_round off
    else submit_round off; submit_round on; fi
    ratio=$(calc 'printf "%.2f", b / a' "$(num_or_na "$lm")" "$(num_or_na "$sub")")
    aratio=$(calc 'printf "%.2f", b / a' "$(num_or_na "$off")" "$(num_or_na "$sub")")
    say "round $r: raw LMDB $(num_or_na "$lm")/s, hitlqd $(num_or_na "$sub")/s, ratio $ratio; audit log off $(num_or_na "$off")/s, on/off $aratio"
    OFF_ALL="$OFF_ALL $(num_or_na "$off")"
    ARATIO_ALL="$ARATIO_ALL $aratio"
    LMDB_ALL="$LMDB_ALL $(num_or_na "$lm")"
    SUB_ALL="$SUB_ALL $(num_or_na "$sub")"
    RATIO_ALL="$RATIO_ALL $ratio"
    r=$((r + 1))
done
set -- $(median3 $LMDB_ALL); LMDB_MED=$1 LMDB_MIN=$2 LMDB_MAX=$3
set -- $(median3 $SUB_ALL);  SUB_MED=$1 SUB_MIN=$2 SUB_MAX=$3
RATIO_MED=$(printf '%s\n' $RATIO_ALL | grep -v '^n/a$' | sort -n | awk '{v[NR]=$1} END { if (NR) print v[int((NR+1)/2)]; else print "n/a" }')
RATIO_MIN=$(printf '%s\n' $RATIO_ALL | grep -v '^n/a$' | sort -n | head -1)
RATIO_MAX=$(printf '%s\n' $RATIO_ALL | grep -v '^n/a$' | sort -n | tail -1)
say ""
say "bench: (a) raw LMDB durable inserts/s (256/commit) median = $LMDB_MED (min-max $LMDB_MIN-$LMDB_MAX, $ROUNDS runs)"
say "bench: (b) hitlqd durable submits/s median = $SUB_MED (min-max $SUB_MIN-$SUB_MAX, $ROUNDS runs, 16 conns x 64)"
say "bench: (b) ratio hitlqd / raw LMDB per round: median = $RATIO_MED (min-max ${RATIO_MIN:-n/a}-${RATIO_MAX:-n/a})"
say "bench: (g) hitlqd VmRSS after the submit phase = $(num_or_na "$RSS_SUBMIT") kB"

# ---- (c) latency at a fixed offered 20k/s ----------------------------------
# Let the kernel finish writing back the previous phases' gigabytes first:
# their writeback would otherwise sit in front of this phase's syncs.
sync; sleep 2
say ""
say "-- (c) submit latency at a fixed offered 20,000/s (load average $(loadavg))"
LAT_P50= LAT_P99= LAT_P999= LAT_SCHED_P99=
if start_server rate "$TMPROOT/policy/default.conf"; then
    run "$O/rate" 60 "$BL" submit-rate -P "$PORTFILE" -c 16 -r 20000 -t 5
    if ! grep -q ABORTED "$O/rate"; then
        LAT_P50=$(field "$O/rate" "from actual send" p50)
        LAT_P99=$(field "$O/rate" "from actual send" p99)
        LAT_P999=$(field "$O/rate" "from actual send" p99.9)
        LAT_SCHED_P99=$(field "$O/rate" "from scheduled send" p99)
    fi
    server_alive "submit-rate" && stop_server
fi

# ---- (d) claim+resolve throughput --------------------------------------------
sync
say ""
say "-- (d) claim+resolve, 16 specialists x 16 in flight, after filling $FILL_CLAIM (load average $(loadavg))"
CLAIM_RATE=
if start_server claim "$TMPROOT/policy/bench.conf"; then
    run "$O/fill.claim" 300 "$BL" fill -P "$PORTFILE" -n "$FILL_CLAIM" -t 240
    if server_alive "fill" && ! grep -q ABORTED "$O/fill.claim"; then
        run "$O/claim" 60 "$BL" claim -P "$PORTFILE" -c 16 -d 16 -t 5
        grep -q ABORTED "$O/claim" ||
            CLAIM_RATE=$(awk '/claim\+resolve cycles\/s/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/claim")
        server_alive "claim" && stop_server
    fi
fi

# ---- (e) claim latency, 10k vs 1M queued; (f) restart; (g) RSS ------------
say ""
say "-- (e) claim latency (sequential CLAIM+RESOLVE, one connection, $LAT_SAMPLES samples)"
CL10_P50= CL10_P99= CL1M_P50= CL1M_P99= RSS_1M= RSS_RESTART= RESTART_PORT= RESTART_PING= STOP_MS=
if start_server lat10k "$TMPROOT/policy/bench.conf"; then
    run "$O/fill.10k" 120 "$BL" fill -P "$PORTFILE" -n $((10000 + LAT_SAMPLES)) -t 100
    if server_alive "fill 10k"; then
        run "$O/lat.10k" 120 "$BL" claim-latency -P "$PORTFILE" -n "$LAT_SAMPLES" -t 100 -L " (10k queued)"
        CL10_P50=$(field "$O/lat.10k" "claim latency us" p50)
        CL10_P99=$(field "$O/lat.10k" "claim latency us" p99)
        server_alive "claim-latency 10k" && stop_server
    fi
fi
say "   filling $FILL_BIG items (load average $(loadavg))"
if start_server lat1m "$TMPROOT/policy/bench.conf"; then
    BIG_DIR=$SRV_DIR
    run "$O/fill.1m" 600 "$BL" fill -P "$PORTFILE" -n $((FILL_BIG + LAT_SAMPLES)) -t 500
    if server_alive "fill 1M"; then
        run "$O/lat.1m" 120 "$BL" claim-latency -P "$PORTFILE" -n "$LAT_SAMPLES" -t 100 -L " ($BIG queued)"
        CL1M_P50=$(field "$O/lat.1m" "claim latency us" p50)
        CL1M_P99=$(field "$O/lat.1m" "claim latency us" p99)
        run "$O/stats.1m" 30 "$BL" stats -P "$PORTFILE" -T 20
        RSS_1M=$(rss_kb "$SRV_PID")
        say "bench: (g) hitlqd VmRSS with $BIG queued = $(num_or_na "$RSS_1M") kB ($(rss_detail "$SRV_PID"); data.mdb $(du -k "$BIG_DIR/data/data.mdb" | cut -f1) kB)"
        if server_alive "claim-latency 1M"; then
            say ""
            say "-- (f) restart with $BIG queued: SIGTERM, then exec -> port file -> first PING"
            t_stop=$(date +%s%N)
            stop_server
            STOP_MS=$(( ($(date +%s%N) - t_stop) / 1000000 ))
            say "bench: (f) shutdown (SIGTERM -> exit) = $STOP_MS ms"
            rm -f "$BIG_DIR/port" "$BIG_DIR/pid"
            # t0 is taken just before the launch (timeout + sh + exec are
            # inside the measured time); ping polls the port file every 1 ms
            t0=$(date +%s%N)
            timeout -s TERM 1200 sh -c 'echo $$ > "$1/pid"; exec "$2" -c "$3" -d "$1/data" -l "$4" -P "$1/port" 2>>"$1/log"' \
                sh "$BIG_DIR" "$HITLQD" "$TMPROOT/policy/bench.conf" "$SRV_LISTEN" &
            SRV_BG=$!
            run "$O/ping" 40 "$BL" ping -P "$BIG_DIR/port" -0 "$t0" -T 30 -L " after restart ($BIG queued)"
            RESTART_PORT=$(field "$O/ping" "bench: ping" after)
            RESTART_PING=$(awk '/first PING answered after/ { for (i = 1; i < NF; i++) if ($i == "after" && $(i+1) == "=" && $(i-1) == "answered") { print $(i + 2); exit } }' "$O/ping")
            grep -q '^bench: ping after' "$O/ping" || RESTART_PING=
            SRV_PID=$(cat "$BIG_DIR/pid" 2>/dev/null)
            if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
                run "$O/stats.restart" 30 "$BL" stats -P "$BIG_DIR/port" -T 20
                RSS_RESTART=$(rss_kb "$SRV_PID")
                say "bench: (g) hitlqd VmRSS right after restart with $BIG queued = $(num_or_na "$RSS_RESTART") kB ($(rss_detail "$SRV_PID"))"
                kill -TERM "$SRV_PID"
                i=0; while kill -0 "$SRV_PID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
                kill -KILL "$SRV_PID" 2>/dev/null
                wait "$SRV_BG" 2>/dev/null
                SRV_PID=
            fi
        fi
    fi
fi

# ---- (h) ops per fsync ----------------------------------------------------------
say ""
say "-- (h) operations per flush (group commit)"
OPS_PER_SYNC= BYTES_PER_OP=
if start_server fsync "$TMPROOT/policy/default.conf"; then
    run "$O/stats.h0" 30 "$BL" stats -P "$PORTFILE" -T 20 > /dev/null
    if grep -Eqi 'batch|commit|sync' "$O/stats.h0"; then
        run "$O/submit.h" 60 "$BL" submit -P "$PORTFILE" -t 3 -L " (ops-per-batch run)"
        run "$O/stats.h1" 30 "$BL" stats -P "$PORTFILE" -T 20
        say "bench: (h) STATS has batch counters (see above)"
    elif command -v strace > /dev/null 2>&1; then
        timeout -s INT 60 strace -f -c -e trace=fdatasync,fsync,pwrite64,msync \
            -o "$O/strace" -p "$SRV_PID" 2>"$O/strace.err" &
        ST_BG=$!
        sleep 1
        wb0=$(awk '/^write_bytes:/ { print $2 }' "/proc/$SRV_PID/io" 2>/dev/null)
        run "$O/submit.h" 60 "$BL" submit -P "$PORTFILE" -c 16 -d 64 -t 3 -L " (under strace)"
        wb1=$(awk '/^write_bytes:/ { print $2 }' "/proc/$SRV_PID/io" 2>/dev/null)
        kill -INT "$ST_BG" 2>/dev/null
        wait "$ST_BG" 2>/dev/null
        n_ok=$(awk '/durable submits\/s/ { for (i = 1; i < NF; i++) if ($i == "in" && $(i+1) == "flight,") { print $(i + 2); exit } }' "$O/submit.h")
        n_fds=$(awk '$NF == "fdatasync" { print $4 }' "$O/strace" 2>/dev/null)
        n_pw=$(awk '$NF == "pwrite64" { print $4 }' "$O/strace" 2>/dev/null)
        say "strace -c (server, during the run):"; grep -E 'calls|fdatasync|fsync|pwrite64|msync|total' "$O/strace" 2>/dev/null | sed 's/^/   /'
        OPS_PER_SYNC=$(calc 'printf "%.1f", b / a' "$(num_or_na "$n_fds")" "$(num_or_na "$n_ok")")
        BYTES_PER_OP=$(calc 'printf "%.0f", b / a' "$(num_or_na "$n_ok")" "$(calc 'print b - a' "${wb0:-}" "${wb1:-}")")
        say "bench: (h) bytes written to disk per submit = $BYTES_PER_OP (/proc/PID/io write_bytes over the run; raw item fields ~356 B)"
        say "bench: (h) submits per fdatasync = $OPS_PER_SYNC ($(num_or_na "$n_ok") submits, $(num_or_na "$n_fds") fdatasync, $(num_or_na "$n_pw") pwrite64; strace slows the server, and LMDB also writes its meta page through an O_DSYNC fd per commit)"
    else
        say "bench: (h) skipped: STATS has no batch counters and strace is not installed"
    fi
    server_alive "ops-per-fsync run" && stop_server
fi

# ---- (i) the audit log ---------------------------------------------------------
set -- $(median3 $OFF_ALL); OFF_MED=$1 OFF_MIN=$2 OFF_MAX=$3
ARATIO_MED=$(printf '%s\n' $ARATIO_ALL | grep -v '^n/a$' | sort -n | awk '{v[NR]=$1} END { if (NR) print v[int((NR+1)/2)]; else print "n/a" }')
ARATIO_MIN=$(printf '%s\n' $ARATIO_ALL | grep -v '^n/a$' | sort -n | head -1)
ARATIO_MAX=$(printf '%s\n' $ARATIO_ALL | grep -v '^n/a$' | sort -n | tail -1)
say ""
say "-- (i) audit log: $AUDIT_N entries appended with server/audit/audit.c, proofs, offline verify"
AL=$TMPROOT/auditlog
mkdir -p "$AL"
run "$O/audit" 900 "$BA" -n "$AUDIT_N" -k "$AL"
A_COMMIT=$(awk '/audit append/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/audit")
A_LOOP=$(awk '/audit append/ { for (i = 1; i < NF; i++) if ($i == "+") { print $(i + 1); exit } }' "$O/audit")
P_HASHES=$(awk '/inclusion proof at/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/audit")
P_MED=$(awk '/inclusion proof at/ { for (i = 1; i < NF; i++) if ($i == "median") { print $(i + 1); exit } }' "$O/audit")
P_P99=$(awk '/inclusion proof at/ { for (i = 1; i < NF; i++) if ($i == "p99") { print $(i + 1); exit } }' "$O/audit")
P_SIZE=$(awk '/inclusion proof at/ { for (i = 1; i < NF; i++) if ($i == "at") { print $(i + 1); exit } }' "$O/audit")
V_RATE= D_RATE=
printf 'map_size_mb = 32768\nhttp_listen = "127.0.0.1:0"\n' > "$AL/conf"
if "$HITLQD" -d "$AL/data" -K > "$AL/vkeys" 2>/dev/null && start_server auditlog "$AL/conf" "$AL"; then
    run "$O/export" 900 "$HA" export --server "127.0.0.1:$(cat "$PORTFILE")" --out "$AL/export"
    server_alive "audit export" && stop_server
    run "$O/verify" 900 taskset -c 0 "$HA" verify --vkey-file "$AL/vkeys" "$AL/export"
    V_RATE=$(awk '/entries\/s/ { for (i = 1; i <= NF; i++) if ($i ~ /entries\/s/) { v = $(i - 1); gsub(/[^0-9.]/, "", v); print v; exit } }' "$O/verify")
    # hitlq-audit drift: the same verification plus the whole review, one core
    # (its report has no timing in it: the wall time is taken here)
    d0=$(date +%s%N)
    timeout -s KILL 900 taskset -c 0 "$HA" drift --vkey-file "$AL/vkeys" "$AL/export" --json \
        > "$O/drift.json" 2> "$O/drift.err" && d1=$(date +%s%N) &&
        D_RATE=$(awk -v ns=$((d1 - d0)) '/"size":/ { gsub(/[^0-9]/, ""); printf "%.0f", $0 / (ns / 1e9); exit }' "$O/drift.json")
    say "bench: (i) hitlq-audit drift = $(num_or_na "$D_RATE") entries/s (one core, verification included)"
fi
rm -rf "$AL"

# ---- (j) scoring cost per item ------------------------------------------------
# tests/bench/bench_score.c, no server: one thread, one item at a time, median of
# 7 repetitions over the 1000 German Credit rows.  It trains its own
# 100-tree depth-6 binary:logistic model with libxgboost (kept in
# $SC_MODEL for the rest of the run) and checks hitlq's predictions and
# contributions against the C API on every row before timing.
BS=$B/tests/bench_score
SC_MODEL=$TMPROOT/credit_100x6.json
SC_CARD= SC_POLICY= SC_XGB= SC_CAPI= SC_SPEEDUP= SC_APPROX= SC_EXACT= SC_CAPI_APPROX= SC_CAPI_EXACT= SC_CHECK=
# score_ns WHAT: the value after "ns/item" on the line "bench: score WHAT ns/item ..."
score_ns() {
    awk -v w="bench: score $1 ns/item " 'index($0, w) == 1 {
        for (i = 1; i < NF; i++) if ($i == "ns/item") { print $(i + 1); exit } }' "$O/score"
}
say ""
say "-- (j) scoring cost per item, one thread (load average $(loadavg))"
if [ -x "$BS" ]; then
    run "$O/score" 300 "$BS" --model-out "$SC_MODEL" || say "WARNING: bench_score failed (status $?)"
    SC_CARD=$(score_ns scorecard)
    SC_POLICY=$(score_ns default-policy)
    SC_XGB=$(score_ns "xgb100x6 hitlq")
    SC_CAPI=$(score_ns "xgb100x6 xgboost-capi")
    SC_APPROX=$(score_ns "contribs approx")
    SC_FUSED=$(score_ns "xgb100x6 predict+approx fused")
    SC_EXACT=$(score_ns "contribs exact")
    SC_CAPI_APPROX=$(score_ns "contribs approx xgboost-capi")
    SC_CAPI_EXACT=$(score_ns "contribs exact xgboost-capi")
    SC_SPEEDUP=$(awk 'index($0, "bench: score xgb100x6 speedup ") == 1 { v = $5; sub(/x$/, "", v); print v; exit }' "$O/score")
    SC_CHECK=$(awk 'index($0, "bench: score xgb100x6 check ") == 1 { print $NF; exit }' "$O/score")
else
    say "bench: (j) skipped: $BS is missing (make $BS)"
fi
[ "$SC_SPEEDUP" = n/a ] && SC_SPEEDUP=

# (j) durable submits/s, scorecard vs tree model: fresh servers, audit log
# on, the same load (16 conns x 64), rotating which goes first.  All three
# run the bundled policy (field schema, validation rules, hard rule, bands,
# 2 % QA copies) and differ only in the model: "scorecard" =
# credit_scorecard.json (no feature mapping), "100x6" = the tree model
# bench_score trained, "bundled" = the embedded default (60 trees, depth 3).
# Contributions at SUBMIT are path attribution (explain.auto); exact
# TreeSHAP is computed at CLAIM (explain.review).
TD=$TMPROOT/tree
mkdir -p "$TD"
cp server/score/defaults/credit_scorecard.json server/score/defaults/credit_profile.json "$TD/"
sed -e 's/"credit_xgb.json"/"credit_100x6.json"/' -e 's/"model_id": *"credit_xgb"/"model_id": "credit_100x6"/' \
    server/score/defaults/credit_policy.json > "$TD/tree_policy.json"
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
t = p["types"]["credit_application"]
for k in ("features", "model_id", "model_version"):
    t.pop(k, None)
t["model"] = "credit_scorecard.json"
json.dump(p, open(sys.argv[2], "w"), indent=1)' server/score/defaults/credit_policy.json "$TD/scorecard_policy.json"
printf 'policy = "%s"\nmap_size_mb = 32768\nhttp_listen = "127.0.0.1:0"\n' "$TD/scorecard_policy.json" > "$TD/card.conf"
printf 'policy = "%s"\nmap_size_mb = 32768\nhttp_listen = "127.0.0.1:0"\n' "$TD/tree_policy.json" > "$TD/tree.conf"
# policy_round NAME CONF: one durable-submit run; sets pv
policy_round() {
    sync
    pv=
    start_server "$1" "$2" || return 0
    run "$O/$1.$r" 60 "$BL" submit -P "$PORTFILE" -c 16 -d 64 -t "$SUBMIT_S" -n 2000000
    pv=$(awk '/durable submits\/s/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/$1.$r")
    grep -q ABORTED "$O/$1.$r" && pv=
    server_alive "$1 round $r" && stop_server
    rm -rf "$SRV_DIR/data"
}
TCARD_ALL= TTREE_ALL= TRATIO_ALL= TBUND_ALL= TBRATIO_ALL=
if [ -s "$SC_MODEL" ]; then
    cp "$SC_MODEL" "$TD/credit_100x6.json"
    say ""
    say "-- (j) durable submits/s, scorecard policy vs 100x6 tree policy (load average $(loadavg))"
    r=1
    while [ $r -le "$ROUNDS" ]; do
        if [ $((r % 2)) -eq 1 ]; then
            policy_round card "$TD/card.conf"; card=$pv
            policy_round tree "$TD/tree.conf"; tree=$pv
            policy_round bundled "$TMPROOT/policy/default.conf"; bund=$pv
        else
            policy_round bundled "$TMPROOT/policy/default.conf"; bund=$pv
            policy_round tree "$TD/tree.conf"; tree=$pv
            policy_round card "$TD/card.conf"; card=$pv
        fi
        tr=$(calc 'printf "%.2f", b / a' "$card" "$tree")
        br=$(calc 'printf "%.2f", b / a' "$card" "$bund")
        say "round $r: scorecard $(num_or_na "$card")/s, 100x6 tree $(num_or_na "$tree")/s ($tr), bundled default $(num_or_na "$bund")/s ($br)"
        TCARD_ALL="$TCARD_ALL ${card:-n/a}" TTREE_ALL="$TTREE_ALL ${tree:-n/a}" TRATIO_ALL="$TRATIO_ALL $tr"
        TBUND_ALL="$TBUND_ALL ${bund:-n/a}" TBRATIO_ALL="$TBRATIO_ALL $br"
        r=$((r + 1))
    done
else
    say "bench: (j) tree-policy submits skipped: no $SC_MODEL"
fi
set -- $(median3 $TCARD_ALL); TCARD_MED=$1
set -- $(median3 $TTREE_ALL); TTREE_MED=$1
set -- $(median3 $TBUND_ALL); TBUND_MED=$1
med2() { printf '%s\n' $* | grep -v '^n/a$' | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit } printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
TRATIO_MED=$(med2 $TRATIO_ALL)
TBRATIO_MED=$(med2 $TBRATIO_ALL)

# ---- (k) TLS ---------------------------------------------------------------------
# (b)'s load (16 conns x 64, $SUBMIT_S s, audit log on) over TLS and in
# plaintext on fresh servers, alternating which goes first.  The TLS servers
# use throw-away certificates from scripts/make-certs.sh (P-256, TLS 1.3);
# bench_load -A makes its handshakes before the clock starts, and its own
# TLS work shares the machine's cores with the server.  Then one fresh TLS
# server holding 1000 idle connections, each after HELLO (with the
# bootstrap admin API key when this hitlqd has `auth`) and PING.
KC=$TMPROOT/certs
KTLS_ALL= KPLAIN_ALL= KRATIO_ALL= IDLE_BEFORE= IDLE_AFTER= IDLE_DELTA= IDLE_HOW=
# tls_round NAME CONF [BENCH_LOAD ARGS]: one durable-submit run; sets kv
tls_round() {
    sync
    kv=
    start_server "$1" "$2" || return 0
    kn=$1; shift 2
    run "$O/$kn.$r" 60 "$BL" submit -P "$PORTFILE" -c 16 -d 64 -t "$SUBMIT_S" -n 2000000 "$@"
    kv=$(awk '/durable submits\/s/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/$kn.$r")
    grep -q ABORTED "$O/$kn.$r" && kv=
    server_alive "$kn round $r" && stop_server
    rm -rf "$SRV_DIR/data"
}
say ""
say "-- (k) TLS: durable submits/s over TLS vs plaintext, then 1000 idle TLS connections (load average $(loadavg))"
if sh scripts/make-certs.sh "$KC" > "$O/make-certs" 2>&1; then
    printf 'map_size_mb = 32768\nhttp_listen = "127.0.0.1:0"\ntls_cert = "%s/server.pem"\ntls_key = "%s/server.key"\n' \
        "$KC" "$KC" > "$TMPROOT/policy/tls.conf"
    r=1
    while [ $r -le "$ROUNDS" ]; do
        if [ $((r % 2)) -eq 1 ]; then
            tls_round plain "$TMPROOT/policy/default.conf"; kplain=$kv
            tls_round tls "$TMPROOT/policy/tls.conf" -A "$KC/ca.pem" -L " (TLS)"; ktls=$kv
        else
            tls_round tls "$TMPROOT/policy/tls.conf" -A "$KC/ca.pem" -L " (TLS)"; ktls=$kv
            tls_round plain "$TMPROOT/policy/default.conf"; kplain=$kv
        fi
        kr=$(calc 'printf "%.2f", b / a' "$(num_or_na "$kplain")" "$(num_or_na "$ktls")")
        say "round $r: plaintext $(num_or_na "$kplain")/s, TLS $(num_or_na "$ktls")/s, TLS/plaintext $kr"
        KPLAIN_ALL="$KPLAIN_ALL ${kplain:-n/a}" KTLS_ALL="$KTLS_ALL ${ktls:-n/a}" KRATIO_ALL="$KRATIO_ALL $kr"
        r=$((r + 1))
    done
    # 1000 connections + the server's own files: raise a 1024 soft limit
    [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ] && ulimit -n 4096 2>/dev/null
    cp "$TMPROOT/policy/tls.conf" "$TMPROOT/policy/idle.conf"
    # all 1000 come from 127.0.0.1: lift the per-address cap (default 256)
    printf 'max_connections = 2048\nmax_connections_per_addr = 2048\n' >> "$TMPROOT/policy/idle.conf"
    "$HITLQD" -C 2>/dev/null | grep -q '^auth =' && printf 'auth = 1\n' >> "$TMPROOT/policy/idle.conf"
    if start_server idletls "$TMPROOT/policy/idle.conf"; then
        if [ -s "$SRV_DIR/data/admin.key" ]; then
            IDLE_HOW="HELLO with api_key"; set -- -K "$SRV_DIR/data/admin.key"
        else
            IDLE_HOW="HELLO without api_key: no auth in this build"; set --
        fi
        say "bench: (k) fresh TLS server VmRSS before = $(num_or_na "$(rss_kb "$SRV_PID")") kB"
        run "$O/idle" 120 "$BL" idle-tls -P "$PORTFILE" -A "$KC/ca.pem" -n 1000 -t 2 -s "$SRV_PID" "$@"
        if grep -q '^bench: idle-tls conns = 1000' "$O/idle"; then
            IDLE_BEFORE=$(field "$O/idle" "bench: idle-tls" before)
            IDLE_AFTER=$(field "$O/idle" "bench: idle-tls" after)
            IDLE_DELTA=$(field "$O/idle" "bench: idle-tls" delta)
        fi
        say "bench: (k) hitlqd VmRSS with 1000 idle TLS connections = $(num_or_na "$IDLE_AFTER") kB (before $(num_or_na "$IDLE_BEFORE") kB, delta $(num_or_na "$IDLE_DELTA") kB; $IDLE_HOW)"
        server_alive "idle-tls" && stop_server
    fi
else
    say "bench: (k) skipped: scripts/make-certs.sh failed:"; tail -3 "$O/make-certs"
fi
set -- $(median3 $KTLS_ALL); KTLS_MED=$1
set -- $(median3 $KPLAIN_ALL); KPLAIN_MED=$1
KRATIO_MED=$(med2 $KRATIO_ALL)
KRATIO_MIN=$(printf '%s\n' $KRATIO_ALL | grep -v '^n/a$' | sort -n | head -1)
KRATIO_MAX=$(printf '%s\n' $KRATIO_ALL | grep -v '^n/a$' | sort -n | tail -1)
IDLE_MIB=$(calc 'printf "%.1f", a / 1024' "$(num_or_na "$IDLE_AFTER")" 0)
IDLE_DMIB=$(calc 'printf "%.1f", a / 1024' "$(num_or_na "$IDLE_DELTA")" 0)

# ---- (l) bad API keys -------------------------------------------------------------
# docs/RELIABILITY.md T5 item 19: 1,000 bad API keys/s, CPU < 50 % of one core.
# tests/bench/bench_auth.c opens a new connection per attempt, paced evenly at
# 1000/s for 5 s, sends HELLO with a well-formed bad key (alternately a
# random unknown key id, and the bootstrap admin key's id with a wrong
# secret), reads the reply and waits for the close.  Server CPU is its
# utime+stime delta (/proc/PID/stat) over the wall time.  Fresh `auth = 1`
# server per run (the failure limit's state must not carry over), $AUTH_RUNS
# runs per variant, median.  Variants by source address:
#   1     all from 127.0.0.1: blocked after 5 failures, the rest answered
#         unchecked ~100 ms late
#   200   127.0.0.2-127.0.0.201: 5 attempts/s each, so each address is
#         verified 6 times and then blocked for the rest of the run
#   2000  127.0.0.2 up: 2.5 attempts per address per run, never over the
#         limit, so every key is really verified (the worst case for CPU)
BAU=$B/tests/bench_auth
AUTH_RUNS=${BENCH_AUTH_RUNS:-3}
AUTH_VARIANTS="1 200 2000"
# auth_round ADDRS: one run on a fresh server; output in $O/auth.ADDRS.$r
auth_round() {
    start_server "auth$1" "$TMPROOT/policy/auth.conf" || return 0
    run "$O/auth.$1.$r" 60 "$BAU" -P "$PORTFILE" -s "$SRV_PID" -K "$SRV_DIR/data/admin.key" \
        -a "$1" -r 1000 -t 5
    server_alive "bench_auth -a $1 round $r" && stop_server
    rm -rf "$SRV_DIR/data"
}
# auth_med ADDRS NAME: median (one decimal) of NAME over the runs
auth_med() {
    for f in "$O"/auth."$1".*; do field "$f" "bench: auth" "$2"; done | grep -v '^n/a$' |
        sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
            printf "%.1f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# auth_sum ADDRS NAME...: the sum of the NAMEs over every run
auth_sum() {
    a=$1; shift
    for f in "$O"/auth."$a".*; do for n in "$@"; do field "$f" "bench: auth" "$n"; done; done |
        awk '{ s += $1 } END { printf "%d", s }'
}
say ""
say "-- (l) 1000 bad API keys/s for 5 s, new connection each, from 1 / 200 / 2000 addresses (load average $(loadavg))"
if [ ! -x "$BAU" ]; then
    say "bench: (l) skipped: $BAU is missing (make $BAU)"
elif ! "$HITLQD" -C 2>/dev/null | grep -q '^auth ='; then
    say "bench: (l) skipped: this hitlqd has no \`auth\` option"
else
    printf 'map_size_mb = 32768\nauth = 1\n' > "$TMPROOT/policy/auth.conf"
    r=1
    while [ $r -le "$AUTH_RUNS" ]; do
        for v in $AUTH_VARIANTS; do auth_round "$v"; done
        r=$((r + 1))
    done
    for v in $AUTH_VARIANTS; do
        say "bench: (l) $v address(es): server CPU median $(auth_med "$v" server_cpu_pct)% of a core," \
            "achieved $(auth_med "$v" achieved_per_s)/s; over $AUTH_RUNS runs:" \
            "unauthorized $(auth_sum "$v" verified blocked) (verified $(auth_sum "$v" verified)," \
            "blocked $(auth_sum "$v" blocked)), closed without reply $(auth_sum "$v" closed)," \
            "other $(auth_sum "$v" other failed timeout)"
    done
fi

# ---- (m) drift review aggregates --------------------------------------------------
# tests/bench/bench_drift.c, no server: the running aggregates `hitlq-audit drift`
# updates per replayed entry (7 confusion matrices, 2 calibration tables, 3
# histogram bins, the QA IPW sums), 1M generated entries, one thread, median of
# 5.  Target: at most a fifth of the 2 us per entry that the tool's
# 500k entries/s allows, i.e. >= 2.5M entries/s.
BD=$B/tests/bench_drift
DR_NS= DR_RATE= DR_FIN=
say ""
say "-- (m) drift review aggregate updates per entry, one thread (load average $(loadavg))"
if [ -x "$BD" ]; then
    run "$O/drift" 300 "$BD" -n 1000000 -r 5 > /dev/null || say "WARNING: bench_drift failed (status $?)"
    DR_NS=$(field "$O/drift" "bench: drift updates" ns_per_entry)
    DR_RATE=$(field "$O/drift" "bench: drift updates" entries_per_s)
    DR_FIN=$(field "$O/drift" "bench: drift finalize" us)
    say "bench: (m) drift aggregates: $(num_or_na "$DR_NS") ns/entry, $(num_or_na "$DR_RATE") entries/s; report finalize $(num_or_na "$DR_FIN") us"
else
    say "bench: (m) skipped: $BD is missing (make $BD)"
fi

# ---- (o) input-drift histograms ---------------------------------------------------
# (b)'s load (16 conns x 64, $SUBMIT_S s, audit log on) on the bundled policy
# from files: once as it is (it names credit_profile.json: every item's inputs
# binned on the loop thread, one increment per input and one LMDB update per
# window and batch in the commit thread) and once without its "profile" key,
# fresh servers, alternating which goes first; the figure is the median of the
# per-round ratios on / off.  Target: the histograms cost <= 5 %.
OD=$TMPROOT/drift
mkdir -p "$OD"
cp server/score/defaults/credit_xgb.json server/score/defaults/credit_profile.json \
    server/score/defaults/credit_policy.json "$OD/"
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
p["types"]["credit_application"].pop("profile")
json.dump(p, open(sys.argv[2], "w"), indent=1)' "$OD/credit_policy.json" "$OD/noprofile_policy.json"
printf 'policy = "%s"\nmap_size_mb = 32768\n' "$OD/credit_policy.json" > "$OD/on.conf"
printf 'policy = "%s"\nmap_size_mb = 32768\n' "$OD/noprofile_policy.json" > "$OD/off.conf"
PON_ALL= POFF_ALL= PRATIO_ALL=
say ""
say "-- (o) durable submits/s, bundled policy with / without its input-drift profile (load average $(loadavg))"
r=1
while [ $r -le "$ROUNDS" ]; do
    if [ $((r % 2)) -eq 1 ]; then
        policy_round profon "$OD/on.conf"; pon=$pv
        policy_round profoff "$OD/off.conf"; poff=$pv
    else
        policy_round profoff "$OD/off.conf"; poff=$pv
        policy_round profon "$OD/on.conf"; pon=$pv
    fi
    pr=$(calc 'printf "%.3f", b / a' "$(num_or_na "$poff")" "$(num_or_na "$pon")")
    say "round $r: profile on $(num_or_na "$pon")/s, off $(num_or_na "$poff")/s, on/off $pr"
    PON_ALL="$PON_ALL ${pon:-n/a}" POFF_ALL="$POFF_ALL ${poff:-n/a}" PRATIO_ALL="$PRATIO_ALL $pr"
    r=$((r + 1))
done
set -- $(median3 $PON_ALL); PON_MED=$1
set -- $(median3 $POFF_ALL); POFF_MED=$1
PRATIO_MED=$(printf '%s\n' $PRATIO_ALL | grep -v '^n/a$' | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit } printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
say "bench: (o) input-drift histograms: durable submits/s profile on / off = $PRATIO_MED (median of $ROUNDS per-round ratios; on $(num_or_na "$PON_MED")/s, off $(num_or_na "$POFF_MED")/s)"

# ---- (p) the asynchronous API: claim+resolve cycles/s ---------------------------
# 16 specialists over a pre-filled queue, each cycle CLAIM (wait) -> RESOLVE:
# 16 contexts of hitlq_async.h on one libevent loop vs 16 threads with
# blocking contexts, both on the same server in alternating order, under
# the bundled default policy (XGBoost, exact TreeSHAP at CLAIM) and the
# scorecard policy (scorecard_policy.json with auto_threshold 1.0, so every
# item queues: $TMPROOT/policy/bench.conf).  Plus the async API with 16
# cycles in flight per context (the shape of (d)'s pipelined claim+resolve).
# Medians of ASYNC_ROUNDS.
BAS=$B/tests/bench_async
ASYNC_ROUNDS=${BENCH_ASYNC_ROUNDS:-3}
ASYNC_S=${BENCH_ASYNC_SECONDS:-3}
# async_round NAME CONF FILL: one server, async, blocking and pipelined async
# runs; sets av bv pv
async_round() {
    av= bv= pv=
    start_server "$1" "$2" || return 0
    run "$O/$1.fill.$r" 300 "$BL" fill -P "$PORTFILE" -n "$3" -t 240 > /dev/null
    for mode in $(if [ $((r % 2)) -eq 1 ]; then echo async blocking pipe; else echo pipe blocking async; fi); do
        if [ "$mode" = pipe ]; then
            run "$O/$1.$mode.$r" 60 "$BAS" async -P "$PORTFILE" -c 16 -d 16 -t "$ASYNC_S"
        else
            run "$O/$1.$mode.$r" 60 "$BAS" "$mode" -P "$PORTFILE" -c 16 -t "$ASYNC_S"
        fi
        v=$(awk '/claim\+resolve cycles\/s/ && !/EMPTY/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/$1.$mode.$r")
        case $mode in async) av=$v ;; blocking) bv=$v ;; pipe) pv=$v ;; esac
    done
    server_alive "$1 round $r" && stop_server
    rm -rf "$SRV_DIR/data"
}
AS_XGB_A= AS_XGB_B= AS_CARD_A= AS_CARD_B= AS_XGB_P= AS_CARD_P=
if [ -x "$BAS" ]; then
    say ""
    say "-- (p) async API: claim+resolve cycles/s, 16 specialists, async (one loop) vs blocking (16 threads) (load average $(loadavg))"
    r=1
    while [ $r -le "$ASYNC_ROUNDS" ]; do
        async_round async-xgb "$TMPROOT/policy/default.conf" "${BENCH_FILL_ASYNC_XGB:-150000}"
        AS_XGB_A="$AS_XGB_A $(num_or_na "$av")" AS_XGB_B="$AS_XGB_B $(num_or_na "$bv")"
        AS_XGB_P="$AS_XGB_P $(num_or_na "$pv")"
        async_round async-card "$TMPROOT/policy/bench.conf" "${BENCH_FILL_ASYNC_CARD:-300000}"
        AS_CARD_A="$AS_CARD_A $(num_or_na "$av")" AS_CARD_B="$AS_CARD_B $(num_or_na "$bv")"
        AS_CARD_P="$AS_CARD_P $(num_or_na "$pv")"
        r=$((r + 1))
    done
    set -- $(median3 $AS_XGB_A);  AS_XGB_AM="$1 ($2-$3)"
    set -- $(median3 $AS_XGB_B);  AS_XGB_BM="$1 ($2-$3)"
    set -- $(median3 $AS_CARD_A); AS_CARD_AM="$1 ($2-$3)"
    set -- $(median3 $AS_CARD_B); AS_CARD_BM="$1 ($2-$3)"
    set -- $(median3 $AS_XGB_P);  AS_XGB_PM="$1 ($2-$3)"
    set -- $(median3 $AS_CARD_P); AS_CARD_PM="$1 ($2-$3)"
    say "bench: (p) bundled default policy: async $AS_XGB_AM, blocking $AS_XGB_BM cycles/s, 1 in flight each; async 16 in flight each $AS_XGB_PM (median (min-max) of $ASYNC_ROUNDS)"
    say "bench: (p) scorecard policy: async $AS_CARD_AM, blocking $AS_CARD_BM cycles/s, 1 in flight each; async 16 in flight each $AS_CARD_PM (median (min-max) of $ASYNC_ROUNDS)"
else
    say "note: $BAS missing: (p) skipped"
fi

# ---- (q) the workstation: one `hitlq work --plain` specialist ------------------
# Bundled default policy; filled with (d)'s filler until ~100k wait on
# credit_review (about 62% of the German Credit mix queues, most there);
# scripts/bench_work.py times decide (key `1`) -> next item shown.
sync
say ""
WORK_FILL=${BENCH_WORK_FILL:-160000}
say "-- (q) hitlq work --plain: decide -> next item shown, after filling $WORK_FILL (bundled policy; load average $(loadavg))"
WORK_P50= WORK_P99=
if [ -x "$B/hitlq" ] && start_server work "$TMPROOT/policy/default.conf"; then
    run "$O/fill.work" 300 "$BL" fill -P "$PORTFILE" -n "$WORK_FILL" -t 240
    run "$O/work.depth" 30 "$BL" stats -P "$PORTFILE"
    run "$O/work" 300 python3 scripts/bench_work.py "$B/hitlq" "$(cat "$PORTFILE")" credit_review \
        "${BENCH_WORK_N:-2000}"
    WORK_P50=$(sed -n 's/.*decide->next p50_ms=\([0-9.]*\).*/\1/p' "$O/work")
    WORK_P99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' "$O/work")
    server_alive "work" && stop_server
    rm -rf "$SRV_DIR/data"
fi
say "bench: (q) hitlq work --plain decide -> next item shown: p50 $(num_or_na "$WORK_P50") ms, p99 $(num_or_na "$WORK_P99") ms (n=$(sed -n "s/.* n=\([0-9]*\).*/\1/p" "$O/work" | head -n 1))"

# ---- (r) durable submits/s with a /metrics scrape every second ------------------
# (b)'s load on fresh servers (default policy, audit log on), once with a
# curl of /metrics every second and of the dashboard's /api/v1/overview
# every 2 s (what an open dashboard page fetches) for the whole run and
# once without,
# alternating which goes first; the figure is the median of the per-round
# ratios scraped / not.  Target >= 0.95.
scrape_round() {  # scrape_round on|off: sets sv
    sync
    sv=
    start_server "scrape$1" "$TMPROOT/policy/default.conf" || return 0
    hp=$(cat "$PORTFILE.http" 2>/dev/null)
    spid=
    if [ "$1" = on ] && [ -n "$hp" ]; then
        (n=0; while [ $n -lt 120 ]; do
             curl -s -o /dev/null -m 2 "http://127.0.0.1:$hp/metrics"
             [ $((n % 2)) -eq 0 ] && curl -s -o /dev/null -m 2 "http://127.0.0.1:$hp/api/v1/overview"
             sleep 1; n=$((n + 1))
         done) &
        spid=$!
    fi
    run "$O/scrape$1.$r" 60 "$BL" submit -P "$PORTFILE" -c 16 -d 64 -t "$SUBMIT_S" -n 2000000
    [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
    sv=$(awk '/durable submits\/s/ { for (i = 1; i < NF; i++) if ($i == "=") { print $(i + 1); exit } }' "$O/scrape$1.$r")
    grep -q ABORTED "$O/scrape$1.$r" && sv=
    server_alive "scrape$1 round $r" && stop_server
    rm -rf "$SRV_DIR/data"
}
SON_ALL= SOFF_ALL= SRATIO_ALL=
say ""
say "-- (r) durable submits/s with / without a /metrics scrape every 1 s + overview every 2 s (load average $(loadavg))"
if command -v curl >/dev/null 2>&1; then
    r=1
    while [ $r -le "$ROUNDS" ]; do
        if [ $((r % 2)) -eq 1 ]; then
            scrape_round on; son=$sv; scrape_round off; soff=$sv
        else
            scrape_round off; soff=$sv; scrape_round on; son=$sv
        fi
        sr=$(calc 'printf "%.3f", b / a' "$(num_or_na "$soff")" "$(num_or_na "$son")")
        say "round $r: scraped $(num_or_na "$son")/s, not $(num_or_na "$soff")/s, ratio $sr"
        SON_ALL="$SON_ALL ${son:-n/a}" SOFF_ALL="$SOFF_ALL ${soff:-n/a}" SRATIO_ALL="$SRATIO_ALL $sr"
        r=$((r + 1))
    done
else
    say "note: curl missing: (r) skipped"
fi
set -- $(median3 $SON_ALL); SON_MED=$1
set -- $(median3 $SOFF_ALL); SOFF_MED=$1
SRATIO_MED=$(printf '%s\n' $SRATIO_ALL | grep -v '^n/a$' | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit } printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
say "bench: (r) durable submits/s with a scrape every second (+ overview every 2 s) / without = $SRATIO_MED (median of $ROUNDS per-round ratios; scraped $(num_or_na "$SON_MED")/s, not $(num_or_na "$SOFF_MED")/s)"

# ---- (s) /metrics scrape time with 1,000 queues holding items ------------------
# A policy of 16 types copying the bench scorecard type, each with 64
# escalate_to queues (1,024 known besides the 16 review queues); 1,000
# items submitted, each claimed and ESCALATEd to its own queue, then 50
# GETs of /metrics, each on a new connection (scripts/bench_queues.py).
# Target: < 50 ms.
QS_MED= QS_P99= QS_MAX= QS_CPU=
say ""
say "-- (s) /metrics scrape time, 1,000 queues holding items (load average $(loadavg))"
python3 scripts/bench_queues.py policy "$TMPROOT/policy"
printf 'policy = "%s"\nmap_size_mb = 4096\nhttp_listen = "127.0.0.1:0"\n' \
    "$TMPROOT/policy/queues_policy.json" > "$TMPROOT/policy/queues.conf"
if start_server queues "$TMPROOT/policy/queues.conf"; then
    run "$O/queues" 600 python3 scripts/bench_queues.py run "$B/hitlq" "$(cat "$PORTFILE")" \
        "$(cat "$PORTFILE.http" 2>/dev/null)" 1000 50
    QS_MED=$(sed -n 's/.* median_ms=\([0-9.]*\).*/\1/p' "$O/queues")
    QS_P99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' "$O/queues")
    QS_MAX=$(sed -n 's/.* max_ms=\([0-9.]*\).*/\1/p' "$O/queues")
    QS_CPU=$(sed -n 's/.* server_cpu_ms_per_scrape=\([0-9.]*\).*/\1/p' "$O/queues")
    server_alive "queues" && stop_server
    rm -rf "$SRV_DIR/data"
fi
say "bench: (s) /metrics with 1,000 queues holding items: median $(num_or_na "$QS_MED") ms, p99 $(num_or_na "$QS_P99") ms of 50 scrapes ($(sed -n 's/.*\(series=[0-9]*\) \(bytes=[0-9]*\).*/\1, \2/p' "$O/queues" 2>/dev/null)), server CPU $(num_or_na "$QS_CPU") ms a scrape"

# ---- (t) a good client beside 200 hostile connections -------------------------
# tests/bench/bench_hostile.c on one server (bench policy): one connection
# x 64 SUBMITs in flight runs through 2R+1 phases (alone, hostile, alone,
# ...), each 1 s settle + BENCH_HOSTILE_SECONDS (10) measured; a hostile
# phase adds 50 each of random-byte senders, slowloris, never-reading
# GET/PING pipeliners and idle sockets from 5 addresses, re-opened when
# closed.  Targets: throughput ratio >= 0.8, p99 ratio <= 3.
HO_TP= HO_P99X= HO_LINE=
BH=$B/tests/bench_hostile
say ""
say "-- (t) good client alone vs beside 200 hostile connections (load average $(loadavg))"
if [ -x "$BH" ] && start_server hostile "$TMPROOT/policy/bench.conf"; then
    HO_S=${BENCH_HOSTILE_SECONDS:-10}
    run "$O/hostile" $(( (2 * ROUNDS + 1) * (HO_S + 1) + 120 )) "$BH" -P "$PORTFILE" -t "$HO_S" -r "$ROUNDS"
    HO_LINE=$(grep '^bench: hostile: ' "$O/hostile")
    HO_TP=$(printf '%s\n' "$HO_LINE" | sed -n 's/.*; ratio \([0-9.]*\) throughput.*/\1/p')
    HO_P99X=$(printf '%s\n' "$HO_LINE" | sed -n 's/.* throughput, \([0-9.]*\)x p99.*/\1/p')
    server_alive "hostile" && stop_server
    rm -rf "$SRV_DIR/data"
else
    say "note: $BH missing or no server: (t) skipped"
fi

# ---- summary ------------------------------------------------------------------
verdict() {  # verdict VALUE OP TARGET
    case $1 in ''|n/a) printf 'NOT met (no figure)'; return ;; esac
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
        printf "%s", ok ? "met" : "NOT met" }'
}
CL_RATIO=$(calc 'printf "%.2f", b / a' "$(num_or_na "$CL10_P50")" "$(num_or_na "$CL1M_P50")")
CL_RATIO99=$(calc 'printf "%.2f", b / a' "$(num_or_na "$CL10_P99")" "$(num_or_na "$CL1M_P99")")
T_TOTAL=$(( $(date +%s) - T_BEGIN ))
say ""
say "================ hitlq bench summary ($(date -u +%Y-%m-%dT%H:%M:%SZ), ${T_TOTAL} s, load average now $(loadavg)) ================"
printf '%-58s %-30s %-16s %s\n' "figure" "value" "target" "verdict"
printf '%-58s %-30s %-16s %s\n' "(a) raw LMDB durable inserts/s, 256/commit (ceiling)" \
    "$LMDB_MED ($LMDB_MIN-$LMDB_MAX)" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(b) durable submits/s, 16 conns x 64, median of $ROUNDS" \
    "$SUB_MED ($SUB_MIN-$SUB_MAX)" ">= 150000" "$(verdict "$SUB_MED" ">=" 150000)"
printf '%-58s %-30s %-16s %s\n' "(b) ratio to raw LMDB (median of per-round ratios)" \
    "$RATIO_MED (${RATIO_MIN:-n/a}-${RATIO_MAX:-n/a})" ">= 0.3" "$(verdict "$RATIO_MED" ">=" 0.3)"
printf '%-58s %-30s %-16s %s\n' "(c) submit latency p99 at offered 20k/s, send->reply (us)" \
    "$(num_or_na "$LAT_P99") (p50 $(num_or_na "$LAT_P50"), p99.9 $(num_or_na "$LAT_P999"))" "<= 5000" "$(verdict "$LAT_P99" "<=" 5000)"
printf '%-58s %-30s %-16s %s\n' "(c) same, p99 from the scheduled send time (us)" \
    "$(num_or_na "$LAT_SCHED_P99")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(d) claim+resolve cycles/s, 16 specialists" \
    "$(num_or_na "$CLAIM_RATE")" ">= 30000" "$(verdict "$CLAIM_RATE" ">=" 30000)"
printf '%-58s %-30s %-16s %s\n' "(e) claim latency p50 us, 10k queued / $BIG queued" \
    "$(num_or_na "$CL10_P50") / $(num_or_na "$CL1M_P50")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(e) claim latency p99 us, 10k queued / $BIG queued" \
    "$(num_or_na "$CL10_P99") / $(num_or_na "$CL1M_P99") (ratio $CL_RATIO99)" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(e) claim latency ratio $BIG / 10k (p50)" \
    "$CL_RATIO" "<= 1.5" "$(verdict "$CL_RATIO" "<=" 1.5)"
printf '%-58s %-30s %-16s %s\n' "(f) restart, $BIG queued: launch -> first PING (ms)" \
    "$(num_or_na "$RESTART_PING") (port file $(num_or_na "$RESTART_PORT"))" "<= 1000" "$(verdict "$RESTART_PING" "<=" 1000)"
printf '%-58s %-30s %-16s %s\n' "(f) shutdown, $BIG queued: SIGTERM -> exit (ms)" \
    "$(num_or_na "$STOP_MS")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(g) VmRSS kB: after submits / $BIG queued / restarted" \
    "$(num_or_na "$RSS_SUBMIT") / $(num_or_na "$RSS_1M") / $(num_or_na "$RSS_RESTART")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(h) submits per fdatasync (strace)" \
    "$(num_or_na "$OPS_PER_SYNC")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(h) bytes written to disk per submit" \
    "$(num_or_na "$BYTES_PER_OP")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(i) durable submits/s with the audit log off, median" \
    "$OFF_MED ($OFF_MIN-$OFF_MAX)" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(i) submits/s audit on / off (median of per-round ratios)" \
    "$ARATIO_MED (${ARATIO_MIN:-n/a}-${ARATIO_MAX:-n/a})" ">= 0.85" "$(verdict "$ARATIO_MED" ">=" 0.85)"
printf '%-58s %-30s %-16s %s\n' "(i) audit append us/entry: commit thread + loop thread" \
    "$(num_or_na "$A_COMMIT") + $(num_or_na "$A_LOOP")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(i) inclusion proof at $(num_or_na "$P_SIZE") entries: hashes" \
    "$(num_or_na "$P_HASHES")" "<= 20" "$(verdict "$P_HASHES" "<=" 20)"
printf '%-58s %-30s %-16s %s\n' "(i) inclusion proof served, median us (p99)" \
    "$(num_or_na "$P_MED") ($(num_or_na "$P_P99"))" "< 100" "$(verdict "$P_MED" "<=" 99.9)"
printf '%-58s %-30s %-16s %s\n' "(i) hitlq-audit verify entries/s, one core" \
    "$(num_or_na "$V_RATE")" ">= 500000" "$(verdict "$V_RATE" ">=" 500000)"
printf '%-58s %-30s %-16s %s\n' "(i) hitlq-audit drift entries/s, one core (with verify)" \
    "$(num_or_na "$D_RATE")" ">= 500000" "$(verdict "$D_RATE" ">=" 500000)"
printf '%-58s %-30s %-16s %s\n' "(j) hitlq vs XGBoost C API on every row (1e-6, phi 1e-5)" \
    "$(num_or_na "$SC_CHECK")" "ok" "$([ "$SC_CHECK" = ok ] && printf met || printf 'NOT met')"
printf '%-58s %-30s %-16s %s\n' "(j) scorecard ns/item (embedded default, one thread)" \
    "$(num_or_na "$SC_CARD")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(j) score_item ns/item, embedded default policy's model" \
    "$(num_or_na "$SC_POLICY")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(j) xgb 100x6 ns/item, hitlq xgb_predict" \
    "$(num_or_na "$SC_XGB")" "<= 2000" "$(verdict "$SC_XGB" "<=" 2000)"
printf '%-58s %-30s %-16s %s\n' "(j) xgb 100x6 ns/item, XGBoost C API, 1 row per call" \
    "$(num_or_na "$SC_CAPI")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(j) xgb 100x6 speedup, hitlq over XGBoost C API" \
    "${SC_SPEEDUP:-n/a}${SC_SPEEDUP:+x}" ">= 5x" "$(verdict "$SC_SPEEDUP" ">=" 5)"
printf '%-58s %-30s %-16s %s\n' "(j) contributions ns/item, hitlq approx / exact" \
    "$(num_or_na "$SC_APPROX") / $(num_or_na "$SC_EXACT")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(j) predict + approx in one pass ns/item (what SUBMIT runs)" \
    "$(num_or_na "$SC_FUSED")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(j) contributions ns/item, XGBoost approx / exact" \
    "$(num_or_na "$SC_CAPI_APPROX") / $(num_or_na "$SC_CAPI_EXACT")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(j) durable submits/s, scorecard / 100x6 tree policy" \
    "$(num_or_na "$TCARD_MED") / $(num_or_na "$TTREE_MED")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(j) submits/s 100x6 tree / scorecard (median of ratios)" \
    "$(num_or_na "$TRATIO_MED")" ">= 0.8" "$(verdict "$TRATIO_MED" ">=" 0.8)"
printf '%-58s %-30s %-16s %s\n' "(j) submits/s bundled 60x3 tree policy / scorecard" \
    "$(num_or_na "$TBUND_MED")/s, ratio $(num_or_na "$TBRATIO_MED")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(k) durable submits/s, TLS / plaintext, medians" \
    "$(num_or_na "$KTLS_MED") / $(num_or_na "$KPLAIN_MED")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(k) durable submits/s TLS / plaintext (median of ratios)" \
    "$(num_or_na "$KRATIO_MED") (${KRATIO_MIN:-n/a}-${KRATIO_MAX:-n/a})" ">= 0.7" "$(verdict "$KRATIO_MED" ">=" 0.7)"
case $IDLE_HOW in
    *"with api_key"*) IDLE_ROW="(k) server RSS, 1000 idle authenticated TLS conns" ;;
    *) IDLE_ROW="(k) server RSS, 1000 idle TLS conns (HELLO without api_key)" ;;
esac
printf '%-58s %-30s %-16s %s\n' "$IDLE_ROW" \
    "$IDLE_MIB MiB (delta $IDLE_DMIB MiB)" "<= 64 MiB" "$(verdict "$IDLE_MIB" "<=" 64)"
# (l): the CPU figure counts only if the client kept up (>= 950/s)
auth_row() {  # auth_row ADDRS LABEL
    c=$(auth_med "$1" server_cpu_pct) ar=$(auth_med "$1" achieved_per_s)
    cv="$c% of a core at $ar/s"
    [ "$c" = n/a ] && cv=n/a
    vd=$(verdict "$c" "<=" 50)
    [ "$vd" = met ] && [ "$(verdict "$ar" ">=" 950)" != met ] && vd="NOT met (rate $ar/s)"
    printf '%-58s %-30s %-16s %s\n' "(l) server CPU at 1000 bad API keys/s, $2" \
        "$cv" "<= 50%" "$vd"
}
if [ -x "$BAU" ] && ls "$O"/auth.* > /dev/null 2>&1; then
    auth_row 1 "one address"
    auth_row 200 "200 addresses"
    auth_row 2000 "2000 addresses"
    printf '%-58s %s\n' "(l) replies verified/blocked/none/other, 1 / 200 / 2000 addrs" \
        "$(for v in $AUTH_VARIANTS; do printf '%s%s/%s/%s/%s' "${sep:-}" "$(auth_sum "$v" verified)" \
            "$(auth_sum "$v" blocked)" "$(auth_sum "$v" closed)" "$(auth_sum "$v" other failed timeout)"; sep=' ; '; done) ($AUTH_RUNS runs x 5000 each)"
else
    printf '%-58s %-30s %-16s %s\n' "(l) server CPU at 1000 bad API keys/s" "n/a (skipped)" "<= 50%" "NOT met (no figure)"
fi
printf '%-58s %-30s %-16s %s\n' "(m) drift aggregate updates entries/s, one thread" \
    "$(num_or_na "$DR_RATE") ($(num_or_na "$DR_NS") ns/entry)" ">= 2500000" "$(verdict "$DR_RATE" ">=" 2500000)"
printf '%-58s %-30s %-16s %s\n' "(o) submits/s input-drift profile on / off (median ratio)" \
    "$(num_or_na "$PRATIO_MED") ($(num_or_na "$PON_MED") / $(num_or_na "$POFF_MED"))" ">= 0.95" "$(verdict "$PRATIO_MED" ">=" 0.95)"
printf '%-58s %-30s %-16s %s\n' "(p) async claim+resolve/s, default policy: async / blocking" \
    "${AS_XGB_AM:-n/a} / ${AS_XGB_BM:-n/a}" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(p) async claim+resolve/s, scorecard: async / blocking" \
    "${AS_CARD_AM:-n/a} / ${AS_CARD_BM:-n/a}" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(p) async 16x16 in flight: default / scorecard" \
    "${AS_XGB_PM:-n/a} / ${AS_CARD_PM:-n/a}" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(q) hitlq work decide -> next item, p50 / p99 ms" \
    "$(num_or_na "$WORK_P50") / $(num_or_na "$WORK_P99")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(r) submits/s, /metrics every 1 s + overview 2 s / without" \
    "$(num_or_na "$SRATIO_MED") ($(num_or_na "$SON_MED") / $(num_or_na "$SOFF_MED"))" ">= 0.95" "$(verdict "$SRATIO_MED" ">=" 0.95)"
printf '%-58s %-30s %-16s %s\n' "(s) /metrics scrape ms, 1,000 queues: median (p99)" \
    "$(num_or_na "$QS_MED") ($(num_or_na "$QS_P99"))" "< 50" "$(verdict "$QS_P99" "<=" 49.99)"
printf '%-58s %-30s %-16s %s\n' "(s) server CPU ms per scrape, 1,000 queues" \
    "$(num_or_na "$QS_CPU")" "-" "-"
printf '%-58s %-30s %-16s %s\n' "(t) good client's submits/s beside 200 hostile / alone" \
    "$(num_or_na "$HO_TP")" ">= 0.8" "$(verdict "$HO_TP" ">=" 0.8)"
printf '%-58s %-30s %-16s %s\n' "(t) good client's p99 beside 200 hostile / alone" \
    "$(num_or_na "$HO_P99X")" "<= 3" "$(verdict "$HO_P99X" "<=" 3)"
say "Figures are from a shared 2-vCPU VM; compare ratios, not absolutes (docs/PERFORMANCE.md §2)."
exit 0
