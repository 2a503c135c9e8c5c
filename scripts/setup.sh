#!/bin/sh
# setup.sh - installs the Debian 12 packages hitlq needs to build, test,
# fuzz and benchmark.  Idempotent and non-interactive; skips apt-get when
# everything is already installed.  python3-numpy, python3-scipy and
# python3-sklearn are test oracles only (tests/unit/drift_oracle.py, run by
# tests/unit/test_drift_stats.c under /usr/bin/python3).  python3-msgpack
# and python3-cryptography are what the Python client (client/python/) needs,
# python3-pytest runs its tests (scripts/run-tests.sh).  systemd (for
# systemd-analyze) and man-db check the installed unit and man pages
# (scripts/test-install.sh, make install-check).
set -eu

PKGS="build-essential pkg-config libevent-dev libssl-dev libmsgpack-dev \
liblmdb-dev lmdb-utils libsodium-dev libjansson-dev libconfuse-dev \
libcmocka-dev clang libclang-rt-14-dev cppcheck python3 procps strace \
golang-go golang-golang-x-mod-dev libxgboost-dev openssl \
python3-numpy python3-scipy python3-sklearn libncurses-dev tmux \
python3-msgpack python3-cryptography python3-pytest chromium \
prometheus curl systemd man-db"
# The HA development cluster (scripts/ha/cluster.sh, docs/HA.md "Development
# cluster"): PostgreSQL 15 + libpq, Patroni with etcd as its DCS.
PKGS="$PKGS postgresql-15 libpq-dev patroni etcd-server etcd-client python3-psycopg2"
# HA log rows are zstd-compressed write-sets (server/ha/ha_pg.c).
PKGS="$PKGS libzstd-dev"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "setup: all packages present"
    exit 0
fi
echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
