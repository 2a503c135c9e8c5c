#!/bin/bash
# bench-ha.sh - make bench-ha (docs/PERFORMANCE.md "HA"): durable replicated
# submits/s of 16 pipelining bots (tests/bench/bench_load.c, 16 conns x 64 in
# flight) against the leader of a 3-node cluster (scripts/ha/cluster.sh +
# 3 hitlqd, the same set-up as the failover suite), and the same client
# against a single-node hitlqd on the same machine in the same run,
# alternated ROUNDS times; medians and their ratio; ack latency p50/p99;
# then the failover time (kill -9 of the leader -> first acknowledged
# SUBMIT, from scripts/ha/test-ha.sh's probe), median of FAILOVERS runs.
#   BENCH_SECONDS (10)  ROUNDS (3)  FAILOVERS (3)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/ha/test-ha.sh"
BL=$ROOT/build/tests/bench_load
T=${BENCH_SECONDS:-10}
ROUNDS=${ROUNDS:-3}
FAILOVERS=${FAILOVERS:-3}

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }

# bench PORT LABEL: one bench_load run; appends "rate p50_us p99_us" to $D/res.LABEL.
bench() {
    (cd "$ROOT" && "$BL" submit -p "$1" -c 16 -d 64 -t "$T" -n 100000000) >"$D/bl.out" 2>&1
    rate=$(awk '/durable submits\/s/ {print $5}' "$D/bl.out")
    lat=$(awk '/submit latency/ {print $7, $10}' "$D/bl.out")
    echo "$rate $lat" >>"$D/res.$2"
    echo "bench-ha: $2 round: $rate submits/s, latency us p50/p99 $lat"
}

single_up() {
    mkdir -p "$D/single"
    SPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$HITLQD" -c "$D/single.conf" -d "$D/single" -l "127.0.0.1:$SPORT" >"$D/single.log" 2>&1 &
    SPID=$!
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$SPORT") 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

HA_DIRECT=1 cluster_up || exit 1      # the proxies are a test device, not production
leader=$(wait_leader)
LPORT=$(sed -n 's/^listen = "127.0.0.1:\([0-9]*\)"/\1/p' "$D/$leader.conf")
printf 'http_listen = ""\naudit_checkpoint_ms = 200\n' >"$D/single.conf"   # as the nodes
for r in $(seq 1 "$ROUNDS"); do
    bench "$LPORT" ha
    single_up || { echo "bench-ha: single node did not start"; exit 1; }
    bench "$SPORT" single
    kill "$SPID"; wait "$SPID" 2>/dev/null; rm -rf "$D/single"
done
ha=$(cut -d' ' -f1 "$D/res.ha" | median)
one=$(cut -d' ' -f1 "$D/res.single" | median)
p50=$(cut -d' ' -f2 "$D/res.ha" | median)
p99=$(cut -d' ' -f3 "$D/res.ha" | median)
cluster_down
echo "bench-ha: replicated durable submits/s = $ha (median of $ROUNDS, 16 conns x 64 in flight, 3 hitlqd + 3 PostgreSQL under Patroni, synchronous strict)"
echo "bench-ha: single-node durable submits/s = $one (same run); ratio HA/single = $(awk -v a="$ha" -v b="$one" 'BEGIN {printf "%.3f", b ? a / b : 0}')"
echo "bench-ha: replicated ack latency us p50 = $p50 p99 = $p99 (closed loop, 16 x 64; medians of the rounds)"
rm -rf "$D"

: >/tmp/bench-ha-failover.$$
for i in $(seq 1 "$FAILOVERS"); do
    HA_KEEP=1 run_fault kill-leader | tee /tmp/bench-ha-run.$$ | grep 'kill-leader:'
    grep -o 'outage [0-9]* ms' /tmp/bench-ha-run.$$ | awk '{print $2}' >>/tmp/bench-ha-failover.$$
    rm -rf "$D"
done
echo "bench-ha: failover (kill -9 of the leader -> first acknowledged SUBMIT) median = $(median </tmp/bench-ha-failover.$$) ms of $FAILOVERS runs (ha_lease_ms 4000): $(tr '\n' ' ' </tmp/bench-ha-failover.$$)"
rm -f /tmp/bench-ha-failover.$$ /tmp/bench-ha-run.$$
