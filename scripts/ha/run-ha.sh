#!/bin/bash
# run-ha.sh - the whole HA cluster on this machine for development, in one
# command (docs/HA.md): scripts/setup.sh's packages, a release build, then
# etcd + 3 PostgreSQL 15 under Patroni (synchronous strict,
# scripts/ha/cluster.sh) and 3 hitlqd nodes on loopback ports, each restarted
# when it exits (as systemd's Restart=always would).  Prints the server list
# for clients and waits; Ctrl-C (or SIGTERM) stops everything.
#   scripts/ha/run-ha.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
sh scripts/setup.sh >/dev/null || exit 1
make -s all ha-build >/dev/null || exit 1
. "$ROOT/scripts/ha/test-ha.sh"
cluster_up || exit 1
trap 'cluster_down; rm -rf "$D"; exit 0' INT TERM
leader=$(wait_leader)
cat <<MSG
HA cluster up (data, logs and configs in $D):
  servers   $SERVERS          (leader now: $leader)
  try       ./build/hitlq -s $SERVERS stats
            echo '{"key":"k1","type":"credit_application","fields":{"amount":1000}}' | ./build/hitlq -s $SERVERS submit
  log key   $D/vkeys (log) and $D/vkeys.all (log + the nodes' witness keys)
  postgres  . $D/pg/env; psql "\$HITLQ_PG" -c 'select seq, epoch, length(batch) from hitlq_log order by seq desc limit 5'
  faults    kill -9 \$(cat $D/$leader.pid)      # the leader; a follower takes over within ha_lease_ms
            scripts/ha/cluster.sh kill \$(scripts/ha/cluster.sh primary $D/pg | cut -d' ' -f1) $D/pg
Ctrl-C stops everything.
MSG
while :; do sleep 1; done
