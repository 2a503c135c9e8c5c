#!/bin/bash
# test-ha.sh - the failover suite (make test-ha; docs/HA.md "Failover tests").
# For each fault: a fresh cluster (scripts/ha/cluster.sh: etcd, 3 PostgreSQL
# under Patroni, synchronous strict), 3 hitlqd nodes (h1 h2 h3, each under a
# restart loop like systemd's Restart=always, each reaching PostgreSQL through
# its own proxies so it can be cut off), a bounded workload (tests/ha/ha_load.c:
# bots submitting unique keys, specialists claiming and resolving, every
# acknowledgement logged), the fault at a random moment, then the checks:
# tests/ha/ha_check.c (every acknowledged item and resolution present exactly
# once, no two valid leases on one item), every checkpoint seen during the run
# consistent with the final tree (hitlq-audit consistency) and hitlq-audit
# verify of the exported log.  Prints one line per fault, with the failover
# time (fault -> first acknowledged submit after it).
#
#   scripts/ha/test-ha.sh [FAULT ...]     default: every fault
#   faults: kill-leader kill-primary stop-leader kill-sync partition restart
#   HA_SECONDS (default 24): each run's length; HA_UNSAFE=1 runs the negative
#   control (build/ha-unsafe/hitlqd, which acknowledges before the append);
#   HA_DIRECT=1 connects the nodes straight to PostgreSQL, not through the
#   proxies (no partition fault then; bench-ha does this).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECS=${HA_SECONDS:-24}
HITLQD=${HITLQD:-$ROOT/build/hitlqd}
[ "${HA_UNSAFE:-0}" = 1 ] && HITLQD=$ROOT/build/ha-unsafe/hitlqd
LOAD=$ROOT/build/tests/ha_load
CHECK=$ROOT/build/tests/ha_check
AUDIT=$ROOT/build/hitlq-audit
CLUSTER=$ROOT/scripts/ha/cluster.sh
FAULTS=${*:-kill-leader kill-primary stop-leader kill-sync partition restart}
fails=0

log() { echo "test-ha: $*"; }

# node_conf SLOT PORT: the config of hitlqd SLOT (h1..h3).
node_conf() {
    local s=$1 port=$2 pg
    pg=$(eval "echo \"\$HITLQ_PG_${s^^}\"")      # through slot s's proxies
    [ -n "${HA_DIRECT:-}" ] && pg=$HITLQ_PG             # straight to PostgreSQL
    mkdir -p "$D/$s"
    cat >"$D/$s.conf" <<EOF
data_dir = "$D/$s"
listen = "127.0.0.1:$port"
http_listen = ""
audit_key = "$D/audit.key"
audit_checkpoint_ms = 200
ha_pg = "$pg"
ha_node = "$s"
ha_lease_ms = 4000
EOF
}

# supervise SLOT: runs hitlqd SLOT again 0.5 s after each exit (until
# $D/stop exists); the running hitlqd's pid is in $D/$SLOT.pid.
supervise() {
    local s=$1
    while [ ! -e "$D/stop" ]; do
        if [ -e "$D/$s.down" ]; then sleep 0.2; continue; fi   # the node is lost
        "$HITLQD" -c "$D/$s.conf" >>"$D/$s.log" 2>&1 &
        echo $! >"$D/$s.pid"
        wait $! 2>/dev/null
        [ -e "$D/stop" ] || sleep 0.5
    done
}

pid_of() { cat "$D/$1.pid" 2>/dev/null; }

# The slot whose hitlqd leads (from the leader row).
leader_slot() {
    psql "$HITLQ_PG options='-c statement_timeout=2000'" -qAt \
        -c "select holder from hitlq_leader where id = 1 and lease_until > clock_timestamp()" 2>/dev/null
}

wait_leader() {
    for _ in $(seq 1 150); do
        l=$(leader_slot)
        [ -n "$l" ] && { echo "$l"; return 0; }
        sleep 0.2
    done
    return 1
}

