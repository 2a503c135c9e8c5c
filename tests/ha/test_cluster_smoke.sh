#!/bin/bash
# test_cluster_smoke.sh - smoke test of the HA development cluster
# (scripts/ha/cluster.sh; `make test-ha-cluster`): up within 30 s; rows
# committed with synchronous_commit = on survive a kill -9 of the primary
# node, and the time from that kill to the first write committed on the
# new primary is printed; with the synchronous standby also dead a commit
# blocks instead of succeeding (Patroni strict mode), statement_timeout
# does not end that wait, a cancel ends it only with PostgreSQL's "not
# replicated" warning, and the blocked commit completes once a standby is
# back; a partition of one hitlqd slot from the primary holds its session
# open without an error until healed; a full restart keeps every row;
# down leaves no process.  Every wait is bounded.
#
#   tests/ha/test_cluster_smoke.sh [BUILD_DIR]   (BUILD_DIR holds tests/pgproxy)
set -eu
cd "$(dirname "$0")/../.."
export HITLQ_PGPROXY=${HITLQ_PGPROXY:-$PWD/${1:-build}/tests/pgproxy}
CL=scripts/ha/cluster.sh
DIR=$(mktemp -d /tmp/hitlq-ha.XXXXXX)
chmod 0755 "$DIR"
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
    [ -f "$DIR/env" ] && $CL down "$DIR" >/dev/null 2>&1
    [ -n "${KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# sql CONNINFO SQL...: runs each SQL (own transaction, synchronous_commit on)
# under a 10 s client-side bound; prints the tuples.
sql() {
    local c=$1; shift
    local args=()
    for q in "$@"; do args+=(-c "$q"); done
    timeout -k 1 10 psql "$c" -v ON_ERROR_STOP=1 -qAt -c "SET synchronous_commit = on" "${args[@]}"
}

t0=$(now_ms)
$CL up "$DIR"
up_ms=$(($(now_ms) - t0))
echo "ha-cluster: up in $up_ms ms"
[ "$up_ms" -lt 30000 ] || fail "up took $up_ms ms (limit 30000)"
. "$DIR/env"

# 0. partition of hitlqd slot h1 from the primary (tests/ha/pgproxy.c): an
# open session hangs (no error, no close) while h2 still writes; after the
# heal the held bytes flow and the session completes
sql "$HITLQ_PG" "CREATE TABLE smoke (id int PRIMARY KEY, note text NOT NULL)"
timeout -k 1 60 psql "$HITLQ_PG_H1" -qAt -c "SELECT pg_sleep(1)" \
    -c "INSERT INTO smoke VALUES (3000, 'through h1')" >"$DIR/h1.out" 2>&1 &
held=$!
sleep 0.5
$CL partition h1 "$DIR"
sleep 4
kill -0 $held 2>/dev/null || fail "h1's session ended during the partition: $(cat "$DIR/h1.out")"
sql "$HITLQ_PG_H2" "INSERT INTO smoke VALUES (3001, 'through h2')" || fail "h2 cut off too"
[ "$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke WHERE id = 3000")" = 0 ] || fail "h1's insert crossed the partition"
$CL heal h1 "$DIR"
wait $held || fail "h1's session failed after the heal: $(cat "$DIR/h1.out")"
[ "$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke WHERE id IN (3000, 3001)")" = 2 ] || fail "rows 3000/3001 missing"
echo "ha-cluster: partition h1 <-> primary held an open session 4 s without closing it; h2 unaffected; heal completed it"

# 1. committed rows survive a kill -9 of the primary node
for i in $(seq 1 50); do echo "INSERT INTO smoke VALUES ($i, 'before');"; done >"$DIR/ins.sql"
timeout 30 psql "$HITLQ_PG" -v ON_ERROR_STOP=1 -q -c "SET synchronous_commit = on" -f "$DIR/ins.sql"
[ "$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke WHERE note = 'before'")" = 50 ] || fail "50 rows not committed"
read -r old _ < <($CL primary "$DIR")
t0=$(now_ms)
$CL kill "$old" "$DIR"
k=0
until sql "$HITLQ_PG" "INSERT INTO smoke VALUES (1000 + $k, 'after')" 2>/dev/null; do
    k=$((k + 1))
    [ $(($(now_ms) - t0)) -lt 60000 ] || fail "no write committed within 60 s of killing $old"
    sleep 0.2
done
fo_ms=$(($(now_ms) - t0))
read -r new _ < <($CL primary "$DIR")
echo "ha-cluster: failover: kill -9 of primary node $old -> first committed write on $new after $fo_ms ms"
[ "$new" != "$old" ] || fail "primary still $old"
[ "$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke WHERE note = 'before'")" = 50 ] ||
    fail "rows committed before the kill are missing on $new"

# 2. the synchronous standby dies too: commits block (strict), none succeeds
w=0
until read -r sb _ < <($CL sync "$DIR" 2>/dev/null); do
    w=$((w + 1))
    [ $w -lt 75 ] || fail "no sync standby reported within 15 s of the failover"
    sleep 0.2
done
$CL kill "$sb" "$DIR"
t0=$(now_ms)
timeout -k 1 90 psql "$HITLQ_PG" -qAt -c "SET statement_timeout = 2000" \
    -c "INSERT INTO smoke VALUES (2000, 'blocked')" >"$DIR/blocked.out" 2>&1 &
blocked=$!
sleep 6
kill -0 $blocked 2>/dev/null || fail "a commit with no standby returned: $(cat "$DIR/blocked.out")"
[ "$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke WHERE id = 2000")" = 0 ] ||
    fail "the blocked commit is visible"
echo "ha-cluster: sync standby $sb down: commit still blocked after 6 s (statement_timeout 2 s does not end the wait)"
out=$(timeout -s INT 3 psql "$HITLQ_PG" -qAt -c "INSERT INTO smoke VALUES (2001, 'cancelled')" 2>&1 || true)
case "$out" in
    *"canceling wait for synchronous replication"*) ;;
    *) fail "a cancelled synchronous commit did not warn: $out" ;;
