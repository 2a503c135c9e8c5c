#!/bin/bash
# bench_append.sh - `make bench-ha-append`: the raw append budget of the HA
# development cluster.  Starts a cluster (scripts/ha/cluster.sh) in a
# temporary directory, runs tests/ha/pgappend_bench.c's binary against its
# primary (one connection, one INSERT per transaction, synchronous_commit
# on, a synchronous standby attached), prints its lines, stops the cluster.
#
#   tests/ha/bench_append.sh [BUILD_DIR] [pgappend_bench args...]
#   (PGAPPEND_SECS: seconds per size, default 5)
set -eu
cd "$(dirname "$0")/../.."
b=${1:-build}
[ $# -eq 0 ] || shift
export HITLQ_PGPROXY=${HITLQ_PGPROXY:-$PWD/$b/tests/pgproxy}
DIR=$(mktemp -d /tmp/hitlq-hab.XXXXXX)
chmod 0755 "$DIR"
trap 'scripts/ha/cluster.sh down "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
scripts/ha/cluster.sh up "$DIR"
set -a; . "$DIR/env"; set +a
"$b/tests/pgappend_bench" -t "${PGAPPEND_SECS:-5}" "$@"