cluster_up() {
    D=$(mktemp -d /tmp/hitlq-ha-XXXXXX)
    chmod 0755 "$D"
    "$CLUSTER" up "$D/pg" >"$D/cluster.log" 2>&1 || { cat "$D/cluster.log"; return 1; }
    . "$D/pg/env"
    local servers=""
    for s in h1 h2 h3; do
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        node_conf $s "$port"
        servers="$servers${servers:+,}127.0.0.1:$port"
    done
    SERVERS=$servers
    # The log's signing key, one for the cluster (docs/HA.md), made here
    # (no store is opened); its verifier key is the auditor's trust anchor.
    "$HITLQD" -c "$D/h1.conf" -K >"$D/vkeys" || return 1
    # Each node's witness key: followers cosign the leader's checkpoints.
    cp "$D/vkeys" "$D/vkeys.all"
    for s in h1 h2 h3; do "$HITLQD" -c "$D/$s.conf" -W >>"$D/vkeys.all" || return 1; done
    supervise h1 & SUP1=$!
    wait_leader >/dev/null || { log "no leader came up"; tail -5 "$D/h1.log"; return 1; }
    supervise h2 & SUP2=$!
    supervise h3 & SUP3=$!
    sleep 1
}

cluster_down() {
    touch "$D/stop"
    for s in h1 h2 h3; do
        p=$(pid_of $s); [ -n "$p" ] && kill -CONT "$p" 2>/dev/null; [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
    done
    wait "$SUP1" "$SUP2" "$SUP3" 2>/dev/null
    "$CLUSTER" down "$D/pg" >>"$D/cluster.log" 2>&1
}

# fault NAME: injects it; $D/fault_ms gets the wall ms of the moment it
# happened (after every look-up, right before the signal or the cut).
fault() {
    local l p n
    l=$(leader_slot)
    p=$(pid_of "$l")
    now() { date +%s%3N >"$D/fault_ms"; }
    case $1 in
    kill-leader) touch "$D/$l.down"; now; kill -9 "$p" ;;
    kill-primary) n=$(cat "$D/faulted_pg"); now; "$CLUSTER" kill "$n" "$D/pg" ;;
    stop-leader) now; kill -STOP "$p"; sleep 8; kill -CONT "$p" ;;
    kill-sync) n=$(cat "$D/faulted_pg"); now; "$CLUSTER" kill "$n" "$D/pg" ;;
    partition) now; "$CLUSTER" partition "$l" "$D/pg" ;;
    restart)
        local pids="$(pid_of h1) $(pid_of h2) $(pid_of h3)"
        now; kill -9 $pids 2>/dev/null ;;
    esac
}

heal() {
    case $1 in
    kill-leader) sleep 8; rm -f "$D/$(cat "$D/faulted").down" ;;   # it comes back, follows
    partition) "$CLUSTER" heal "$(cat "$D/faulted")" "$D/pg" ;;
    kill-sync|kill-primary) "$CLUSTER" start "$(cat "$D/faulted_pg")" "$D/pg" ;;
    esac
}

# failover_ms OUT FAULT_MS: the clients' outage around the fault: the
# longest time between two consecutive acknowledgements of the probe (one
# SUBMIT at a time, tests/ha/ha_load.c) that ends after the fault, i.e.
# from the last acknowledgement before the fault took effect to the first
# one after it (wall ms; an upper bound of kill -> first acknowledgement).
failover_ms() {
    awk '$1 == "P" { print $3 }' "$1/acks.txt" | sort -n |
        awk -v t="$2" 'NR > 1 && $1 >= t && prev <= t + 30000 { g = $1 - prev; if (g > max) max = g }
                       { prev = $1 } END { print max + 0 }'
}

