#!/bin/sh
# test-install.sh - `make install` into a temporary DESTDIR, then the
# installed files are used as an operator would: every binary answers
# --version, `hitlqd -n` accepts the installed sample configuration,
# hitlqd starts on loopback from the installed paths (config, data dir
# beside it), answers a client and stops cleanly on SIGTERM; the man pages
# render; `systemd-analyze verify` accepts the unit (skipped with a note
# when systemd-analyze is missing: scripts/setup.sh installs it).
# Run by `make install-check`; exit 0 only if everything passed.
set -eu
cd "$(dirname "$0")/.."
D=$(mktemp -d /tmp/hitlq-install-XXXXXX)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$D"' EXIT
PID=
P=/usr/local
fail() { echo "install-check: FAIL: $*" >&2; exit 1; }

make -s install DESTDIR="$D" PREFIX=$P PYDIR=$P/lib/python3/dist-packages >/dev/null
for f in bin/hitlqd bin/hitlq bin/hitlq-audit lib/systemd/system/hitlqd.service \
         etc/hitlq/hitlqd.conf share/man/man8/hitlqd.8 share/man/man1/hitlq.1 \
         share/man/man1/hitlq-audit.1 share/man/man5/hitlqd.conf.5 \
         share/doc/hitlq/hitlqd.conf.sample; do
    [ -e "$D$P/$f" ] || fail "not installed: $P/$f"
done
for b in hitlqd hitlq hitlq-audit; do
    v=$("$D$P/bin/$b" --version) || fail "$b --version failed"
    [ "$v" = "$b $(sed -n 's/^VERSION *= *//p' Makefile)" ] || fail "$b --version said: $v"
done
# the installed config, its data_dir moved into the DESTDIR (the packaged
# one points at systemd's /var/lib/hitlq)
C="$D$P/etc/hitlq"
sed -e 's|^data_dir = .*|data_dir = "state"|' -e 's|^listen = .*|listen = "127.0.0.1:0"|' \
    -e 's|^http_listen = .*|http_listen = "127.0.0.1:0"|' "$C/hitlqd.conf" > "$C/test.conf"
"$D$P/bin/hitlqd" -n -c "$C/hitlqd.conf" >/dev/null || fail "hitlqd -n on the installed config"
"$D$P/bin/hitlqd" -n -c "$C/test.conf" >/dev/null || fail "hitlqd -n on the test config"
"$D$P/bin/hitlqd" -c "$C/test.conf" -P "$D/port" 2>"$D/log" &
PID=$!
i=0
while [ ! -s "$D/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$D/port" ] || { cat "$D/log"; fail "hitlqd did not start"; }
[ -s "$C/state/admin.key" ] || fail "no admin key beside the config ($C/state)"
HITLQ_API_KEY=$(cat "$C/state/admin.key") "$D$P/bin/hitlq" -p "$(cat "$D/port")" stats \
    >/dev/null || { cat "$D/log"; fail "the installed hitlq could not talk to it"; }
kill -TERM $PID
wait $PID || fail "hitlqd did not stop cleanly"
PID=
for m in man8/hitlqd.8 man1/hitlq.1 man1/hitlq-audit.1 man5/hitlqd.conf.5; do
    if command -v man >/dev/null; then
        w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$D$P/share/man/$m" 2>&1 >/dev/null) || \
            fail "man $m"
        [ -z "$w" ] || fail "man $m: $w"
    fi
done
if command -v systemd-analyze >/dev/null; then
    # the unit as installed, its paths pointed into DESTDIR (verify checks
    # that ExecStart exists); the man pages were checked above
    mkdir "$D/unit"
    sed "s|$P/|$D$P/|g" "$D$P/lib/systemd/system/hitlqd.service" > "$D/unit/hitlqd.service"
    # (an unknown or unparsable setting is only a warning: any output fails)
    w=$(systemd-analyze verify --man=no "$D/unit/hitlqd.service" 2>&1) || \
        fail "systemd-analyze verify: $w"
    [ -z "$w" ] || fail "systemd-analyze verify: $w"
else
    echo "install-check: note: no systemd-analyze (apt-get install systemd); unit not verified"
fi
echo "install-check: ok"
