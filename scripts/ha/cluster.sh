#!/bin/bash
# cluster.sh - the HA development/test cluster on one machine (docs/HA.md
# "Development cluster"): one etcd member and three PostgreSQL 15 nodes
# (n1 n2 n3) managed by Patroni in synchronous strict mode, on free
# loopback ports, all data under DIR; plus one TCP proxy per (hitlqd slot
# h1 h2 h3, PostgreSQL node) pair (tests/ha/pgproxy.c) to cut a hitlqd off
# the primary.  Only Debian 12 packages (scripts/setup.sh installs them).
#
#   cluster.sh up DIR             start everything, wait for a primary and a
#                                 sync standby, write DIR/env (sourceable)
#   cluster.sh down DIR           stop everything; fails if a process is left
#   cluster.sh status DIR         patronictl list
#   cluster.sh primary DIR        "NAME PORT PID" of the current primary
#   cluster.sh sync DIR           "NAME PORT PID" of the synchronous standby
#   cluster.sh kill NODE DIR      node death: kill -9 its Patroni and its
#                                 postmaster's process group (postmaster and
#                                 backends at once); Patroni fails over after ttl
#   cluster.sh crash NODE DIR     kill -9 the postmaster only; its Patroni
#                                 stays (primary_start_timeout 0: immediate
#                                 failover if a sync standby can take over)
#   cluster.sh start NODE DIR     start NODE's Patroni again (it rejoins,
#                                 pg_rewind if needed)
#   cluster.sh partition H DIR [NODE]  black-hole hitlqd slot H's proxy to
#                                 NODE (default: the current primary)
#   cluster.sh heal H DIR         heal every proxy of slot H
#
# NODE is n1|n2|n3, H is h1|h2|h3.  Root runs the servers as the postgres
# user (PostgreSQL refuses root) and gives DIR to it; a normal user runs
# them as itself.  Environment: HITLQ_PGPROXY (pgproxy binary, default
# build/tests/pgproxy, built with make if missing), PG_BIN
# (/usr/lib/postgresql/15/bin), HA_UP_TIMEOUT (s, default 60).
set -eu

HA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
NODES="n1 n2 n3"
SLOTS="h1 h2 h3"

die() { echo "cluster.sh: $*" >&2; exit 1; }

# AS: the command prefix that runs a program as the cluster's owner
# (postgres when we are root; it execs, so the pid stays the program's).
AS=()
[ "$(id -u)" -ne 0 ] || AS=(setpriv --reuid=postgres --regid=postgres --init-groups --)

# spawn LOG CMD...: starts CMD in its own session, output to LOG; prints its pid.
spawn() {
    local log=$1; shift
    setsid "$@" >>"$log" 2>&1 </dev/null &
    echo $!
}

# alive PID: PID runs and is not a zombie (the sandbox's init reaps
# orphans late, and kill -0 succeeds on a zombie).
alive() {
    local st
    [ -n "${1:-}" ] && st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [ "${st%% *}" != Z ]
}

# free_ports N: N distinct free loopback TCP ports below the ephemeral range.
free_ports() {
    python3 - "$1" <<'EOF'
import random, socket, sys
want, got, held = int(sys.argv[1]), [], []
while len(got) < want:
    p = random.randint(20000, 32000)
    if p in got:
        continue
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', p))
    except OSError:
        s.close()
        continue
    held.append(s)
    got.append(p)
print(' '.join(map(str, got)))
EOF
}

load_env() {
    [ -f "$DIR/env" ] || die "$DIR/env missing (cluster not up?)"
    # shellcheck disable=SC1091
    . "$DIR/env"
}

# port_of NODE / rest_of NODE: from DIR/env.
port_of() { eval "echo \${HITLQ_PG_${1^^}_PORT}"; }
rest_of() { eval "echo \${HITLQ_PATRONI_${1^^}_REST}"; }

# postmaster_pid NODE: the live postmaster's pid from its postmaster.pid, or "".
postmaster_pid() {
    local f="$DIR/$1/data/postmaster.pid" pid
    [ -r "$f" ] || return 0
    pid=$(head -n 1 "$f")
    # a stale file's pid may belong to another process by now: check it
    alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $DIR/$1/data " &&
        pgid_of "$pid" >>"$DIR/run/pgids" && echo "$pid"
    return 0
}