run_fault() {
    local f=$1 out ok=1
    cluster_up || { fails=$((fails + 1)); log "$f: cluster did not come up"; return; }
    out=$D/out; mkdir -p "$out"
    "$LOAD" run "$SERVERS" "$SECS" 8 2 "$out" >"$D/load.log" 2>&1 &
    local lp=$!
    sleep $((SECS / 4 + RANDOM % (SECS / 4)))
    leader_slot >"$D/faulted"
    [ "$f" = kill-primary ] && "$CLUSTER" primary "$D/pg" | cut -d' ' -f1 >"$D/faulted_pg"
    [ "$f" = kill-sync ] && "$CLUSTER" sync "$D/pg" | cut -d' ' -f1 >"$D/faulted_pg"
    fault "$f"
    t=$(cat "$D/fault_ms")
    [ "$f" = kill-sync ] && sleep 6
    [ "$f" = partition ] && sleep 10
    heal "$f"
    wait $lp
    fo=$(failover_ms "$out" "$t")
    if ! "$CHECK" "$SERVERS" "$out" >"$D/check.txt" 2>&1; then ok=0; fi
    cat "$D/check.txt"
    audit_checks "$out" || ok=0
    lat=$(sort -n "$out/lat.txt" | awk '{a[NR]=$1} END {if (NR) printf "batch ack p50 %d ms p99 %d ms", a[int(NR*0.5)+1], a[int(NR*0.99)+1]}')
    acks=$(grep -c '^[SP]' "$out/acks.txt")
    if [ $ok = 1 ]; then
        log "$f: ok — $acks acknowledged submits, outage ${fo} ms, $lat"
    else
        log "$f: FAILED (logs in $D)"; fails=$((fails + 1))
    fi
    cluster_down
    [ $ok = 1 ] && [ -z "${HA_KEEP:-}" ] && rm -rf "$D"
}

# Every checkpoint seen during the run is a prefix of the final tree, and
# the exported log verifies.
audit_checks() {
    local out=$1 leader
    leader=$(grep -o 'checked on [0-9.:]*' "$D/check.txt" | cut -d' ' -f3)
    "$AUDIT" export --server "$leader" --out "$out/export" >"$D/export.log" 2>&1 ||
        { log "export failed"; cat "$D/export.log"; return 1; }
    "$AUDIT" verify --vkey-file "$D/vkeys" "$out/export" >"$D/verify.log" 2>&1 ||
        { log "hitlq-audit verify failed"; cat "$D/verify.log"; return 1; }
    local final n=0
    final=$(ls "$out/export"/checkpoint* 2>/dev/null | head -1)
    for cp in "$out"/cp-*.note; do
        [ -e "$cp" ] || continue
        "$AUDIT" consistency --vkey-file "$D/vkeys" "$cp" "$final" --server "$leader" >/dev/null 2>&1 ||
            { log "checkpoint $cp is not a prefix of the final tree"; return 1; }
        n=$((n + 1))
    done
    # Cosignatures: each witness's latest cosigned checkpoint verifies
    # (log key and cosignature) and is a prefix of the final tree.
    local w=0 node size
    while read -r node size; do
        [ -n "$node" ] || continue
        psql "$HITLQ_PG" -qAt -c "select cosig from hitlq_cosig where node = '$node' and size = $size" |
            head -c -1 >"$out/cosig-$node.note"
        "$AUDIT" consistency --vkey-file "$D/vkeys.all" "$out/cosig-$node.note" "$final" \
            --server "$leader" >/dev/null 2>&1 ||
            { log "the cosigned checkpoint of $node (size $size) does not verify"; return 1; }
        w=$((w + 1))
    done < <(psql "$HITLQ_PG" -qAt -F ' ' -c "select node, max(size) from hitlq_cosig group by node")
    [ $w -ge 1 ] || { log "no follower cosigned a checkpoint"; return 1; }
    log "audit: export verified, $n checkpoints of the run are prefixes of the final tree, $w witness(es) cosigned"
}

# Sourced by scripts/ha/bench-ha.sh for its cluster functions.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
for f in $FAULTS; do run_fault "$f"; done
[ $fails = 0 ] && log "all faults passed" || log "$fails fault(s) FAILED"
exit $((fails > 0))
