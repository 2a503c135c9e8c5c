#!/bin/sh
# run-tests.sh - runs every test binary of a build directory (default
# build/test: the ASan+UBSan build) from the repository root, shows each
# binary's cmocka summary, then runs the Python package's tests
# (client/python/tests, pytest under /usr/bin/python3 or $HITLQ_PYTHON)
# against that build's hitlqd, and ends with one total line
# "tests: N passed, N failed" counting both.  Exit status 0 only if
# everything passed.
set -u
dir=${1:-build/test}
cd "$(dirname "$0")/.." || exit 1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
bins_failed=""
for t in "$dir"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.o|*.d) continue ;; esac
    name=$(basename "$t")
    log="$dir/$name.log"
    echo "=== $name"
    timeout 900 "$t" >"$log" 2>&1
    rc=$?
    grep -E '^\[ *(PASSED|FAILED) *\]|^\[==========\]' "$log" | tail -n 3
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1   # crashed or sanitizer abort before cmocka's summary
    fi
    if [ "$rc" -ne 0 ]; then
        bins_failed="$bins_failed $name"
        echo "--- $name failed (exit $rc); last lines of $log:"
        tail -n 40 "$log"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
# The Python client's tests: passed/failed from pytest's JUnit XML.
py=${HITLQ_PYTHON:-/usr/bin/python3}
echo "=== python client (client/python/tests)"
if "$py" -c 'import pytest, msgpack, cryptography' 2>/dev/null; then
    log="$dir/pytest.log"
    xml="$dir/pytest.xml"
    rm -f "$xml"
    HITLQ_SERVER_BIN="$PWD/$dir/hitlqd" PYTHONDONTWRITEBYTECODE=1 timeout 900 \
        "$py" -m pytest -q -p no:cacheprovider --junitxml="$xml" client/python/tests >"$log" 2>&1
    rc=$?
    tail -n 1 "$log"
    counts=$("$py" -c '
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
s = r if r.tag == "testsuite" else r.find("testsuite")
t, f, e, k = (int(s.get(x, 0)) for x in ("tests", "failures", "errors", "skipped"))
print(t - f - e - k, f + e)' "$xml" 2>/dev/null || echo "0 0")
    p=${counts% *}
    f=${counts#* }
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1   # pytest itself failed (collection error, timeout)
    fi
    if [ "$rc" -ne 0 ]; then
        bins_failed="$bins_failed pytest"
        echo "--- pytest failed (exit $rc); last lines of $log:"
        tail -n 40 "$log"
    fi
else
    echo "--- $py lacks pytest, msgpack or cryptography: run scripts/setup.sh"
    p=0
    f=1
    bins_failed="$bins_failed pytest"
fi
passed=$((passed + p))
failed=$((failed + f))
[ -n "$bins_failed" ] && echo "failing binaries:$bins_failed"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
