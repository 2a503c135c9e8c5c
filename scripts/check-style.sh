#!/bin/sh
# check-style.sh - the structural rules of the tree, checked on every C file
# (`make check-style`; .ci/run runs it).  Exit status 0 when all hold.
#
#  a. file size: a .c/.h file has at most 1000 lines; under tests/ 1100
#     (the long test files were split by subject, shared helpers in
#     tests/lib/; the largest left, tests/unit/test_note.c, has 1093 lines)
#     and under tests/bench/ 1300 (tests/bench/bench_load.c has 1266).
#  b. function size: no function body (opening to closing brace) over 100
#     lines; under tests/ 200 (several end-to-end scenarios are 100-182).
#  c. layers: every #include "x.h" in proto/, include/, server/ and
#     client/ names a header of a wing the including file's wing may use
#     (the table LAYERS below; include/ is allowed everywhere).  Known
#     exceptions would be listed in scripts/layers.allow, one
#     "file -> header" per line (it lists none: the tree has no
#     violation); a violation not listed there fails, and so does an entry
#     that no longer matches (stale).
#  d. file names (.c .h .py .sh .go) are unique across the tree, so that
#     an #include "x.h" means one file whatever the include path.
#  e. every .c/.h file starts with a comment saying what it holds.
#  g. every repository path (server/, client/, proto/, tests/, scripts/,
#     docs/, include/ + a file name) cited in a .c/.h/.md/.sh/.py/.go file,
#     the Makefile or .ci/ names a file that exists.
#  h. every LMDB write of the daemon goes through server/store/wset.c (so
#     that a replication hook sees it): in server/, mdb_put, mdb_del,
#     mdb_cursor_put, mdb_cursor_del and mdb_txn_commit are called only in
#     server/store/wset.c, and mdb_txn_begin elsewhere only with MDB_RDONLY
#     (comments and strings do not count).
#  f. include/hitlq.h (and hitlq_proto.h) compile on their own with only
#     -Iinclude and pull in no msgpack-c header; hitlq_msgpack.h compiles
#     with msgpack-c's flags.
#
# Options: --layers prints the current layer violations in the format of
# scripts/layers.allow (to regenerate it) and exits.  CC picks the compiler
# for (f) (default cc).
set -eu
cd "$(dirname "$0")/.."

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files -co --exclude-standard | grep -v '^tests/fuzz/corpus/\|^tests/vectors/' || true)
else
    files=$(find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
# Only files that exist (a deleted but still indexed file is skipped).
files=$(for f in $files; do [ -f "$f" ] && echo "$f"; done)

status=0
py=$(cat <<'EOF'
import os, re, sys

LAYERS = {                      # wing -> wings whose headers it may include
    'include': {'include'},
    'proto':   {'proto'},
    'util':    {'proto', 'util'},
    'score':   {'proto', 'util', 'score'},
    'store':   {'proto', 'util', 'store'},
    'audit':   {'proto', 'util', 'store', 'audit'},
    'auth':    {'proto', 'util', 'store', 'audit', 'auth'},
    'net':     {'proto', 'util', 'auth', 'net'},
    'http':    {'proto', 'util', 'auth', 'http'},
    'ha':      {'proto', 'util', 'store', 'ha'},
    'cmd':     {'proto', 'util', 'score', 'store', 'audit', 'auth', 'net', 'http', 'ha', 'cmd'},
    'main':    {'proto', 'util', 'score', 'store', 'audit', 'auth', 'net', 'http', 'ha', 'cmd'},
    'clib':    {'proto', 'clib'},
    'cli':     {'cli'},
    'caudit':  {'proto', 'caudit'},
}
MAX_FILE, MAX_FILE_TESTS, MAX_FILE_BENCH = 1000, 1100, 1300
MAX_FUNC, MAX_FUNC_TESTS = 100, 200
ALLOW = 'scripts/layers.allow'

def wing(path):
    if path == 'server/main.c':
        return 'main'
    parts = path.split('/')
    if parts[0] in ('include', 'proto'):
        return parts[0]
    if parts[0] == 'server' and len(parts) > 2:
        return parts[1] if parts[1] in LAYERS else None
    if parts[0] == 'client' and len(parts) > 2:
        return {'lib': 'clib', 'cli': 'cli', 'audit': 'caudit'}.get(parts[1])
    return None

def strip_code(src):
    """Blanks comments, string/char literals and preprocessor lines (newlines kept)."""
    out, i, n, bol = [], 0, len(src), True
    while i < n:
        if bol:
            j = i
            while j < n and src[j] in ' \t':
                j += 1
            if j < n and src[j] == '#':
                while i < n and not (src[i] == '\n' and src[i - 1] != '\\'):
                    out.append(' ')
                    i += 1
                continue
        bol = False
        c = src[i]
        if src.startswith('/*', i):
            j = src.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j]))
            i = j
        elif src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and src[j] != c and src[j] != '\n':
                j += 2 if src[j] == '\\' else 1
            out.append(' ' * (min(j, n - 1) - i + 1))
            i = j + 1
        else:
            bol = c == '\n'
            out.append(c)
            i += 1
    return ''.join(out)