# pgid_of PID: PID's process group (Patroni starts the postmaster in a
# session of its own whose leader is not the postmaster).
pgid_of() { ps -o pgid= -p "$1" | tr -d ' '; }

# kill_group PID: SIGKILL to PID's whole process group (postmaster and backends at once).
kill_group() {
    local g
    g=$(pgid_of "$1")
    [ -n "$g" ] && [ "$g" != "$(pgid_of $$)" ] && kill -KILL -- "-$g" 2>/dev/null
    kill -KILL "$1" 2>/dev/null || true
}

# members: "NAME ROLE STATE LAG" lines from the first Patroni REST API that answers.
members() {
    local ports="" n
    for n in $NODES; do ports="$ports $(rest_of "$n")"; done
    python3 - $ports <<'EOF'
import json, sys, urllib.request
for port in sys.argv[1:]:
    try:
        with urllib.request.urlopen('http://127.0.0.1:%s/cluster' % port, timeout=1) as r:
            c = json.load(r)
    except Exception:
        continue
    for m in c.get('members', []):
        print(m.get('name'), m.get('role'), m.get('state'), m.get('lag', 0))
    sys.exit(0)
sys.exit(1)
EOF
}

# role_line ROLE: "NAME PORT PID" of the running member with ROLE.
role_line() {
    local name
    name=$(members | awk -v r="$1" '$2 == r && ($3 == "running" || $3 == "streaming") { print $1; exit }')
    [ -n "$name" ] || return 1
    echo "$name $(port_of "$name") $(postmaster_pid "$name")"
}

write_patroni_yml() {   # NODE PGPORT RESTPORT ETCDPORT
    local n=$1 d="$DIR/$1"
    cat >"$d/patroni.yml" <<EOF
scope: hitlq
name: $n
restapi:
  listen: 127.0.0.1:$3
  connect_address: 127.0.0.1:$3
etcd3:
  hosts: 127.0.0.1:$4
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    primary_start_timeout: 0
    synchronous_mode: true
    synchronous_mode_strict: true
    synchronous_node_count: 1
    postgresql:
      use_pg_rewind: true
      use_slots: false
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        synchronous_commit: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 60
        shared_buffers: 64MB
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
  post_bootstrap: $DIR/post_bootstrap.sh
postgresql:
  listen: 127.0.0.1:$2
  connect_address: 127.0.0.1:$2
  data_dir: $d/data
  bin_dir: $PG_BIN
  pgpass: $d/pgpass
  basebackup:
    - checkpoint: fast
  authentication:
    superuser: {username: postgres, password: "$SU_PW"}
    replication: {username: replicator, password: "$REPL_PW"}
    rewind: {username: rewinder, password: "$REWIND_PW"}
  parameters:
    unix_socket_directories: "$d"
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
EOF
}

write_post_bootstrap() {
    cat >"$DIR/post_bootstrap.sh" <<EOF
#!/bin/sh
# Patroni's post_bootstrap (scripts/ha/cluster.sh): the hitlq role and database.
set -e
psql -v ON_ERROR_STOP=1 -q "\$1" -c "CREATE ROLE hitlq LOGIN PASSWORD '$HITLQ_PW'" -c "CREATE DATABASE hitlq OWNER hitlq"
EOF
    chmod 0700 "$DIR/post_bootstrap.sh"
}

# conninfo PORTS...: a libpq multi-host conninfo for the hitlq user.
conninfo() {
    local hosts="" ports="" p
    for p in "$@"; do hosts="$hosts,127.0.0.1"; ports="$ports,$p"; done
    echo "host=${hosts#,} port=${ports#,} dbname=hitlq user=hitlq passfile=$DIR/hitlq.pgpass target_session_attrs=read-write connect_timeout=2"
}

pw() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }

proxy_bin() {
    local b=${HITLQ_PGPROXY:-$HA_ROOT/build/tests/pgproxy}
    [ -x "$b" ] || make -s -C "$HA_ROOT" build/tests/pgproxy >&2 || die "cannot build $b"
    echo "$b"
}

