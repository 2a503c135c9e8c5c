#!/bin/sh
# conf-man.sh - writes hitlqd.conf(5): the head (docs/man/hitlqd.conf.5.in)
# then one .TP entry per option of `hitlqd -C` (the option table), so the
# page cannot drift from the code.  Usage: conf-man.sh HITLQD HEAD > OUT
set -eu
cat "$2"
"$1" -C | awk '
    function esc(s) { gsub(/\\/, "\\\\", s); gsub(/-/, "\\-", s); return s }
    /^# / && started { help = help (help == "" ? "" : " ") esc(substr($0, 3)); next }
    /^$/ { started = 1; next }
    started && /=/ {
        line = $0; sub(/ *#.*$/, "", line)
        range = ""; if ($0 ~ /#/) { range = $0; sub(/^[^#]*# */, "", range) }
        print ".TP"; print "\\fB" esc(line) "\\fR" (range != "" ? "  (" esc(range) ")" : "")
        print help; help = ""
    }'
cat <<'TAIL'
.SH SEE ALSO
.BR hitlqd (8)
TAIL