def functions(src):
    """(name, first line, length) of every function body: a top-level brace
    block whose head ends in a parameter list (not an initializer)."""
    s = strip_code(src)
    depth, head, line, start, name, res = 0, '', 1, 0, None, []
    for ch in s:
        if ch == '\n':
            line += 1
        if depth == 0:
            if ch == '{':
                m = re.search(r'([A-Za-z_]\w*)\s*\([^;{}=]*\)\s*$', head)
                name, start = (m.group(1), line) if m else (None, 0)
                depth, head = 1, ''
            elif ch in ';}':
                head = ''
            else:
                head += ch
        elif ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
            if depth == 0 and name:
                res.append((name, start, line - start + 1))
    return res

def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()

def main():
    list_layers = '--layers' in sys.argv[1:]
    files = [f for f in sys.stdin.read().split() if f]
    csrc = sorted(f for f in files if f.endswith(('.c', '.h')))
    errors, warnings = [], []
    # d. unique file names
    by_name = {}
    for f in files:
        if f.endswith(('.c', '.h', '.py', '.sh', '.go')):
            by_name.setdefault(os.path.basename(f), []).append(f)
    for name, paths in sorted(by_name.items()):
        if len(paths) > 1:
            errors.append('d. file name %s is not unique: %s' % (name, ' '.join(sorted(paths))))
    header_path = {os.path.basename(f): f for f in csrc if f.endswith('.h')}
    # c. layers
    violations = []
    for f in csrc:
        w = wing(f)
        if w is None:
            continue
        for lineno, text in enumerate(read(f).split('\n'), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', text)
            if not m:
                continue
            inc = m.group(1)
            local = os.path.join(os.path.dirname(f), inc)
            target = local if local in csrc else header_path.get(os.path.basename(inc))
            if target is None:
                errors.append('c. %s:%d: #include "%s": no such header in the tree' % (f, lineno, inc))
                continue
            tw = wing(target)
            if tw == 'include' or tw in LAYERS[w]:
                continue
            violations.append((f, lineno, target, w, tw))
    if list_layers:
        print('# scripts/layers.allow - known layer violations being removed: "file -> header".')
        print('# Generated by `sh scripts/check-style.sh --layers`; delete a line when its')
        print('# #include goes.  A violation not listed here fails `make check-style`.')
        for f, _, t, _, _ in violations:
            print('%s -> %s' % (f, t))
        return 0
    allowed = set()
    if os.path.exists(ALLOW):
        for raw in read(ALLOW).split('\n'):
            ln = raw.split('#', 1)[0].strip()
            if ln:
                a, _, b = ln.partition('->')
                allowed.add((a.strip(), b.strip()))
    seen = set()
    for f, lineno, t, w, tw in violations:
        seen.add((f, t))
        if (f, t) not in allowed:
            errors.append('c. %s:%d: includes %s: the %s wing may not use %s (allowed: %s)'
                          % (f, lineno, t, w, tw, ', '.join(sorted(LAYERS[w] | {'include'}))))
    for f, t in sorted(allowed - seen):
        errors.append('c. stale entry in %s (no longer a violation, delete it): %s -> %s'
                        % (ALLOW, f, t))
    # a, b, e: sizes and the opening comment
    for f in csrc:
        src = read(f)
        in_tests = f.startswith('tests/')
        nlines = src.count('\n') + (0 if src.endswith('\n') or not src else 1)
        lim = MAX_FILE_BENCH if f.startswith('tests/bench/') else \
            MAX_FILE_TESTS if in_tests else MAX_FILE
        if nlines > lim:
            errors.append('a. %s: %d lines (limit %d)' % (f, nlines, lim))
        flim = MAX_FUNC_TESTS if in_tests else MAX_FUNC
        for name, start, n in functions(src):
            if n > flim:
                errors.append('b. %s:%d: function %s is %d lines (limit %d)' % (f, start, name, n, flim))
        if not src.lstrip('\ufeff').startswith(('/*', '//')):
            errors.append('e. %s: does not start with a comment saying what it holds' % f)
    # g. a repository path cited in code, scripts or docs names a file that
    #    exists (comments cite only files in the repository)
    cite = re.compile(r'\b(?:server|client|proto|tests|scripts|docs|include)/'
                      r'[A-Za-z0-9_./-]+\.(?:c|h|md|py|sh|go|json|csv|map|in)\b')
    tracked = set(files) | set(os.popen('git ls-files 2>/dev/null').read().split())
    tracked |= {os.path.join(d, x)[2:] for d, _, xs in os.walk('./tests/vectors') for x in xs}
    for f in files:
        if f.startswith(('tests/fuzz/corpus/', 'tests/vectors/merkle/')) or \
           not re.search(r'\.(c|h|md|sh|py|go)$|(^|/)Makefile$|^\.ci/', f):
            continue
        for lineno, text in enumerate(read(f).split('\n'), 1):
            for m in cite.finditer(text):
                if m.group(0) not in tracked:
                    errors.append('g. %s:%d: cites %s, which is not in the repository'
                                  % (f, lineno, m.group(0)))
    # h. LMDB writes only through server/store/wset.c
    wcall = re.compile(r'\bmdb_(put|del|cursor_put|cursor_del|txn_commit|txn_begin)\s*\(')
    for f in csrc:
        if not f.startswith('server/') or f == 'server/store/wset.c':
            continue
        code = strip_code(read(f))
        for m in wcall.finditer(code):
            if m.group(1) == 'txn_begin' and 'MDB_RDONLY' in code[m.end():code.find(')', m.end())]:
                continue
            errors.append('h. %s:%d: mdb_%s outside server/store/wset.c (use the store_* '
                          'wrappers of server/store/wset.h)'
                          % (f, code.count('\n', 0, m.start()) + 1, m.group(1)))
    for w in warnings:
        print('check-style: warning: ' + w)
    for e in errors:
        print('check-style: ' + e)
    print('check-style: %d C files, %d layer exceptions listed in %s, %d error(s)'
          % (len(csrc), len(allowed), ALLOW, len(errors)))
    return 1 if errors else 0

sys.exit(main())
EOF
)
echo "$files" | python3 -c "$py" "$@" || status=1
case " $* " in *" --layers "*) exit $status ;; esac