check_dir() {
    [ ! -e "$DIR/env" ] || die "$DIR/env exists: cluster already up (cluster.sh down $DIR first)"
    [ ${#DIR} -le 80 ] || die "DIR too long for PostgreSQL's unix socket path (<= 80 chars): $DIR"
    mkdir -p "$DIR/run"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "root needs the postgres user (apt-get install postgresql-15)"
        chown postgres:postgres "$DIR"
        setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$DIR" ||
            die "postgres cannot reach $DIR (a parent directory is not searchable)"
    fi
}

# start_node NODE: starts NODE's Patroni; records its pid.
start_node() {
    local pid
    pid=$(spawn "$DIR/$1/patroni.log" "${AS[@]}" patroni "$DIR/$1/patroni.yml")
    echo "$pid" >"$DIR/run/patroni_$1.pid"
}

# wait_ready TIMEOUT: until a leader and a sync standby run and a
# synchronous write through HITLQ_PG commits.
wait_ready() {
    local end=$((SECONDS + $1))
    while [ $SECONDS -lt $end ]; do
        if role_line leader >/dev/null && role_line sync_standby >/dev/null &&
           PGCONNECT_TIMEOUT=2 psql "$HITLQ_PG options='-c statement_timeout=2000'" -qAt \
               -c "SELECT txid_current()" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.3
    done
    return 1
}

# load_vars: the cluster's ports and passwords from DIR/cluster.vars, made
# on the first `up` (a later `up` of the same DIR restarts the same
# cluster: same data, ports and passwords).  Sets PORTS and the *_PW.
load_vars() {
    if [ ! -f "$DIR/cluster.vars" ]; then
        [ ! -e "$DIR/n1" ] || die "$DIR/n1 exists without $DIR/cluster.vars: not a cluster.sh DIR"
        {
            echo "PORTS='$(free_ports 17)'"
            echo "SU_PW=$(pw) REPL_PW=$(pw) REWIND_PW=$(pw) HITLQ_PW=$(pw)"
        } >"$DIR/cluster.vars"
        chmod 0600 "$DIR/cluster.vars"
    fi
    # shellcheck disable=SC1091
    . "$DIR/cluster.vars"
    # shellcheck disable=SC2206
    PORTS=($PORTS)
}

# write_files: Patroni's configurations, the hitlq password file and the
# start of DIR/env (as env.tmp, mode 0600: it holds the superuser password).
write_files() {
    local i=0 n
    write_post_bootstrap
    printf '*:*:*:hitlq:%s\n' "$HITLQ_PW" >"$DIR/hitlq.pgpass"
    chmod 0600 "$DIR/hitlq.pgpass"
    {
        echo "# written by scripts/ha/cluster.sh up; source it"
        echo "HITLQ_HA_DIR='$DIR'"
        echo "HITLQ_ETCD_PORT=${PORTS[0]}"
        echo "HITLQ_SU_PASSWORD='$SU_PW'"
    } >"$DIR/env.tmp"
    chmod 0600 "$DIR/env.tmp"
    for n in $NODES; do
        mkdir -p "$DIR/$n"
        write_patroni_yml "$n" "${PORTS[$((1 + i))]}" "${PORTS[$((4 + i))]}" "${PORTS[0]}"
        echo "HITLQ_PG_${n^^}_PORT=${PORTS[$((1 + i))]}" >>"$DIR/env.tmp"
        echo "HITLQ_PATRONI_${n^^}_REST=${PORTS[$((4 + i))]}" >>"$DIR/env.tmp"
        i=$((i + 1))
    done
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$DIR"
    chmod 0700 "$DIR"/n?
}

# start_etcd: one etcd member on PORTS[0] (peer PORTS[16]); waits until healthy.
start_etcd() {
    local pid t0=$SECONDS
    pid=$(spawn "$DIR/etcd.log" "${AS[@]}" etcd --name e1 --data-dir "$DIR/etcd" \
        --listen-client-urls "http://127.0.0.1:${PORTS[0]}" \
        --advertise-client-urls "http://127.0.0.1:${PORTS[0]}" \
        --listen-peer-urls "http://127.0.0.1:${PORTS[16]}" \
        --initial-advertise-peer-urls "http://127.0.0.1:${PORTS[16]}" \
        --initial-cluster "e1=http://127.0.0.1:${PORTS[16]}")
    echo "$pid" >"$DIR/run/etcd.pid"
    echo "HITLQ_ETCD_PID=$pid" >>"$DIR/env.tmp"
    until ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:${PORTS[0]}" --dial-timeout=1s \
            endpoint health >/dev/null 2>&1; do
        alive "$pid" || die "etcd exited, see $DIR/etcd.log"
        [ $((SECONDS - t0)) -lt 20 ] || die "etcd not healthy after 20 s"
        sleep 0.2
    done
}

cmd_up() {
    local t0=$SECONDS n to=${HA_UP_TIMEOUT:-60}
    check_dir
    trap 'echo "cluster.sh: up failed; stopping what started" >&2; cmd_down >&2' EXIT
    load_vars
    write_files
    start_etcd
    for n in $NODES; do start_node "$n"; done
    start_proxies "${PORTS[@]}"
    echo "HITLQ_PG='$(conninfo "${PORTS[1]}" "${PORTS[2]}" "${PORTS[3]}")'" >>"$DIR/env.tmp"
    mv "$DIR/env.tmp" "$DIR/env"
    load_env
    wait_ready "$to" || die "no primary + sync standby after $to s (logs: $DIR/n?/patroni.log)"
    trap - EXIT
    echo "cluster.sh: up in $((SECONDS - t0)) s: primary $(role_line leader), sync $(role_line sync_standby)"
}

# start_proxies PORTS...: slot h (k = 0..2) listens on ports[7+3k+j] for node j.
start_proxies() {
    local ports=("$@") bin k=0 j h n pid lp list
    bin=$(proxy_bin)
    for h in $SLOTS; do
        j=0; list=()
        for n in $NODES; do
            lp=${ports[$((7 + 3 * k + j))]}
            pid=$(spawn "$DIR/run/proxy_${h}_$n.log" "$bin" "$lp" "${ports[$((1 + j))]}")
            echo "$pid" >"$DIR/run/proxy_${h}_$n.pid"
            echo "HITLQ_PROXY_${h^^}_${n^^}_PORT=$lp" >>"$DIR/env.tmp"
            list+=("$lp")
            j=$((j + 1))
        done
        echo "HITLQ_PG_${h^^}='$(conninfo "${list[@]}")'" >>"$DIR/env.tmp"
        k=$((k + 1))
    done
}

# stop_pid PIDFILE SECONDS: TERM, wait, then KILL the process group.
stop_pid() {
    local pid i=0
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    alive "$pid" && kill -TERM "$pid" 2>/dev/null
    while alive "$pid" && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null
    rm -f "$1"
}

# leftovers: pids of processes still running from this cluster: a
# postgres, Patroni, etcd or pgproxy in a recorded process group, or a
# command line naming a node's or etcd's directory (postgres -D
# DIR/n1/data, patroni DIR/n1/patroni.yml).
leftovers() {
    local groups
    groups=$(cat "$DIR"/run/*.pid "$DIR/run/pgids" 2>/dev/null | sort -u | tr '\n' ' ')
    ps -eo pid=,pgid=,stat=,args= | awk -v g=" $groups " -v d="$DIR" '
        $3 ~ /^Z/ { next }
        (index(g, " " $2 " ") && $4 ~ /^(postgres|\/usr\/lib\/postgresql\/|etcd|\/usr\/bin\/python3|.*pgproxy)/) || index($0, d "/n1/") || index($0, d "/n2/") ||
        index($0, d "/n3/") || index($0, d "/etcd") { print $1 }'
}

cmd_down() {
    local f n pid left i=0
    [ -d "$DIR/run" ] || die "$DIR/run missing: nothing to stop"
    for f in "$DIR"/run/patroni_*.pid; do
        [ -f "$f" ] && alive "$(cat "$f")" && kill -TERM "$(cat "$f")" 2>/dev/null
    done
    for f in "$DIR"/run/patroni_*.pid; do stop_pid "$f" 15; done
    for n in $NODES; do
        pid=$(postmaster_pid "$n")
        [ -z "$pid" ] || kill_group "$pid"
    done
    for f in "$DIR"/run/proxy_*.pid "$DIR/run/etcd.pid"; do stop_pid "$f" 5; done
    while left=$(leftovers) && [ -n "$left" ] && [ $i -lt 50 ]; do
        [ $i -ne 20 ] || kill -KILL $left 2>/dev/null || true
        sleep 0.1; i=$((i + 1))
    done
    [ -z "$left" ] || die "processes left: $left"
    rm -f "$DIR/env" "$DIR/run/pgids"
    echo "cluster.sh: down, no process left"
}

node_arg() {
    case "$1" in n1|n2|n3) ;; *) die "NODE must be n1, n2 or n3 (got '$1')" ;; esac
}
slot_arg() {
    case "$1" in h1|h2|h3) ;; *) die "H must be h1, h2 or h3 (got '$1')" ;; esac
}

cmd_kill() {    # NODE
    local pm
    pm=$(postmaster_pid "$1")
    [ ! -f "$DIR/run/patroni_$1.pid" ] || kill -KILL "$(cat "$DIR/run/patroni_$1.pid")" 2>/dev/null || true
    [ -z "$pm" ] || kill_group "$pm"
    rm -f "$DIR/run/patroni_$1.pid"
    echo "cluster.sh: killed $1 (patroni and postmaster ${pm:-none})"
}

cmd_start() {   # NODE
    [ ! -f "$DIR/run/patroni_$1.pid" ] || ! alive "$(cat "$DIR/run/patroni_$1.pid")" ||
        die "$1's Patroni is running"
    start_node "$1"
    echo "cluster.sh: started $1's Patroni (pid $(cat "$DIR/run/patroni_$1.pid"))"
}

cmd_partition() {   # H [NODE]
    local n=${2:-}
    if [ -z "$n" ]; then
        n=$(role_line leader | awk '{ print $1 }')
        [ -n "$n" ] || die "no primary to partition from"
    fi
    node_arg "$n"
    kill -USR1 "$(cat "$DIR/run/proxy_$1_$n.pid")"
    echo "cluster.sh: $1 partitioned from $n"
}

cmd_heal() {    # H
    local n
    for n in $NODES; do kill -USR2 "$(cat "$DIR/run/proxy_$1_$n.pid")"; done
    echo "cluster.sh: $1 healed"
}

[ $# -ge 2 ] || die "usage: cluster.sh up|down|status|primary|sync DIR | kill|crash|start NODE DIR | partition H DIR [NODE] | heal H DIR"
cmd=$1
case "$cmd" in
    up|down|status|primary|sync) DIR=$2 ;;
    *) [ $# -ge 3 ] || die "$cmd needs NODE DIR"; ARG=$2; DIR=$3 ;;
esac
mkdir -p "$DIR" 2>/dev/null || true
DIR=$(cd "$DIR" 2>/dev/null && pwd) || die "cannot create or enter $DIR"
case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) load_env; patronictl -c "$DIR/n1/patroni.yml" list ;;
    primary) load_env; role_line leader || die "no running primary" ;;
    sync) load_env; role_line sync_standby || die "no running sync standby" ;;
    kill) node_arg "$ARG"; load_env; cmd_kill "$ARG" ;;
    crash) node_arg "$ARG"; load_env; pm=$(postmaster_pid "$ARG"); [ -n "$pm" ] || die "$ARG has no postmaster"
           kill -KILL "$pm"; echo "cluster.sh: killed $ARG's postmaster $pm" ;;
    start) node_arg "$ARG"; load_env; cmd_start "$ARG" ;;
    partition) slot_arg "$ARG"; load_env; cmd_partition "$ARG" "${4:-}" ;;
    heal) slot_arg "$ARG"; load_env; cmd_heal "$ARG" ;;
    *) die "unknown command $cmd" ;;
esac