esac
echo "ha-cluster: a cancel ends the wait with PostgreSQL's warning (committed locally, not replicated)"

# 3. a standby comes back: the blocked commit completes
$CL start "$sb" "$DIR"
t1=$(now_ms)
wait $blocked || fail "the blocked commit failed after $sb returned: $(cat "$DIR/blocked.out")"
echo "ha-cluster: blocked commit completed $(($(now_ms) - t1)) ms after $sb restarted ($(($(now_ms) - t0)) ms blocked)"
[ "$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke WHERE id = 2000")" = 1 ] || fail "row 2000 missing"

# 4. the old primary rejoins (pg_rewind) as a replica; then a crash of the
# primary's postmaster alone (its Patroni alive, primary_start_timeout 0)
$CL start "$old" "$DIR"
w=0
until [ "$($CL status "$DIR" 2>/dev/null | grep -cE '\| (running|streaming) ')" = 3 ]; do
    w=$((w + 1))
    [ $w -lt 150 ] || fail "$old did not rejoin within 30 s: $($CL status "$DIR")"
    sleep 0.2
done
[ "$(timeout 10 psql "host=127.0.0.1 port=$(eval echo \$HITLQ_PG_${old^^}_PORT) dbname=hitlq user=hitlq passfile=$DIR/hitlq.pgpass" \
    -qAt -c "SELECT count(*) FROM smoke WHERE note = 'before'")" = 50 ] || fail "$old rejoined without the rows"
echo "ha-cluster: $old rejoined as a replica ($(grep -c 'pg_rewind' "$DIR/$old/patroni.log") pg_rewind log lines)"
read -r p2 _ < <($CL primary "$DIR")
t0=$(now_ms)
$CL crash "$p2" "$DIR"
k=0
until sql "$HITLQ_PG" "INSERT INTO smoke VALUES (4000 + $k, 'after crash')" 2>/dev/null; do
    k=$((k + 1))
    [ $(($(now_ms) - t0)) -lt 60000 ] || fail "no write committed within 60 s of crashing $p2's postmaster"
    sleep 0.2
done
read -r p3 _ < <($CL primary "$DIR")
echo "ha-cluster: crash: kill -9 of $p2's postmaster (Patroni alive) -> first committed write on $p3 after $(($(now_ms) - t0)) ms"

# 5. full restart (down, up on the same DIR): every committed row is back
total=$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke")
$CL down "$DIR"
$CL up "$DIR"
[ "$(sql "$HITLQ_PG" "SELECT count(*) FROM smoke")" = "$total" ] || fail "rows lost across a full restart"
echo "ha-cluster: full restart kept all $total rows"

# 6. down leaves no process
$CL down "$DIR"
left=$(ps -eo args= | grep -F "$DIR/" | grep -v grep || true)
[ -z "$left" ] || fail "processes left: $left"
echo "ha-cluster: PASS"