# f. the public headers stand alone; hitlq.h needs no msgpack-c.
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/plain.c" <<'EOF'
/* plain.c - uses hitlq.h's reply accessors with no msgpack-c on the path. */
#include "hitlq.h"
int
use(const hitlq_reply *r)
{
    uint64_t u;
    size_t n;
    return hitlq_reply_get_u64(r, "id", &u) && hitlq_reply_get_str(r, "k", &n) != NULL &&
           hitlq_reply_status(r) == HITLQ_ST_OK;
}
EOF
cat >"$tmp/raw.c" <<'EOF'
/* raw.c - the optional raw MessagePack view. */
#include "hitlq_msgpack.h"
int
use(const hitlq_reply *r)
{
    return hitlq_reply_body(r)->type == MSGPACK_OBJECT_MAP && hitlq_reply_get(r, "id") != NULL;
}
EOF
hflags="-std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -Iinclude"
for h in hitlq_proto.h hitlq.h; do
    printf '#include "%s"\n' "$h" >"$tmp/alone.c"
    $CC $hflags "$tmp/alone.c" || { echo "check-style: f. include/$h does not compile alone"; status=1; }
done
$CC $hflags "$tmp/plain.c" || { echo "check-style: f. hitlq.h's accessors do not compile"; status=1; }
if $CC -std=c11 -M -Iinclude "$tmp/plain.c" | grep -q msgpack; then
    echo "check-style: f. include/hitlq.h pulls in a msgpack-c header"
    status=1
fi
# shellcheck disable=SC2046
$CC $hflags $(pkg-config --cflags msgpack) "$tmp/raw.c" ||
    { echo "check-style: f. include/hitlq_msgpack.h does not compile"; status=1; }

[ "$status" -eq 0 ] && echo "check-style: ok"
exit $status
