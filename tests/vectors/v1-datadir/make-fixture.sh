#!/bin/sh
# make-fixture.sh - rebuilds tests/vectors/v1-datadir/ (read README.md there
# first) with the hitlqd/hitlq/hitlq-audit of the release BEFORE the v2
# audit format (commit 1f31dc0, writes v1 entries: OUTCOME, no
# RECOMMENDATION).  Run from the repository root:
#
#   sh tests/vectors/v1-datadir/make-fixture.sh [OLD_BUILD_DIR]
#
# OLD_BUILD_DIR (default /work/base-old/build) holds that release's hitlqd,
# hitlq and hitlq-audit.  Needs python3 and mdb_dump (lmdb-utils).  Only
# used to make the fixture; the tests never run the old binaries.
set -eu

OLD=${1:-/work/base-old/build}
OUT=tests/vectors/v1-datadir
W=$(mktemp -d /tmp/hitlq-v1fixture-XXXXXX)
trap 'rm -rf "$W"' EXIT

[ -x "$OLD/hitlqd" ] && [ -x "$OLD/hitlq" ] && [ -x "$OLD/hitlq-audit" ] ||
    { echo "no old binaries in $OLD" >&2; exit 2; }

# A small map so that the LMDB file stays small; checkpoints every 200 ms.
printf 'map_size_mb = 2\naudit_checkpoint_ms = 200\n' > "$W/hitlqd.conf"
"$OLD/hitlqd" -c "$W/hitlqd.conf" -d "$W/data" -l 127.0.0.1:0 -P "$W/port" \
    > "$W/hitlqd.log" 2>&1 &
SRV=$!
i=0
while [ ! -s "$W/port" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$W/hitlqd.log" >&2; exit 1; }
    sleep 0.1
done
PORT=$(cat "$W/port")
cli() { "$OLD/hitlq" -p "$PORT" "$@"; }

# 40 real German-credit rows (gc-0001 .. gc-0040), the embedded policy.
python3 scripts/make_items.py --limit 40 | cli submit > "$W/submit.txt"

# claim NAME: claims the best credit_review item as worker NAME (lease
# 600 s); prints "ID LEASE".
claim() {
    cli --json claim credit_review --worker "$1" --lease 600 |
        python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["id"], c["lease"])'
}
# actions.txt: one line per item handled, "ID VERB ARG WORKER  # comment"
# (read by tests/e2e/test_upgrade.c).
: > "$W/actions.txt"
act() { echo "$*" >> "$W/actions.txt"; }

set -- $(claim alice); cli resolve "$1" "$2" approve --note "docs checked" > /dev/null
act "$1 resolve approve alice"
set -- $(claim bob); cli resolve "$1" "$2" approve --root-cause income_verified > /dev/null
act "$1 resolve approve bob"
set -- $(claim alice); cli resolve "$1" "$2" approve > /dev/null
act "$1 resolve approve alice"
set -- $(claim bob); cli resolve "$1" "$2" reject --root-cause missing_docs > /dev/null
act "$1 resolve reject bob"
set -- $(claim alice); cli resolve "$1" "$2" reject --note "thin file" > /dev/null
act "$1 resolve reject alice"
set -- $(claim bob); cli escalate "$1" "$2" credit_senior --note "large exposure" > /dev/null
act "$1 escalate credit_senior bob  # left queued on credit_senior"
set -- $(claim alice); cli release "$1" "$2" --delay 30 > /dev/null
act "$1 release 30s alice  # back on credit_review after 30 s"
set -- $(cli --json claim credit_review --worker carol --lease 60 |
         python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["id"], c["lease"])')
act "$1 lease 60s carol  # claimed, left leased at shutdown"

# The old auditor's export (after the next checkpoint), verified by it.
sleep 1
"$OLD/hitlqd" -d "$W/data" -K > "$W/verifier.vkey" 2>/dev/null || true
"$OLD/hitlq-audit" export --server "127.0.0.1:$PORT" --out "$W/v1-export" \
    --vkey-file "$W/verifier.vkey" > "$W/export.txt" 2>&1
"$OLD/hitlq-audit" verify --vkey-file "$W/verifier.vkey" "$W/v1-export" >> "$W/export.txt" 2>&1
sed -i "s|$W/||g" "$W/export.txt"
cli stats > "$W/stats.txt"

kill -TERM "$SRV"
wait "$SRV"
grep -q 'hitlqd info: stopped' "$W/hitlqd.log"
"$OLD/hitlqd" -d "$W/data" -K > "$W/verifier.vkey"

# The store as mdb_dump's portable text (every named database; mdb_load
# rebuilds it) and the signing key as a plain file: no LMDB file or live key
# name is committed; the test rebuilds the data directory from these.
rm -f "$OUT/store.dump" "$OUT/audit-key.txt"
rm -rf "$OUT/v1-export"
mdb_dump -a "$W/data" > "$OUT/store.dump"
cp "$W/data/audit.key" "$OUT/audit-key.txt"
cp -r "$W/v1-export" "$OUT/v1-export"
{ git -C "$OLD/.." log -1 --format='old release: %H %s' 2>/dev/null || echo "old release: $OLD"
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; } > "$W/made-with.txt"
cp "$W/made-with.txt" "$W/verifier.vkey" "$W/submit.txt" "$W/actions.txt" "$W/stats.txt" "$W/export.txt" "$OUT/"
ls -l "$OUT/store.dump" "$OUT/audit-key.txt"
